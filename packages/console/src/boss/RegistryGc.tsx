import type { RegistryGc as Gc, RegistryGcList, StartRegistryGc } from '@leengine/common';
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, api } from '../api.ts';
import { useConfirm } from '../components/Confirm.tsx';
import { Field, FormError } from '../components/Field.tsx';
import { PagedTable } from '../components/Table.tsx';
import { formatBytes } from '../format.ts';
import { useApi } from '../useApi.ts';

const PATH = '/registry/garbage-collections';

const STEP_TITLES: Record<Gc['steps'][number]['name'], string> = {
  'read-only': 'Restart read-only',
  collect: 'Collect',
  'read-write': 'Restart read-write',
};

/**
 * Garbage collection of the region registry: a dry run reports what would go; a
 * collection (confirmed first: pushes are refused while it runs) shows its steps live.
 */
export function RegistryGc() {
  const history = useApi<RegistryGcList>(PATH);
  const [current, setCurrent] = useState<Gc | null>(null);
  const [deleteUntagged, setDeleteUntagged] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const confirm = useConfirm();

  const start = async (input: StartRegistryGc) => {
    setError(undefined);
    setBusy(true);
    try {
      setCurrent(await api.post<Gc>(PATH, input));
      history.reload();
    } finally {
      setBusy(false);
    }
  };
  const running = current?.state === 'running' || busy;
  const reloadHistory = history.reload;
  const finished = useCallback(
    (gc: Gc) => {
      setCurrent(gc);
      reloadHistory();
    },
    [reloadHistory],
  );
  // 503: this core does not manage the registry's host, so there is nothing to start.
  const unmanaged = history.error instanceof ApiError && history.error.status === 503;

  return (
    <section aria-labelledby="registry-gc-title" className="registry-gc">
      <h2 id="registry-gc-title">Registry garbage collection</h2>
      <p className="muted">
        Deleted tags and repositories leave their layers on disk until a collection. A dry run reports what a
        collection would free and leaves the registry writable.
      </p>
      {history.error ? <FormError error={history.error.message} /> : null}
      {unmanaged ? null : (
        <form
          className="inline"
          aria-label="registry garbage collection"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            void start({ dryRun: true, deleteUntagged }).catch((e: Error) => setError(e.message));
          }}
        >
          <Field
            label="Delete untagged manifests"
            hint="Also deletes manifests no tag points at. Registry 2.8 counts the platform manifests of a multi-arch image (an index) among them, so a tagged multi-arch image would no longer pull: use it only on a registry that holds no indexes."
          >
            <input
              type="checkbox"
              name="deleteUntagged"
              checked={deleteUntagged}
              onChange={(e) => setDeleteUntagged(e.target.checked)}
            />
          </Field>
          <button type="submit" className="secondary" disabled={running}>
            Dry run
          </button>
          <button
            type="button"
            className="danger"
            disabled={running}
            onClick={() =>
              confirm.ask({
                title: 'Collect the registry’s garbage?',
                description: `The registry restarts read-only, deletes every blob no tagged image references${
                  deleteUntagged ? ' and every untagged manifest' : ''
                }, and restarts read-write. Pushes are refused while it runs (about a second here, longer with many repositories); pulls go on, except for the moment of each restart. Deleted blobs cannot be restored.`,
                confirmLabel: 'Collect',
                action: () => start({ dryRun: false, deleteUntagged }),
              })
            }
          >
            Collect…
          </button>
        </form>
      )}
      <FormError error={error} />
      {current ? <GcView key={current.id} gc={current} onFinished={finished} /> : null}
      <h3>History</h3>
      {history.data ? (
        <PagedTable
          items={history.data.items}
          size={5}
          label="garbage collections"
          empty="No collection has run on this core since it started."
          className="gc-history"
          headers={[
            'Started',
            'Kind',
            'By',
            'State',
            'Reclaimable',
            'Freed',
            'Pushes refused',
            { hidden: 'Details' },
          ]}
          row={(gc) => (
            <tr key={gc.id} data-gc={gc.id} data-state={gc.state}>
              <td>{new Date(gc.startedAt).toLocaleString()}</td>
              <td>
                {gc.dryRun ? 'dry run' : 'collection'}
                {gc.deleteUntagged ? ', untagged too' : ''}
              </td>
              <td>{gc.startedBy}</td>
              <td>
                {gc.state}
                {gc.error ? <span className="error"> {gc.error}</span> : null}
              </td>
              <td>{gc.report ? `${gc.report.blobs.length} blobs, ${formatBytes(gc.report.bytes)}` : '—'}</td>
              <td>{gc.bytesFreed === null ? '—' : formatBytes(gc.bytesFreed)}</td>
              <td>{gc.pushesRefusedMs === null ? '—' : `${(gc.pushesRefusedMs / 1000).toFixed(1)} s`}</td>
              <td>
                <button
                  type="button"
                  className="link"
                  aria-label={`details of ${gc.dryRun ? 'dry run' : 'collection'} ${gc.id}`}
                  onClick={() => setCurrent(gc)}
                >
                  Details
                </button>
              </td>
            </tr>
          )}
        />
      ) : history.error ? null : (
        <p className="muted">Loading…</p>
      )}
      {confirm.element}
    </section>
  );
}

/** One dry run or collection: steps (polled every second while it runs) and its report. */
function GcView(props: { gc: Gc; onFinished: (gc: Gc) => void }) {
  const [gc, setGc] = useState(props.gc);
  const [pollError, setPollError] = useState<string | undefined>();
  const onFinished = props.onFinished;
  // Only a run watched here reports its end (a finished one opened from the history does not).
  const notify = useRef(props.gc.state === 'running');
  useEffect(() => {
    if (gc.state !== 'running') {
      if (notify.current) onFinished(gc);
      notify.current = false;
      return;
    }
    const timer = setTimeout(() => {
      void api.get<Gc>(`${PATH}/${encodeURIComponent(gc.id)}`).then(
        (next) => {
          setPollError(undefined);
          setGc(next);
        },
        (e: Error) => setPollError(e.message),
      );
    }, 1000);
    return () => clearTimeout(timer);
  }, [gc, onFinished]);
  const done = gc.steps.filter((s) => s.state === 'succeeded').length;
  const kind = gc.dryRun ? 'Dry run' : 'Collection';
  const r = gc.report;
  return (
    <section
      className={`operation gc state-${gc.state}`}
      aria-label={`${kind.toLowerCase()} ${gc.id}`}
      data-gc={gc.id}
      data-state={gc.state}
    >
      <p>
        <b>{kind}</b> started {new Date(gc.startedAt).toLocaleString()} by {gc.startedBy}
        {gc.deleteUntagged ? ' (untagged manifests too)' : ''} —{' '}
        <span className="state" aria-live="polite">
          {gc.state}
        </span>
      </p>
      {gc.error ? (
        <p className="error banner" role="alert">
          {gc.error}
        </p>
      ) : null}
      <FormError error={pollError} />
      {gc.state === 'running' ? (
        <progress
          max={Math.max(1, gc.steps.length)}
          value={done}
          aria-label={`${kind}: ${done} of ${gc.steps.length} steps done`}
        />
      ) : null}
      <ol className="steps">
        {gc.steps.map((s) => (
          <li
            key={s.name}
            className={`step-${s.state === 'succeeded' ? 'done' : s.state}`}
            data-step={s.name}
          >
            {STEP_TITLES[s.name]} <span className="muted">{s.state}</span>
            {s.durationMs !== null ? ` (${(s.durationMs / 1000).toFixed(2)} s)` : ''}
            {s.startedAt ? (
              <span className="muted">
                {' '}
                {new Date(s.startedAt).toLocaleTimeString()}
                {s.finishedAt ? `–${new Date(s.finishedAt).toLocaleTimeString()}` : ''}
              </span>
            ) : null}
          </li>
        ))}
      </ol>
      {r ? (
        <dl className="facts gc-report">
          <dt>{gc.dryRun ? 'Reclaimable' : 'Deleted'}</dt>
          <dd data-fact="reclaimable">
            {r.blobs.length} blobs, {formatBytes(r.bytes)}
          </dd>
          <dt>Kept</dt>
          <dd>{r.markedBlobs} blobs</dd>
          <dt>All blobs</dt>
          <dd>{formatBytes(r.blobBytes)}</dd>
          {gc.deleteUntagged ? (
            <>
              <dt>Untagged manifests</dt>
              <dd>
                {r.manifests.map((m) => `${m.repository}@${m.digest.slice(0, 19)}`).join(', ') || 'none'}
              </dd>
            </>
          ) : null}
          {gc.bytesFreed !== null ? (
            <>
              <dt>Freed</dt>
              <dd data-fact="freed">{formatBytes(gc.bytesFreed)}</dd>
            </>
          ) : null}
          {gc.pushesRefusedMs !== null ? (
            <>
              <dt>Pushes refused for</dt>
              <dd data-fact="pushes-refused">{(gc.pushesRefusedMs / 1000).toFixed(2)} s</dd>
            </>
          ) : null}
        </dl>
      ) : null}
    </section>
  );
}
