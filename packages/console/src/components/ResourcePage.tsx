import type { Access } from '@leengine/common';
import { type ReactNode, useState } from 'react';
import { useApi } from '../useApi.ts';
import { ActivityList } from './ActivityList.tsx';
import { Members } from './Members.tsx';

/**
 * One resource: its own tabs (`tabs`) plus members and activity, with buttons shown
 * only for what the caller's role allows (GET …/access, from the permission table).
 */
export function ResourcePage(props: {
  apiPath: string;
  title: ReactNode;
  subtitle?: ReactNode;
  tabs: { id: string; title: string; render: (access: Access) => ReactNode }[];
}) {
  const access = useApi<Access>(`${props.apiPath}/access`);
  const [tab, setTab] = useState(props.tabs[0]?.id ?? 'members');
  if (access.error) return <p className="error">{access.error.message}</p>;
  if (!access.data) return <p className="muted">Loading…</p>;
  const a = access.data;
  const all = [
    ...props.tabs,
    {
      id: 'members',
      title: 'Members',
      render: () => <Members apiPath={props.apiPath} canManage={a.actions.includes('manage-members')} />,
    },
    ...(a.actions.includes('read-activity') || a.admin || a.role
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
  return (
    <article className="resource">
      <h1>{props.title}</h1>
      {props.subtitle ? <p className="muted">{props.subtitle}</p> : null}
      <p className="role">
        Your role: <b>{a.role ?? (a.admin ? 'admin' : 'none (public)')}</b>
      </p>
      <div className="tabs" role="tablist">
        {all.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            aria-selected={t.id === current?.id}
            className={t.id === current?.id ? 'active' : ''}
            onClick={() => setTab(t.id)}
          >
            {t.title}
          </button>
        ))}
      </div>
      <div role="tabpanel">{current?.render(a)}</div>
    </article>
  );
}
