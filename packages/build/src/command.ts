import { spawn } from 'node:child_process';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Aborting kills the command's whole process group (TERM, then KILL after 3 s). */
  signal: AbortSignal;
  /** Each chunk of stdout and stderr, as it comes. */
  onOutput?: (text: string) => void;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last 8 KiB of output, for error messages. */
  tail: string;
  stdout: string;
}

/**
 * Runs one command from an argv array: no shell ever sees the arguments. The command gets
 * its own process group so cancel and timeout stop everything it started.
 */
export function runCommand(argv: readonly string[], options: RunOptions): Promise<RunResult> {
  const [file, ...args] = argv;
  if (!file) throw new Error('empty argv');
  return new Promise((resolve, reject) => {
    if (options.signal.aborted) {
      reject(options.signal.reason);
      return;
    }
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let tail = '';
    let stdout = '';
    const onChunk = (chunk: Buffer, isStdout: boolean) => {
      const text = chunk.toString('utf8');
      if (isStdout && stdout.length < 1_000_000) stdout += text;
      tail = (tail + text).slice(-8192);
      options.onOutput?.(text);
    };
    child.stdout.on('data', (c: Buffer) => onChunk(c, true));
    child.stderr.on('data', (c: Buffer) => onChunk(c, false));
    let killTimer: NodeJS.Timeout | undefined;
    const kill = () => {
      const group = child.pid;
      if (group === undefined) return;
      try {
        process.kill(-group, 'SIGTERM');
      } catch {}
      killTimer = setTimeout(() => {
        try {
          process.kill(-group, 'SIGKILL');
        } catch {}
      }, 3000);
      killTimer.unref();
    };
    options.signal.addEventListener('abort', kill, { once: true });
    child.on('error', (error) => {
      options.signal.removeEventListener('abort', kill);
      reject(error);
    });
    child.on('close', (code, signal) => {
      options.signal.removeEventListener('abort', kill);
      if (killTimer) clearTimeout(killTimer);
      resolve({ code, signal, tail, stdout });
    });
  });
}
