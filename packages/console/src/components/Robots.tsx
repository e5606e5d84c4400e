import { type CreatedRobot, CreateRobotSchema, ROBOT_ACTIONS, type Robot } from '@leengine/common';
import { useState } from 'react';
import { api, seg } from '../api.ts';
import { useApi } from '../useApi.ts';
import { useConfirm } from './Confirm.tsx';
import { Field } from './Field.tsx';
import { FormSubmit } from './FormSubmit.tsx';
import { NumberInput } from './NumberInput.tsx';
import { SecretDialog } from './SecretDialog.tsx';
import { PagedTable } from './Table.tsx';
import { useForm } from './useForm.ts';

/** What a new robot holds unless changed: the API's own defaults per owner. */
const DEFAULT_ACTIONS = { 'image-group': ['pull'], 'build-project': ['pull', 'push'] } as const;

function day(iso: string | null): string {
  return iso ? new Date(iso).toLocaleString() : 'never';
}

/**
 * Robot accounts of an image group or a build project (`manage-robots`): the list
 * (actions, expiry, last use), a new robot whose secret is shown once, delete after
 * confirming.
 */
export function Robots(props: { apiPath: string; owner: keyof typeof DEFAULT_ACTIONS }) {
  const path = `${props.apiPath}/robots`;
  const robots = useApi<{ items: Robot[] }>(path);
  const confirm = useConfirm(robots.reload);
  const [created, setCreated] = useState<CreatedRobot | null>(null);
  const form = useForm(CreateRobotSchema, {
    name: undefined,
    actions: [...DEFAULT_ACTIONS[props.owner]],
    expiresInDays: 30,
  });
  const actions = (form.values.actions as string[] | undefined) ?? [];
  return (
    <div>
      <form
        className="inline"
        aria-label="new robot"
        noValidate
        onSubmit={form.submitNew(
          async (input) => setCreated(await api.post<CreatedRobot>(path, input)),
          robots.reload,
        )}
      >
        <Field label="Robot name" error={form.errors.name}>
          <input
            name="name"
            value={String(form.values.name ?? '')}
            onChange={(e) => form.set('name', e.target.value || undefined)}
          />
        </Field>
        <fieldset
          className="actions"
          aria-describedby={form.errors.actions ? 'robot-actions-error' : undefined}
        >
          <legend className="field-label">Actions</legend>
          {ROBOT_ACTIONS.map((a) => (
            <label key={a}>
              <input
                type="checkbox"
                name={`action-${a}`}
                checked={actions.includes(a)}
                onChange={(e) =>
                  form.set(
                    'actions',
                    e.target.checked
                      ? ROBOT_ACTIONS.filter((x) => x === a || actions.includes(x))
                      : actions.filter((x) => x !== a),
                  )
                }
              />{' '}
              {a}
            </label>
          ))}
          {form.errors.actions ? (
            <span id="robot-actions-error" className="error" role="alert">
              {form.errors.actions}
            </span>
          ) : null}
        </fieldset>
        <Field label="Expires in (days)" error={form.errors.expiresInDays} hint="1 to 366">
          <NumberInput form={form} name="expiresInDays" type="number" min={1} max={366} />
        </Field>
        <FormSubmit label="New robot" form={form} />
      </form>
      <PagedTable
        error={robots.error}
        items={robots.data?.items ?? []}
        size={10}
        label="robots"
        empty={robots.data ? 'No robot accounts yet.' : undefined}
        className="robots"
        headers={['Name', 'Username', 'Actions', 'Expires', 'Last used', 'Created by', { hidden: 'Delete' }]}
        row={(r) => (
          <tr key={r.name} data-robot={r.name}>
            <td>{r.name}</td>
            <td>
              <code>{r.username}</code>
            </td>
            <td>{r.actions.join(', ')}</td>
            <td>{day(r.expiresAt)}</td>
            <td>{day(r.lastUsedAt)}</td>
            <td>{r.createdBy}</td>
            <td>
              <button
                type="button"
                className="danger"
                aria-label={`delete robot ${r.name}`}
                onClick={() =>
                  confirm.ask({
                    title: `Delete robot ${r.name}?`,
                    description: `${r.username} can no longer get registry tokens; tokens it already holds live out their five minutes.`,
                    confirmLabel: 'Delete robot',
                    action: () => api.delete(`${path}/${seg(r.name)}`),
                  })
                }
              >
                Delete
              </button>
            </td>
          </tr>
        )}
      />
      {created ? (
        <SecretDialog
          title={`Robot ${created.name} created`}
          label="robot secret"
          secret={created.secret}
          details={[
            { label: 'Username', value: created.username },
            { label: 'Actions', value: created.actions.join(', ') },
            { label: 'Expires', value: day(created.expiresAt) },
          ]}
          onClose={() => setCreated(null)}
        />
      ) : null}
      {confirm.element}
    </div>
  );
}
