import { createHmac, createSecretKey, randomBytes } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { TtlCache } from '../ttlCache.ts';

/** How long a verified credential or a looked-up repository is reused. */
export const ACCESS_CACHE_TTL_MS = 5_000;
/**
 * What the token endpoint looked up in the last few seconds, so that a client asking for
 * token after token (a pull asks for one per repository; CI asks again for every job)
 * costs a signature and no database round trip:
 *
 * - verified credentials -> who they are, keyed by an HMAC (a random per-process key) of
 *   username and secret, never the secret itself; failures are never cached, and the
 *   login limit is checked before the cache is;
 * - `group/name` (+ user) -> the repository and the user's roles on it; only found ones.
 *
 * Entries live `ACCESS_CACHE_TTL_MS` on core's clock. `invalidate()` drops everything:
 * core calls it after every committed change that can take access away (members, roles,
 * robots, tokens, passwords, users, repositories: anything recorded in the activity, and
 * ended build credentials), so in one core a revocation is seen at once; another core
 * sharing the database sees it within the TTL. Tokens already issued live their five
 * minutes in any case, so this adds at most a few seconds to how long access outlives
 * its revocation.
 */
export class RegistryAccessCache<Credential, Repository> {
  // A KeyObject: from a Buffer, node prepares the key on every call (ten times the HMAC's cost).
  readonly #key = createSecretKey(randomBytes(32));
  readonly #credentials: TtlCache<Credential>;
  readonly #repositories: TtlCache<Repository>;

  constructor(options: { clock: Clock; ttlMs?: number }) {
    const ttlMs = options.ttlMs ?? ACCESS_CACHE_TTL_MS;
    this.#credentials = new TtlCache({ clock: options.clock, ttlMs });
    this.#repositories = new TtlCache({ clock: options.clock, ttlMs });
  }

  /** Drops everything (access may have changed). */
  invalidate(): void {
    this.#credentials.invalidate();
    this.#repositories.invalidate();
  }

  /** Changes since: a lookup that started before an invalidation must not be cached. */
  get generation(): number {
    // Both are invalidated together, so their generations are the same.
    return this.#credentials.generation;
  }

  /** The cache key of a credential: HMAC-SHA256 of username and secret under a per-process key. */
  credentialKey(username: string, secret: string): string {
    // Length-prefixed: no two (username, secret) pairs make the same input.
    return createHmac('sha256', this.#key)
      .update(`${Buffer.byteLength(username)}:${username}`)
      .update(secret)
      .digest('base64url');
  }

  credential(key: string): Credential | undefined {
    return this.#credentials.get(key);
  }

  rememberCredential(key: string, value: Credential, generation: number): void {
    this.#credentials.set(key, value, generation);
  }

  repository(userId: number, name: string): Repository | undefined {
    return this.#repositories.get(`${userId}\0${name}`);
  }

  rememberRepository(userId: number, name: string, value: Repository, generation: number): void {
    this.#repositories.set(`${userId}\0${name}`, value, generation);
  }
}
