import type { Clock } from './clock.ts';

const MAX_ENTRIES = 10_000;

interface Entry<T> {
  value: T;
  at: number;
}

/**
 * Values reused for a few seconds on core's clock, dropped all at once by `invalidate()`.
 * What core caches this way are access decisions (who a credential is, what a user may do
 * with a repository): a lookup started before an invalidation must not be stored, so
 * `set` takes the `generation` read before the lookup.
 */
export class TtlCache<T> {
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #entries = new Map<string, Entry<T>>();
  #generation = 0;

  constructor(options: { clock: Clock; ttlMs: number }) {
    this.#clock = options.clock;
    this.#ttlMs = options.ttlMs;
  }

  /** Drops everything. */
  invalidate(): void {
    this.#generation += 1;
    this.#entries.clear();
  }

  /** Invalidations so far: read it before a lookup, hand it to `set` after. */
  get generation(): number {
    return this.#generation;
  }

  get(key: string): T | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    const now = this.#clock().getTime();
    // A clock moved back (tests shift it) does not stretch an entry either.
    if (now < entry.at || now - entry.at >= this.#ttlMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: T, generation: number): void {
    if (generation !== this.#generation) return;
    if (this.#entries.size >= MAX_ENTRIES) {
      // Oldest first (insertion order): under a flood of distinct keys the cache just stops helping.
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.delete(key);
    this.#entries.set(key, { value, at: this.#clock().getTime() });
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }
}
