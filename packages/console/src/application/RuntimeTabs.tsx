import type { ApplicationEvent, ContainerList, Operation, Version } from '@leengine/common';
import { useState } from 'react';
import { api, query, seg } from '../api.ts';
import { Paged } from '../components/Paged.tsx';
import { useApi } from '../useApi.ts';
import { OperationView } from './OperationView.tsx';

/** Versions with their instances per cell; scale and rollback where the role allows. */
export function VersionsTab(props: {
  application: string;
  canScale: boolean;
  canRollback: boolean;
  reloadKey: number;
  onOperation: (op: Operation) => void;
}) {
  const base = `/applications/${seg(props.application)}`;
  const versions = useApi<{ items: Version[] }>(`${base}/versions?k=${props.reloadKey}`);
  const start = (path: string, body: unknown) =>
    void api.post<Operation>(path, body).then(props.onOperation, (e: Error) => alert(e.message));
  return (
    <table className="versions">
      <thead>
        <tr>
          <th>Version</th>
          <th>Image</th>
          <th>State</th>
          <th>Instances (ready/desired per cell)</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {(versions.data?.items ?? []).map((v) => (
          <tr key={v.name} data-version={v.name}>
            <td>{v.name}</td>
            <td>
              <code>
                {v.image.repository}:{v.image.tag}
              </code>
            </td>
            <td>{v.state}</td>
            <td>
              {v.status.map((s) => (
                <span key={s.cell} className="cellstatus">
                  {s.cell}: {s.ready}/{s.desired}
                </span>
              ))}
            </td>
            <td>
              {v.state === 'active' && props.canScale ? (
                <button
                  type="button"
                  className="link"
                  onClick={() => {
                    const n = prompt(
                      `Instances per cell for ${v.name}`,
                      String(Object.values(v.instances)[0] ?? 1),
                    );
                    if (n !== null)
                      start(`${base}/versions/${seg(v.name)}/scale`, {
                        instances: Number(n) * Object.keys(v.instances).length,
                      });
                  }}
                >
                  Scale
                </button>
              ) : null}
              {v.state === 'retired' && props.canRollback ? (
                <button
                  type="button"
                  className="link"
                  onClick={() => start(`${base}/rollback`, { version: v.name })}
                >
                  Roll back to this
                </button>
              ) : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The containers the seed's operators troubleshoot by: cell, node, IP, state; logs. */
export function ContainersTab(props: { application: string; canReadLogs: boolean }) {
  const base = `/applications/${seg(props.application)}`;
  const list = useApi<ContainerList>(`${base}/containers`);
  const [log, setLog] = useState<{ pod: string; text: string } | null>(null);
  const showLog = (cell: string, pod: string) =>
    void fetch(`/api/v1${base}/cells/${seg(cell)}/containers/${seg(pod)}/logs${query({ tail: 200 })}`, {
      credentials: 'same-origin',
    })
      .then((r) => r.text())
      .then((text) => setLog({ pod, text }));
  return (
    <div>
      {list.data?.unreachableCells.map((c) => (
        <p key={c.cell} className="error">
          Cell {c.cell} did not answer: {c.error}
        </p>
      ))}
      <button type="button" className="link" onClick={list.reload}>
        Refresh
      </button>
      <table className="containers">
        <thead>
          <tr>
            <th>Container</th>
            <th>Version</th>
            <th>Cell</th>
            <th>Node</th>
            <th>IP</th>
            <th>Status</th>
            <th>Restarts</th>
            <th>Started</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(list.data?.items ?? []).map((c) => (
            <tr key={`${c.cell}/${c.name}`}>
              <td>{c.name}</td>
              <td>{c.version}</td>
              <td>{c.cell}</td>
              <td>{c.node}</td>
              <td>
                <code>{c.ip}</code>
              </td>
              <td>
                {c.phase}
                {c.ready ? ', ready' : c.reason ? ` (${c.reason})` : ''}
              </td>
              <td>{c.restarts}</td>
              <td>{c.startedAt ? new Date(c.startedAt).toLocaleString() : '—'}</td>
              <td>
                {props.canReadLogs ? (
                  <button type="button" className="link" onClick={() => showLog(c.cell, c.name)}>
                    Logs
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {log ? (
        <section>
          <h2>Log of {log.pod}</h2>
          <pre className="copy log">{log.text || '(empty)'}</pre>
        </section>
      ) : null}
    </div>
  );
}

/** Kubernetes events of the application's namespaces from every cell, and the platform's own. */
export function EventsTab(props: { application: string }) {
  return (
    <Paged<ApplicationEvent>
      path={`/applications/${seg(props.application)}/events`}
      empty="No events yet."
      render={(items) => (
        <table className="events">
          <thead>
            <tr>
              <th>Last seen</th>
              <th>Cell</th>
              <th>Type</th>
              <th>Reason</th>
              <th>Object</th>
              <th>Message</th>
            </tr>
          </thead>
          <tbody>
            {items.map((e) => (
              <tr key={e.id} className={e.type === 'Warning' ? 'failed' : ''}>
                <td>{new Date(e.lastSeen).toLocaleString()}</td>
                <td>{e.cell ?? 'platform'}</td>
                <td>{e.type}</td>
                <td>{e.reason}</td>
                <td>{e.object}</td>
                <td>
                  {e.message}
                  {e.count > 1 ? ` (×${e.count})` : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    />
  );
}

/** Operations (gray upgrades, rollbacks, scalings) with their steps. */
export function OperationsTab(props: { application: string; reloadKey: number }) {
  return (
    <Paged<Operation>
      path={`/applications/${seg(props.application)}/operations`}
      reloadKey={props.reloadKey}
      empty="No operations yet."
      render={(items) => (
        <div>
          {items.map((op) => (
            <OperationView key={op.id} operation={op} />
          ))}
        </div>
      )}
    />
  );
}
