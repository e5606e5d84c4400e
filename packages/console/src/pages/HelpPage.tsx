import type { PermissionTable } from '@leengine/common';
import { useApi } from '../useApi.ts';

/** The role × permission table of every resource, straight from /api/v1/permissions. */
export function HelpPage() {
  const table = useApi<PermissionTable>('/permissions');
  if (!table.data) return <p className="muted">{table.error?.message ?? 'Loading…'}</p>;
  const roles = table.data.roles;
  return (
    <article className="help">
      <h1>Roles and permissions</h1>
      <ul>
        {table.data.rules.map((rule) => (
          <li key={rule}>{rule}</li>
        ))}
      </ul>
      {table.data.resources.map((resource) => (
        <section key={resource.kind}>
          <h2>{resource.title}</h2>
          <table className="permissions" data-kind={resource.kind}>
            <thead>
              <tr>
                <th>Action</th>
                {roles.map((r) => (
                  <th key={r.role}>{r.title}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {resource.actions.map((a) => (
                <tr key={a.action}>
                  <td>
                    <b>{a.action}</b>
                    <div className="muted">
                      {a.description}
                      {a.public ? ' (everyone, on public resources)' : ''}
                    </div>
                  </td>
                  {roles.map((r) => (
                    <td key={r.role} className="mark">
                      {a.roles.includes(r.role) ? '✓' : ''}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ))}
    </article>
  );
}
