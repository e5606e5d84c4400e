import { setTimeout as sleep } from 'node:timers/promises';
import { ComponentError } from './componentError.ts';
import type { ManagedProcess } from './managedProcess.ts';

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** What is being waited for, for the error message. */
  what: string;
}

/**
 * Polls `ready` until it returns true. Fails fast with the log tail if the process
 * exits first, and with the log tail and the last probe error on time-out.
 */
export async function waitUntilReady(
  proc: ManagedProcess,
  ready: () => Promise<boolean>,
  options: WaitOptions,
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let interval = options.intervalMs ?? 10;
  let lastError: unknown;
  for (;;) {
    const status = proc.exitStatus;
    if (status) {
      throw new ComponentError(
        proc.component,
        `exited while starting (code ${status.code ?? '-'}, signal ${status.signal ?? '-'}) before ${options.what}`,
        proc.tail(),
      );
    }
    try {
      if (await ready()) return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last probe: ${lastError.message})` : '';
      throw new ComponentError(
        proc.component,
        `not ready after ${options.timeoutMs} ms: ${options.what}${why}`,
        proc.tail(),
        { cause: lastError },
      );
    }
    await Promise.race([sleep(interval), proc.exited]);
    interval = Math.min(interval * 2, 200);
  }
}

/** GETs a URL with a short time-out; true on the expected status. */
export async function httpOk(url: string, expect = 200, init: RequestInit = {}): Promise<boolean> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(1000) });
  await response.arrayBuffer();
  return response.status === expect;
}
