/**
 * A level-based reconcile runtime in the manner of controller-runtime: a request names
 * a key; the reconciler reads current state and drives it toward the desired state, and
 * says whether it is done, must retry with backoff, or wants to run again later. A key
 * never runs twice at once; enqueueing it while it runs schedules one more run.
 */

export type ReconcileResult =
  | { kind: 'done' }
  | { kind: 'retry'; reason: string }
  | { kind: 'requeue'; afterMs: number };

export const done: ReconcileResult = { kind: 'done' };
export const retry = (reason: string): ReconcileResult => ({ kind: 'retry', reason });
export const requeueAfter = (afterMs: number): ReconcileResult => ({ kind: 'requeue', afterMs });

export interface ReconcileContext {
  /** Unique per run: put it in every log line of the run. */
  runId: string;
  /** Aborted when the run times out or the reconciler stops. */
  signal: AbortSignal;
  /** Consecutive failed runs of this key before this one. */
  failures: number;
}

/** Timers and time, injectable so tests are deterministic. */
export interface Clock {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface ReconcilerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface ReconcilerOptions {
  name: string;
  reconcile(key: string, context: ReconcileContext): Promise<ReconcileResult>;
  /** A run longer than this is aborted and counts as a failure. Default 60 s. */
  timeoutMs?: number;
  /** Exponential backoff for retries: base * 2^failures, capped. Default 200 ms .. 60 s. */
  backoff?: { baseMs: number; maxMs: number };
  /** Keys run at once. Default 4. */
  concurrency?: number;
  clock?: Clock;
  logger?: ReconcilerLogger;
}

export interface ReconcilerMetrics {
  runs: number;
  failures: number;
  timeouts: number;
  /** Keys waiting to run now. */
  queued: number;
  /** Keys waiting for a timer (backoff or requeue). */
  delayed: number;
  running: number;
}

interface KeyState {
  failures: number;
  timer?: unknown;
  running: boolean;
  dirty: boolean;
}

export class Reconciler {
  readonly name: string;
  readonly #options: Required<Omit<ReconcilerOptions, 'logger'>> & { logger?: ReconcilerLogger };
  readonly #keys = new Map<string, KeyState>();
  readonly #queue: string[] = [];
  readonly #queued = new Set<string>();
  readonly #stop = new AbortController();
  readonly #idleWaiters: (() => void)[] = [];
  #running = 0;
  #seq = 0;
  #started = false;
  readonly metrics: ReconcilerMetrics = {
    runs: 0,
    failures: 0,
    timeouts: 0,
    queued: 0,
    delayed: 0,
    running: 0,
  };

  constructor(options: ReconcilerOptions) {
    this.name = options.name;
    this.#options = {
      timeoutMs: 60_000,
      backoff: { baseMs: 200, maxMs: 60_000 },
      concurrency: 4,
      clock: systemClock,
      ...options,
    };
  }

  /** Starts running queued keys. */
  start(): void {
    this.#started = true;
    this.#pump();
  }

  /** Stops: aborts running reconciles, drops timers, waits for runs to return. */
  async stop(): Promise<void> {
    this.#stop.abort();
    for (const state of this.#keys.values()) {
      if (state.timer !== undefined) this.#options.clock.clearTimer(state.timer);
    }
    while (this.#running > 0) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Asks for `key` to be reconciled (after `delayMs`, or now). */
  enqueue(key: string, delayMs = 0): void {
    if (this.#stop.signal.aborted) return;
    const state = this.#state(key);
    if (delayMs > 0) {
      if (state.timer !== undefined) return; // an earlier timer will run it anyway
      this.metrics.delayed++;
      state.timer = this.#options.clock.setTimer(() => {
        state.timer = undefined;
        this.metrics.delayed--;
        this.enqueue(key);
      }, delayMs);
      return;
    }
    if (state.running) {
      state.dirty = true;
      return;
    }
    if (this.#queued.has(key)) return;
    this.#queued.add(key);
    this.#queue.push(key);
    this.metrics.queued = this.#queue.length;
    this.#pump();
  }

  /** Resolves once nothing is queued or running (delayed keys may still wait). */
  async idle(): Promise<void> {
    while (this.#queue.length > 0 || this.#running > 0) {
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
  }

  #state(key: string): KeyState {
    let state = this.#keys.get(key);
    if (!state) {
      state = { failures: 0, running: false, dirty: false };
      this.#keys.set(key, state);
    }
    return state;
  }

  #pump(): void {
    if (!this.#started) return;
    while (this.#running < this.#options.concurrency && this.#queue.length > 0) {
      const key = this.#queue.shift() as string;
      this.#queued.delete(key);
      this.metrics.queued = this.#queue.length;
      void this.#run(key);
    }
    if (this.#queue.length === 0 && this.#running === 0) this.#wakeIdle();
  }

  #wakeIdle(): void {
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  async #run(key: string): Promise<void> {
    const state = this.#state(key);
    state.running = true;
    this.#running++;
    this.metrics.running = this.#running;
    this.metrics.runs++;
    const runId = `${this.name}-${++this.#seq}`;
    const timeout = new AbortController();
    const timer = this.#options.clock.setTimer(
      () => timeout.abort(new Error('reconcile timed out')),
      this.#options.timeoutMs,
    );
    const signal = AbortSignal.any([timeout.signal, this.#stop.signal]);
    let result: ReconcileResult;
    try {
      result = await Promise.race([
        this.#options.reconcile(key, { runId, signal, failures: state.failures }),
        new Promise<never>((_, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason ?? new Error('aborted')), {
            once: true,
          });
        }),
      ]);
    } catch (error) {
      // An exception (or a time-out) is a failure like any other: retried with backoff.
      if (timeout.signal.aborted) this.metrics.timeouts++;
      result = retry(error instanceof Error ? error.message : String(error));
    } finally {
      this.#options.clock.clearTimer(timer);
    }
    state.running = false;
    this.#running--;
    this.metrics.running = this.#running;

    if (result.kind === 'retry') {
      this.metrics.failures++;
      const { baseMs, maxMs } = this.#options.backoff;
      const delay = Math.min(maxMs, baseMs * 2 ** state.failures);
      state.failures++;
      this.#options.logger?.warn(
        { reconciler: this.name, key, runId, reason: result.reason, retryInMs: delay },
        'reconcile failed',
      );
      if (!state.dirty) this.enqueue(key, delay);
    } else {
      state.failures = 0;
      if (result.kind === 'requeue' && !state.dirty) this.enqueue(key, result.afterMs);
    }
    if (state.dirty) {
      state.dirty = false;
      this.enqueue(key);
    }
    this.#pump();
  }
}
