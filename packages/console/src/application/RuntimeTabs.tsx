import {
  type ApplicationEvent,
  type ContainerList,
  type Operation,
  ScaleVersionSchema,
  type Version,
} from '@leengine/common';
import { useEffect, useState } from 'react';
import { ApiError, api, seg } from '../api.ts';
import { useConfirm } from '../components/Confirm.tsx';
import { Dialog } from '../components/Dialog.tsx';
import { Field, FormError } from '../components/Field.tsx';
import { Paged } from '../components/Paged.tsx';
import { PagedTable, Table } from '../components/Table.tsx';
import { useApi } from '../useApi.ts';
import { ContainerExec } from './ContainerExec.tsx';
import { ContainerLog } from './ContainerLog.tsx';
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
  const [scaling, setScaling] = useState<Version | null>(null);
  const confirm = useConfirm();
  return (
    <>
      <PagedTable
        items={versions.data?.items ?? []}
        label="versions"
        size={10}
        empty={versions.loading ? 'Loading…' : 'No version deployed yet.'}
        className="versions"
        headers={['Version', 'Image', 'State', 'Instances (ready/desired per cell)', { hidden: 'Actions' }]}
        row={(v) => (
          <tr key={v.name} data-version={v.name} data-state={v.state}>
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
                <button type="button" className="link" onClick={() => setScaling(v)}>
                  Scale
                </button>
              ) : null}
              {v.state === 'retired' && props.canRollback ? (
                <button
                  type="button"
                  className="link"
                  onClick={() =>
                    confirm.ask({
                      title: `Roll back to ${v.name}?`,
                      description: `${v.name} (${v.image.repository}:${v.image.tag}) runs again and replaces the current version.`,
                      confirmLabel: 'Roll back',
                      action: async () =>
                        props.onOperation(await api.post<Operation>(`${base}/rollback`, { version: v.name })),
                    })
                  }
                >
                  Roll back to this
                </button>
              ) : null}
            </td>
          </tr>
        )}
      />
      {scaling ? (
        <ScaleDialog
          application={props.application}
          version={scaling}
          onClose={() => setScaling(null)}
          onStarted={(op) => {
            setScaling(null);
            props.onOperation(op);
          }}
        />
      ) : null}
      {confirm.element}
    </>
  );
}

/** Instances per cell for one running version, checked before it is sent. */
function ScaleDialog(props: {
  application: string;
  version: Version;
  onClose: () => void;
  onStarted: (op: Operation) => void;
}) {
  const cells = Object.keys(props.version.instances);
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(cells.map((c) => [c, String(props.version.instances[c] ?? 0)])),
  );
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    setFormError(undefined);
    const body = {
      instances: Object.fromEntries(
        cells.map((c) => [c, values[c]?.trim() === '' ? Number.NaN : Number(values[c])]),
      ),
    };
    const parsed = ScaleVersionSchema.safeParse(body);
    if (!parsed.success) {
      setErrors(
        Object.fromEntries(parsed.error.issues.map((i) => [String(i.path[1] ?? i.path[0] ?? ''), i.message])),
      );
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      props.onStarted(
        await api.post<Operation>(
          `/applications/${seg(props.application)}/versions/${seg(props.version.name)}/scale`,
          parsed.data,
        ),
      );
    } catch (error) {
      if (error instanceof ApiError) {
        const fields = Object.fromEntries(
          Object.entries(error.fields).map(([k, v]) => [k.split('.')[1] ?? k, v]),
        );
        setErrors(fields);
        if (Object.keys(fields).length === 0) setFormError(error.message);
      } else setFormError(String(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog title={`Scale ${props.version.name}`} onClose={props.onClose}>
      <form
        aria-label={`scale ${props.version.name}`}
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        {cells.map((cell) => (
          <Field key={cell} label={`Instances in ${cell}`} error={errors[cell]}>
            <input
              name={`instances-${cell}`}
              inputMode="numeric"
              value={values[cell] ?? ''}
              onChange={(e) => setValues((v) => ({ ...v, [cell]: e.target.value }))}
            />
          </Field>
        ))}
        <FormError error={formError ?? errors.instances} />
        <div className="dialog-buttons">
          <button type="button" className="secondary" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" disabled={busy}>
            {busy ? 'Starting…' : 'Scale'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** The containers the seed's operators troubleshoot by: cell, node, IP, state; logs; exec. */
export function ContainersTab(props: { application: string; canReadLogs: boolean; canExec: boolean }) {
  const base = `/applications/${seg(props.application)}`;
  const list = useApi<ContainerList>(`${base}/containers`);
  const reload = list.reload;
  // Containers come and go during upgrades and scalings: the table follows every few seconds.
  useEffect(() => {
    const timer = setInterval(reload, 5000);
    return () => clearInterval(timer);
  }, [reload]);
  const [log, setLog] = useState<{ cell: string; pod: string } | null>(null);
  const showLog = (cell: string, pod: string) => setLog({ cell, pod });
  const [exec, setExec] = useState<{ cell: string; pod: string } | null>(null);
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
      <PagedTable
        error={list.error}
        items={list.data?.items ?? []}
        label="containers"
        empty={list.loading ? 'Loading…' : 'No containers.'}
        className="containers"
        headers={[
          'Container',
          'Version',
          'Cell',
          'Node',
          'IP',
          'Status',
          'Restarts',
          'Started',
          { hidden: 'Logs and exec' },
        ]}
        row={(c) => (
          <tr key={`${c.cell}/${c.name}`} data-ready={c.ready}>
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
                <button
                  type="button"
                  className="link"
                  aria-label={`logs of ${c.name}`}
                  onClick={() => showLog(c.cell, c.name)}
                >
                  Logs
                </button>
              ) : null}{' '}
              {props.canExec ? (
                <button
                  type="button"
                  className="link"
                  aria-label={`run a command in ${c.name}`}
                  onClick={() => setExec({ cell: c.cell, pod: c.name })}
                >
                  Exec
                </button>
              ) : null}
            </td>
          </tr>
        )}
      />
      {log ? (
        <ContainerLog
          key={`${log.cell}/${log.pod}`}
          base={base}
          cell={log.cell}
          pod={log.pod}
          onClose={() => setLog(null)}
        />
      ) : null}
      {exec ? (
        <ContainerExec
          key={`${exec.cell}/${exec.pod}`}
          base={base}
          cell={exec.cell}
          pod={exec.pod}
          onClose={() => setExec(null)}
        />
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
        <Table
          className="events"
          headers={['Last seen', 'Cell', 'Type', 'Reason', 'Object', 'Message']}
          items={items}
          row={(e) => (
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
          )}
        />
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
