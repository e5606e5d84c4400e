import { ComponentError } from './componentError.ts';
import type { ManagedProcess } from './managedProcess.ts';
import type { WorkDir } from './workDir.ts';

/** What every started component offers. */
export interface ComponentHandle extends AsyncDisposable {
  readonly component: string;
  /** The component's own directory (config, data, log). */
  readonly dir: string;
  readonly process: ManagedProcess;
  /** Time from spawn to ready, in ms. */
  readonly startupMs: number;
  /** The last lines of the component's log. */
  logTail(lines?: number): string;
  /** Stops the process tree and removes its temp dir. */
  stop(): Promise<void>;
}

/** Builds the common part of a handle around a running process in its own temp dir. */
export function baseHandle(
  proc: ManagedProcess,
  workDir: WorkDir,
  startedAt: number,
  beforeStop?: () => Promise<void>,
): ComponentHandle {
  return processHandle(proc, workDir.path, startedAt, async () => {
    await beforeStop?.().catch(() => {});
    await proc.stop();
    workDir.remove();
  });
}

/**
 * A handle around a running process whose directory the caller owns: `stop` runs once
 * however often it is called (the first call's promise is shared).
 */
export function processHandle(
  proc: ManagedProcess,
  dir: string,
  startedAt: number,
  stop: () => Promise<void>,
  component = proc.component,
): ComponentHandle {
  let stopping: Promise<void> | undefined;
  const stopOnce = () => {
    stopping ??= stop();
    return stopping;
  };
  return {
    component,
    dir,
    process: proc,
    startupMs: Math.round(performance.now() - startedAt),
    logTail: (lines) => proc.tail(lines),
    stop: stopOnce,
    [Symbol.asyncDispose]: stopOnce,
  };
}

const PORT_TAKEN = /address already in use|bind\(\) to .* failed|EADDRINUSE/i;

/**
 * Free ports are picked before the component binds them, so another process can win
 * the race: such a start is retried on fresh ports, a few times.
 */
export async function retryOnPortClash<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      const clash = error instanceof ComponentError && PORT_TAKEN.test(error.logTail);
      if (!clash || attempt >= attempts) throw error;
    }
  }
}

/** Starts `proc` and waits for readiness; on failure stops it, removes its dir and rethrows. */
export async function startedOrCleanedUp<T>(
  proc: ManagedProcess,
  workDir: WorkDir,
  ready: () => Promise<T>,
): Promise<T> {
  try {
    return await ready();
  } catch (error) {
    await proc.stop(1000);
    workDir.remove();
    throw error;
  }
}
