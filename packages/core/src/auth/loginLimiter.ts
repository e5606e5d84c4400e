import { RateLimitedError } from '@leengine/common';
import type { Clock } from '../clock.ts';

export interface LoginLimiterOptions {
  clock: Clock;
  /** Failed attempts allowed per username and client address within `windowMs`. */
  maxFailures?: number;
  /** Failed attempts allowed per client address, whatever the usernames, within `windowMs`. */
  maxFailuresPerAddress?: number;
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
 * right password; a success clears the pair. An address is also limited across
 * usernames (`maxFailuresPerAddress`, against guessing one password for many users); a
 * success does not clear that count, or one known account would reset it. One core
 * process keeps its own counts: several replicas each allow as many, and a restart
 * forgets them.
 */
export class LoginLimiter {
  readonly #clock: Clock;
  readonly #maxFailures: number;
  readonly #maxPerAddress: number;
  readonly #windowMs: number;
  readonly #maxEntries: number;
  // Map keeps insertion order: the first keys are the oldest windows.
  readonly #entries = new Map<string, Entry>();

  constructor(options: LoginLimiterOptions) {
    this.#clock = options.clock;
    this.#maxFailures = options.maxFailures ?? 5;
    this.#maxPerAddress = options.maxFailuresPerAddress ?? 20;
    this.#windowMs = options.windowMs ?? 15 * 60_000;
    this.#maxEntries = options.maxEntries ?? 100_000;
  }

  /** Throws RateLimitedError when this pair, or this address, has used up its failures. */
  check(username: string, address: string): void {
    this.#assertBelow(key(username, address), this.#maxFailures);
    this.#assertBelow(addressKey(address), this.#maxPerAddress);
  }

  failed(username: string, address: string): void {
    this.#count(key(username, address));
    this.#count(addressKey(address));
  }

  succeeded(username: string, address: string): void {
    this.#entries.delete(key(username, address));
  }

  #assertBelow(k: string, max: number): void {
    const entry = this.#live(k);
    if (entry && entry.failures >= max) {
      const retryAfterMs = entry.windowStart + this.#windowMs - this.#clock().getTime();
      throw new RateLimitedError(
        'too many failed logins; try again later',
        Math.max(1, Math.ceil(retryAfterMs / 1000)),
      );
    }
  }

  #count(k: string): void {
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
  return `u\u0000${username.toLowerCase()}\u0000${address}`;
}

function addressKey(address: string): string {
  return `a\u0000${address}`;
}
