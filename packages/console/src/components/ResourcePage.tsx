import type { Access } from '@leengine/common';
import { type ReactNode, useState } from 'react';
import { useNavigate } from 'react-router';
import { api } from '../api.ts';
import { useApi } from '../useApi.ts';
import { ActivityList } from './ActivityList.tsx';
import { useConfirm } from './Confirm.tsx';
import { Members } from './Members.tsx';

/**
 * One resource: its own tabs (`tabs`) plus members and activity, with buttons shown
 * only for what the caller's role allows (GET …/access, from the permission table).
 * `deletable` names the resource for its delete button (shown with the `delete` action)
 * and where to go once it is gone.
 */
export function ResourcePage(props: {
  apiPath: string;
  title: ReactNode;
  subtitle?: ReactNode;
  deletable?: { what: string; afterwards: string; consequence: string };
  /** A tab with `action` shows only to callers whose role allows that action. */
  tabs: { id: string; title: string; action?: string; render: (access: Access) => ReactNode }[];
}) {
  const access = useApi<Access>(`${props.apiPath}/access`);
  const [tab, setTab] = useState(props.tabs[0]?.id ?? 'members');
  const navigate = useNavigate();
  const confirm = useConfirm();
  if (access.error) return <p className="error">{access.error.message}</p>;
  if (!access.data) return <p className="muted">Loading…</p>;
  const a = access.data;
  const all = [
    ...props.tabs.filter((t) => t.action === undefined || a.actions.includes(t.action)),
    {
      id: 'members',
      title: 'Members',
      render: () => <Members apiPath={props.apiPath} canManage={a.actions.includes('manage-members')} />,
    },
    ...(a.actions.includes('read-activity')
      ? [
          {
            id: 'activity',
            title: 'Activity',
            render: () => <ActivityList path={`${props.apiPath}/activity`} />,
          },
        ]
      : []),
  ];
  const current = all.find((t) => t.id === tab) ?? all[0];
  const deletable = props.deletable;
  return (
    <article className="resource">
      <div className="toolbar">
        <h1>{props.title}</h1>
        {deletable && a.actions.includes('delete') ? (
          <button
            type="button"
            className="danger"
            onClick={() =>
              confirm.ask({
                title: `Delete ${deletable.what}?`,
                description: deletable.consequence,
                confirmLabel: `Delete ${deletable.what}`,
                action: async () => {
                  await api.delete(props.apiPath);
                  navigate(deletable.afterwards);
                },
              })
            }
          >
            Delete
          </button>
        ) : null}
      </div>
      {props.subtitle ? <p className="muted">{props.subtitle}</p> : null}
      <p className="role">
        Your role: <b>{a.role ?? (a.admin ? 'admin' : 'none (public)')}</b>
      </p>
      <div className="tabs" role="tablist" aria-label="sections">
        {all.map((t) => (
          <button
            key={t.id}
            id={`tab-${t.id}`}
            type="button"
            role="tab"
            aria-selected={t.id === current?.id}
            aria-controls="tabpanel"
            tabIndex={t.id === current?.id ? 0 : -1}
            className={t.id === current?.id ? 'active' : ''}
            onClick={() => setTab(t.id)}
            onKeyDown={(e) => {
              if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
              const i = all.findIndex((x) => x.id === current?.id);
              const next = all[(i + (e.key === 'ArrowRight' ? 1 : all.length - 1)) % all.length];
              if (next) {
                setTab(next.id);
                document.getElementById(`tab-${next.id}`)?.focus();
              }
            }}
          >
            {t.title}
          </button>
        ))}
      </div>
      <div role="tabpanel" id="tabpanel" aria-labelledby={`tab-${current?.id}`}>
        {current?.render(a)}
      </div>
      {confirm.element}
    </article>
  );
}
