import { type ReactNode, useState } from 'react';
import { Link } from 'react-router';
import { api } from '../api.ts';
import type { KindSpec } from '../resources.ts';
import { useSession } from '../session.tsx';
import { Field, FormError } from './Field.tsx';
import { Paged } from './Paged.tsx';
import { useForm } from './useForm.ts';

interface Owned {
  createdBy: string;
  callerRole: string | null;
}

/** A kind's list ("created by me" / "I participate in" / all for admins) and its create form. */
export function ResourceList<T extends Owned>(props: {
  spec: KindSpec<T>;
  listPath?: string;
  createPath?: string;
}) {
  const { user } = useSession();
  const [filter, setFilter] = useState<'all' | 'mine' | 'participating'>('all');
  const [reloadKey, setReloadKey] = useState(0);
  const spec = props.spec;
  const visible = (items: T[]) =>
    items.filter((i) =>
      filter === 'mine'
        ? i.createdBy === user?.username
        : filter === 'participating'
          ? i.createdBy !== user?.username
          : true,
    );
  return (
    <section className="resource-list">
      <div className="toolbar">
        <h2>{spec.plural}</h2>
        <select
          aria-label="filter"
          value={filter}
          onChange={(e) => setFilter(e.target.value as typeof filter)}
        >
          <option value="all">All I can see</option>
          <option value="mine">Created by me</option>
          <option value="participating">I participate in</option>
        </select>
      </div>
      {spec.createSchema ? (
        <CreateForm
          spec={spec}
          path={props.createPath ?? spec.listPath}
          onCreated={() => setReloadKey((k) => k + 1)}
        />
      ) : null}
      <Paged<T>
        path={props.listPath ?? spec.listPath}
        searchable
        reloadKey={reloadKey}
        empty={`No ${spec.plural.toLowerCase()} yet.`}
        render={(items) => (
          <ul className="items">
            {visible(items).map((item) => (
              <li key={spec.route(item)}>
                <Link to={spec.route(item)}>{spec.label(item)}</Link>
                <span className="muted"> {spec.summary(item)}</span>
                <span className="role">{item.callerRole ?? (user?.admin ? 'admin' : 'public')}</span>
              </li>
            ))}
          </ul>
        )}
      />
    </section>
  );
}

function CreateForm<T>(props: { spec: KindSpec<T>; path: string; onCreated: () => void }): ReactNode {
  const spec = props.spec;
  const initial = Object.fromEntries(
    spec.createFields.map((f) => [f.name, f.type === 'checkbox' ? false : undefined]),
  );
  // Empty optional fields are left out so the schema's defaults apply.
  const form = useForm(spec.createSchema as NonNullable<typeof spec.createSchema>, initial);
  const [open, setOpen] = useState(false);
  if (!open) {
    return (
      <button type="button" onClick={() => setOpen(true)}>
        New {spec.title.toLowerCase()}
      </button>
    );
  }
  return (
    <form
      className="create"
      aria-label={`new ${spec.title.toLowerCase()}`}
      onSubmit={form.submitNew(
        (input) => api.post(props.path, input),
        () => {
          setOpen(false);
          props.onCreated();
        },
      )}
    >
      {spec.createFields.map((f) => (
        <Field key={f.name} label={f.label} error={form.errors[f.name]} {...(f.hint ? { hint: f.hint } : {})}>
          {f.type === 'checkbox' ? (
            <input
              name={f.name}
              type="checkbox"
              checked={Boolean(form.values[f.name])}
              onChange={(e) => form.set(f.name, e.target.checked)}
            />
          ) : (
            <input
              name={f.name}
              value={String(form.values[f.name] ?? '')}
              onChange={(e) => form.set(f.name, e.target.value === '' ? undefined : e.target.value)}
            />
          )}
        </Field>
      ))}
      <FormError error={form.formError} />
      <button type="submit" disabled={form.busy}>
        Create
      </button>
      <button type="button" className="link" onClick={() => setOpen(false)}>
        Cancel
      </button>
    </form>
  );
}
