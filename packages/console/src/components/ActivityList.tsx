import type { Activity } from '@leengine/common';
import { Paged } from './Paged.tsx';
import { Table } from './Table.tsx';

/** An activity ("dynamic") feed: who did what, when, with what result. */
export function ActivityList(props: { path: string; reloadKey?: number }) {
  return (
    <Paged<Activity>
      path={props.path}
      empty="No activity yet."
      {...(props.reloadKey === undefined ? {} : { reloadKey: props.reloadKey })}
      render={(items) => (
        <Table
          className="activity"
          headers={['When', 'Who', 'What', 'On', 'Result']}
          items={items}
          row={(a) => (
            <tr key={a.id} className={a.result === 'failed' ? 'failed' : ''}>
              <td>{new Date(a.at).toLocaleString()}</td>
              <td>{a.actor}</td>
              <td>{a.action}</td>
              <td>
                {a.resource.kind} {a.resource.name}
              </td>
              <td>{a.result === 'failed' ? `failed (${a.error ?? ''})` : 'ok'}</td>
            </tr>
          )}
        />
      )}
    />
  );
}
