import { Writable } from 'node:stream';
import { Exec, type KubeConfig, type V1Status } from '@kubernetes/client-node';

/** What a command run in a container gave back. */
export interface PodExecResult {
  /** The exit code; null when the command was stopped at its timeout. */
  exitCode: number | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  truncated: boolean;
  durationMs: number;
}

/** Collects a stream's bytes up to `max`, and whether more came. */
class Capped extends Writable {
  readonly #chunks: Buffer[] = [];
  readonly #max: number;
  #size = 0;
  truncated = false;

  constructor(max: number) {
    super();
    this.#max = max;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    const room = this.#max - this.#size;
    if (chunk.length > room) this.truncated = true;
    if (room > 0) {
      const kept = chunk.subarray(0, room);
      this.#chunks.push(kept);
      this.#size += kept.length;
    }
    done();
  }

  text(): string {
    return Buffer.concat(this.#chunks).toString('utf8');
  }
}

/**
 * Runs `command` (no shell, no TTY, no stdin) in container `container` of a pod through
 * the apiserver's exec subresource, as `kubectl exec` does. Resolves when the command
 * ends, or when `timeoutMs` passes (the stream is closed, which ends the exec session).
 * Rejects when the apiserver refuses (statusCode: 404 no such pod) or the command could
 * not be started (statusCode 400, the runtime's message).
 */
export async function podExec(
  config: KubeConfig,
  target: { namespace: string; pod: string; container: string },
  command: string[],
  options: { timeoutMs: number; maxBytes: number },
): Promise<PodExecResult> {
  const started = performance.now();
  const stdout = new Capped(options.maxBytes);
  const stderr = new Capped(options.maxBytes);
  let status: V1Status | undefined;
  let socket: Awaited<ReturnType<Exec['exec']>>;
  try {
    socket = await new Exec(config).exec(
      target.namespace,
      target.pod,
      target.container,
      command,
      stdout,
      stderr,
      null,
      false,
      (s) => {
        status = s;
      },
    );
  } catch (error) {
    const code = /Unexpected server response: (\d{3})/.exec(String((error as Error).message))?.[1];
    throw Object.assign(new Error((error as Error).message), code ? { statusCode: Number(code) } : {});
  }
  let timedOut = false;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      timedOut = true;
      socket.close();
    }, options.timeoutMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.on('error', (error: Error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
  const result = {
    timedOut,
    stdout: stdout.text(),
    stderr: stderr.text(),
    truncated: stdout.truncated || stderr.truncated,
    durationMs: Math.round(performance.now() - started),
  };
  if (timedOut) return { ...result, exitCode: null };
  if (status?.status === 'Success') return { ...result, exitCode: 0 };
  const exit = status?.details?.causes?.find((c) => c.reason === 'ExitCode')?.message;
  if (status?.reason === 'NonZeroExitCode' && exit !== undefined)
    return { ...result, exitCode: Number(exit) };
  throw Object.assign(new Error(status?.message ?? 'the exec session ended without a status'), {
    statusCode: 400,
  });
}
