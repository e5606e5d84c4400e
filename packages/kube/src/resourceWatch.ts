import type { KubernetesObject } from '@kubernetes/client-node';
import { type Clock, type ReconcilerLogger, systemClock } from './reconciler.ts';

/** A change as the apiserver reports it; SYNC marks an object from a (re)list. */
export type WatchEventType = 'SYNC' | 'ADDED' | 'MODIFIED' | 'DELETED';

/** Where a watch gets its list and its stream of changes from (a cell's apiserver, or a test). */
export interface WatchSource<T> {
  /** A consistent list of every object and the resourceVersion it was read at. */
  list(signal: AbortSignal): Promise<{ items: T[]; resourceVersion: string }>;
  /**
   * Streams changes after `resourceVersion`, calling `onEvent` with each raw event
   * (including BOOKMARK and ERROR), until the server ends the stream (resolve) or the
   * connection fails (reject; `statusCode` 410 when the version is too old).
   */
  watch(
    resourceVersion: string,
    onEvent: (type: string, object: unknown) => void,
    signal: AbortSignal,
  ): Promise<void>;
}

export interface ResourceWatchOptions<T> {
  name: string;
  source: WatchSource<T>;
  /** Every listed object (SYNC) and every change, in order. Must not throw. */
  onEvent(type: WatchEventType, object: T): void;
  /** After each (re)list, with everything listed: consumers drop what is no longer there. */
  onList?(items: T[]): void;
  /** Each failed list or watch (the cell may be down); the watch retries with backoff. */
  onError?(error: unknown): void;
  /** Resume from this resourceVersion (persisted earlier) instead of listing first. */
  resourceVersion?: string;
  /** Backoff after failures: base * 2^failures, capped. Default 200 ms .. 10 s. */
  backoff?: { baseMs: number; maxMs: number };
  clock?: Clock;
  logger?: ReconcilerLogger;
}

export interface ResourceWatchMetrics {
  lists: number;
  watches: number;
  events: number;
  /** Watches refused as too old (410 Gone / compacted): each is followed by a re-list. */
  gone: number;
  errors: number;
}

/** The error a watch ends with when its resourceVersion is too old. */
export class WatchGoneError extends Error {
  readonly statusCode = 410;
}

/**
 * A list-then-watch loop in the manner of client-go's reflector: it lists once, then
 * watches from the list's resourceVersion, resumes from the last version it saw when a
 * stream ends or breaks, and re-lists only when the server says that version is gone
 * (410, after compaction). Failures back off; a clean end resumes at once.
 */
export class ResourceWatch<T extends KubernetesObject> {
  readonly name: string;
  readonly metrics: ResourceWatchMetrics = { lists: 0, watches: 0, events: 0, gone: 0, errors: 0 };
  readonly #options: ResourceWatchOptions<T>;
  readonly #clock: Clock;
  readonly #stop = new AbortController();
  #resourceVersion: string | undefined;
  #loop: Promise<void> | undefined;
  #synced = false;

  constructor(options: ResourceWatchOptions<T>) {
    this.name = options.name;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#resourceVersion = options.resourceVersion;
  }

  /** The last resourceVersion seen: persist it to resume from there. */
  get resourceVersion(): string | undefined {
    return this.#resourceVersion;
  }

  /** True once a list or a resumed watch has succeeded. */
  get synced(): boolean {
    return this.#synced;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    let failures = 0;
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      try {
        if (this.#resourceVersion === undefined) await this.#list(signal);
        await this.#watch(this.#resourceVersion as string, signal);
        failures = 0;
      } catch (error) {
        if (signal.aborted) return;
        if (isGone(error)) {
          // Too old: what changed since is lost; only a fresh list is complete again.
          this.metrics.gone++;
          this.#resourceVersion = undefined;
          this.#options.logger?.info({ watch: this.name }, 'resourceVersion too old: re-listing');
          continue;
        }
        this.metrics.errors++;
        this.#options.onError?.(error);
        const { baseMs, maxMs } = this.#options.backoff ?? { baseMs: 200, maxMs: 10_000 };
        const delay = Math.min(maxMs, baseMs * 2 ** failures);
        failures++;
        this.#options.logger?.warn(
          { watch: this.name, err: error instanceof Error ? error.message : String(error), retryInMs: delay },
          'watch failed',
        );
        await this.#sleep(delay, signal);
      }
    }
  }

  async #list(signal: AbortSignal): Promise<void> {
    const { items, resourceVersion } = await this.#options.source.list(signal);
    this.metrics.lists++;
    for (const item of items) this.#options.onEvent('SYNC', item);
    this.#options.onList?.(items);
    this.#resourceVersion = resourceVersion;
    this.#synced = true;
  }

  async #watch(resourceVersion: string, signal: AbortSignal): Promise<void> {
    this.metrics.watches++;
    const stream = new AbortController();
    const onStop = () => stream.abort();
    signal.addEventListener('abort', onStop, { once: true });
    let failure: Error | undefined;
    try {
      await this.#options.source.watch(
        resourceVersion,
        (type, raw) => {
          if (failure || stream.signal.aborted) return;
          const object = raw as T & { code?: number; message?: string };
          if (type === 'ERROR') {
            // A Status object: 410 means the version is gone; anything else ends this stream.
            failure =
              object.code === 410
                ? new WatchGoneError(object.message ?? 'resourceVersion too old')
                : new Error(`watch error ${object.code ?? '?'}: ${object.message ?? ''}`);
            stream.abort();
            return;
          }
          const version = object.metadata?.resourceVersion;
          if (version) this.#resourceVersion = version;
          if (type === 'BOOKMARK') return;
          if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') return;
          this.#synced = true;
          this.metrics.events++;
          this.#options.onEvent(type, object);
        },
        stream.signal,
      );
    } catch (error) {
      if (!failure) throw error;
    } finally {
      signal.removeEventListener('abort', onStop);
    }
    if (failure) throw failure;
  }

  #sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.#clock.setTimer(done, ms);
      function done() {
        signal.removeEventListener('abort', cancel);
        resolve();
      }
      const clock = this.#clock;
      function cancel() {
        clock.clearTimer(timer);
        resolve();
      }
      signal.addEventListener('abort', cancel, { once: true });
    });
  }
}

function isGone(error: unknown): boolean {
  if (error instanceof WatchGoneError) return true;
  const e = error as { statusCode?: unknown; code?: unknown };
  return e?.statusCode === 410 || e?.code === 410;
}
