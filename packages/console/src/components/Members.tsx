import { AddMemberSchema, type Member, ROLES } from '@leengine/common';
import { useState } from 'react';
import { api, seg } from '../api.ts';
import { useApi } from '../useApi.ts';
import { useConfirm } from './Confirm.tsx';
import { Field, FormError } from './Field.tsx';
import { FormSubmit } from './FormSubmit.tsx';
import { PagedTable } from './Table.tsx';
import { useForm } from './useForm.ts';

/** A resource's members: roles shown to all, changed by those whose role allows it. */
export function Members(props: { apiPath: string; canManage: boolean }) {
  const members = useApi<{ items: Member[] }>(`${props.apiPath}/members`);
  const form = useForm(AddMemberSchema, { username: undefined, role: 'developer' });
  const [error, setError] = useState<string | undefined>();
  const confirm = useConfirm(members.reload);
  const act = (fn: () => Promise<unknown>) => {
    setError(undefined);
    void fn().then(members.reload, (e: Error) => setError(e.message));
  };
  return (
    <section className="members">
      <FormError error={error ?? members.error?.message} />
      <PagedTable
        items={members.data?.items ?? []}
        label="members"
        empty={members.loading ? 'Loading…' : 'No members.'}
        headers={['Member', 'Role', 'Since', { hidden: 'Actions' }]}
        row={(m) => (
          <tr key={`${m.username}-${m.source}`} data-member={m.username}>
            <td>
              {m.displayName || m.username} <span className="muted">@{m.username}</span>
            </td>
            <td>
              {props.canManage && m.source === 'direct' ? (
                <select
                  aria-label={`role of ${m.username}`}
                  value={m.role}
                  onChange={(e) => {
                    const role = e.target.value;
                    act(() => api.put(`${props.apiPath}/members/${seg(m.username)}`, { role }));
                  }}
                >
                  {ROLES.map((r) => (
                    <option key={r} value={r}>
                      {r}
                    </option>
                  ))}
                </select>
              ) : (
                <span className="member-role">{m.role}</span>
              )}
              {m.source === 'image-group' ? <span className="muted"> (from the group)</span> : null}
            </td>
            <td>{new Date(m.since).toLocaleDateString()}</td>
            <td>
              {props.canManage && m.source === 'direct' ? (
                <button
                  type="button"
                  className="link"
                  aria-label={`remove ${m.username}`}
                  onClick={() =>
                    confirm.ask({
                      title: `Remove ${m.username}?`,
                      description: `${m.username} loses their ${m.role} role here.`,
                      confirmLabel: 'Remove member',
                      action: () => api.delete(`${props.apiPath}/members/${seg(m.username)}`),
                    })
                  }
                >
                  Remove
                </button>
              ) : null}
            </td>
          </tr>
        )}
      />
      {props.canManage ? (
        <form
          className="inline"
          aria-label="add member"
          noValidate
          onSubmit={form.submitNew((input) => api.post(`${props.apiPath}/members`, input), members.reload)}
        >
          <Field label="Username" error={form.errors.username}>
            <input
              name="member"
              autoComplete="off"
              value={String(form.values.username ?? '')}
              onChange={(e) => form.set('username', e.target.value || undefined)}
            />
          </Field>
          <Field label="Role" error={form.errors.role}>
            <select
              name="role"
              value={String(form.values.role)}
              onChange={(e) => form.set('role', e.target.value)}
            >
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </Field>
          <FormSubmit label="Add member" form={form} />
        </form>
      ) : null}
      {confirm.element}
    </section>
  );
}
