import type { Operation } from '@leengine/common';
import { useEffect, useRef, useState } from 'react';
import { api, seg } from '../api.ts';

const FINISHED = new Set(['succeeded', 'failed', 'aborted']);

/** A tracked operation (gray upgrade, rollback, scale) with its steps, live until it ends. */
export function OperationView(props: { operation: Operation; onFinished?: () => void }) {
  const [op, setOp] = useState(props.operation);
  const notified = useRef(false);
  const onFinished = props.onFinished;
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
  return (
    <div className={`operation state-${op.state}`} data-state={op.state}>
      <p>
        <b>
          {op.kind} {op.version}
        </b>{' '}
        {op.replaces.length ? `replacing ${op.replaces.join(', ')} ` : ''}—{' '}
        <span className="state">{op.state}</span>
        {op.error ? <span className="error"> {op.error}</span> : null}
        {!FINISHED.has(op.state) ? (
          <button
            type="button"
            className="link"
            onClick={() =>
              void api
                .post<Operation>(`/applications/${seg(op.application)}/operations/${op.id}/abort`)
                .then(setOp)
            }
          >
            {' '}
            Abort
          </button>
        ) : null}
      </p>
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
    </div>
  );
}
