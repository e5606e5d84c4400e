import { RateLimitedError } from '@leengine/common';
import type { Clock } from '../clock.ts';

export interface LoginLimiterOptions {
  clock: Clock;
  /** Failed attempts allowed per username and client address within `windowMs`. */
  maxFailures?: number;
  windowMs?: number;
  /** Entries kept at most; the oldest are dropped first (bounded memory under a flood). */
  maxEntries?: number;
}

interface Entry {
  failures: number;
  windowStart: number;
}

/**
 * Limits failed logins per (username, client address), in memory: after `maxFailures`
 * failures within `windowMs`, that pair is refused until the window ends, even with the
 * right password. One core process keeps its own counts (several replicas each allow
 * `maxFailures`); a success clears the pair.
 */
export class LoginLimiter {
  readonly #clock: Clock;
  readonly #maxFailures: number;
  readonly #windowMs: number;
  readonly #maxEntries: number;
  // Map keeps insertion order: the first keys are the oldest windows.
  readonly #entries = new Map<string, Entry>();

  constructor(options: LoginLimiterOptions) {
    this.#clock = options.clock;
    this.#maxFailures = options.maxFailures ?? 5;
    this.#windowMs = options.windowMs ?? 15 * 60_000;
    this.#maxEntries = options.maxEntries ?? 100_000;
  }

  /** Throws RateLimitedError when this pair has used up its failures. */
  check(username: string, address: string): void {
    const entry = this.#live(key(username, address));
    if (entry && entry.failures >= this.#maxFailures) {
      const retryAfterMs = entry.windowStart + this.#windowMs - this.#clock().getTime();
      throw new RateLimitedError(
        'too many failed logins; try again later',
        Math.max(1, Math.ceil(retryAfterMs / 1000)),
      );
    }
  }

  failed(username: string, address: string): void {
    const k = key(username, address);
    const entry = this.#live(k);
    if (entry) {
      entry.failures += 1;
      return;
    }
    this.#entries.set(k, { failures: 1, windowStart: this.#clock().getTime() });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }

  succeeded(username: string, address: string): void {
    this.#entries.delete(key(username, address));
  }

  #live(k: string): Entry | undefined {
    const entry = this.#entries.get(k);
    if (entry && this.#clock().getTime() - entry.windowStart >= this.#windowMs) {
      this.#entries.delete(k);
      return undefined;
    }
    return entry;
  }
}

function key(username: string, address: string): string {
  return `${username.toLowerCase()}\u0000${address}`;
}
