import type { Operation } from '@leengine/common';
import { useEffect, useRef, useState } from 'react';
import { api, seg } from '../api.ts';
import { useConfirm } from '../components/Confirm.tsx';

const FINISHED = new Set(['succeeded', 'failed', 'aborted']);

/** A tracked operation (gray upgrade, rollback, scale) with its steps, live until it ends. */
export function OperationView(props: { operation: Operation; onFinished?: () => void }) {
  const [op, setOp] = useState(props.operation);
  const notified = useRef(false);
  const onFinished = props.onFinished;
  const confirm = useConfirm();
  useEffect(() => {
    if (FINISHED.has(op.state)) {
      if (!notified.current) onFinished?.();
      notified.current = true;
      return;
    }
    const timer = setTimeout(() => {
      void api
        .get<Operation>(`/applications/${seg(op.application)}/operations/${op.id}`)
        .then(setOp, () => {});
    }, 1000);
    return () => clearTimeout(timer);
  }, [op, onFinished]);
  const done = op.steps.filter((s) => s.state === 'done').length;
  const live = !FINISHED.has(op.state);
  return (
    <div className={`operation state-${op.state}`} data-state={op.state} data-operation={op.id}>
      <p>
        <b>
          {op.kind} {op.version}
        </b>{' '}
        {op.replaces.length ? `replacing ${op.replaces.join(', ')} ` : ''}—{' '}
        <span className="state" aria-live="polite">
          {op.state}
        </span>
        {op.error ? <span className="error"> {op.error}</span> : null}
        {live ? (
          <>
            {' '}
            <button
              type="button"
              className="link"
              onClick={() =>
                confirm.ask({
                  title: `Abort ${op.kind} ${op.version}?`,
                  description:
                    'The operation stops before the old version leaves the load balancer; a deploy then removes its new version.',
                  confirmLabel: 'Abort operation',
                  action: async () =>
                    setOp(
                      await api.post<Operation>(
                        `/applications/${seg(op.application)}/operations/${op.id}/abort`,
                      ),
                    ),
                })
              }
            >
              Abort
            </button>
          </>
        ) : null}
      </p>
      {live ? (
        <progress
          max={Math.max(1, op.steps.length)}
          value={done}
          aria-label={`${op.kind} ${op.version}: ${done} of ${op.steps.length} steps done`}
        />
      ) : null}
      <ol className="steps">
        {op.steps.map((s) => (
          <li key={s.name} className={`step-${s.state}`}>
            {s.title} <span className="muted">{s.state}</span>
            {s.progress ? ` ${s.progress.done}/${s.progress.total}` : ''}
            {s.startedAt && s.finishedAt
              ? ` (${((Date.parse(s.finishedAt) - Date.parse(s.startedAt)) / 1000).toFixed(1)} s)`
              : ''}
            {s.message ? <span className="muted"> — {s.message}</span> : null}
          </li>
        ))}
      </ol>
      {confirm.element}
    </div>
  );
}
