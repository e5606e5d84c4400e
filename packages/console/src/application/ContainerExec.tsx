import { ExecRequestSchema, type ExecResult } from '@leengine/common';
import { useState } from 'react';
import { api, seg } from '../api.ts';
import { Field, FormError } from '../components/Field.tsx';
import { useSubmit } from '../components/useSubmit.ts';

/**
 * Runs a command in a container (role exec), as `kubectl exec`: by default the line goes
 * to the container's own shell (`sh -c LINE`); without it, the line is split on spaces
 * into the program and its arguments. Shows the exit code, how long it took, and what
 * the command wrote. Every command run is in the application's activity feed.
 */
export function ContainerExec(props: { base: string; cell: string; pod: string; onClose: () => void }) {
  const [line, setLine] = useState('');
  const [shell, setShell] = useState(true);
  const [timeoutSeconds, setTimeoutSeconds] = useState('30');
  const [result, setResult] = useState<ExecResult | null>(null);
  const { errors, formError, busy, send } = useSubmit();
  const submit = () => {
    const command = shell ? ['sh', '-c', line] : line.split(/\s+/).filter(Boolean);
    return send(ExecRequestSchema, { command, timeoutSeconds: Number(timeoutSeconds) }, async (input) => {
      setResult(null);
      setResult(
        await api.post<ExecResult>(
          `${props.base}/cells/${seg(props.cell)}/containers/${seg(props.pod)}/exec`,
          input,
        ),
      );
    });
  };
  return (
    <section aria-labelledby="container-exec-title">
      <div className="toolbar">
        <h2 id="container-exec-title">Run a command in {props.pod}</h2>
        <button type="button" className="link" onClick={props.onClose}>
          Close
        </button>
      </div>
      <form
        className="inline"
        aria-label={`run a command in ${props.pod}`}
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <Field label="Command" error={errors.command} hint="recorded in the activity feed">
          <input
            name="exec-command"
            value={line}
            spellCheck={false}
            onChange={(e) => setLine(e.target.value)}
          />
        </Field>
        <Field label="Timeout (seconds)" error={errors.timeoutSeconds}>
          <input
            name="exec-timeout"
            inputMode="numeric"
            value={timeoutSeconds}
            onChange={(e) => setTimeoutSeconds(e.target.value)}
          />
        </Field>
        <label>
          <input type="checkbox" checked={shell} onChange={(e) => setShell(e.target.checked)} /> through the
          container's shell (sh -c)
        </label>
        <button type="submit" disabled={busy}>
          Run
        </button>
        <FormError error={formError} />
      </form>
      {result ? (
        <div className="exec-result" data-exit-code={result.exitCode ?? 'timeout'}>
          <p>
            {result.timedOut ? `Stopped after the timeout` : `Exit code ${result.exitCode}`} ·{' '}
            {result.durationMs} ms{result.truncated ? ' · output cut at 1 MiB per stream' : ''}
          </p>
          <h3>stdout</h3>
          <pre className="copy log" data-stream="stdout">
            {result.stdout || '(no output)'}
          </pre>
          {result.stderr ? <h3>stderr</h3> : null}
          {result.stderr ? (
            <pre className="copy log error" data-stream="stderr">
              {result.stderr}
            </pre>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
