import { randomBytes } from 'node:crypto';
import {
  type CreatedToken,
  type CreateToken,
  NotAuthenticatedError,
  NotFoundError,
  type Page,
  type Token,
  type User,
} from '@leengine/common';
import type { Logger } from 'pino';
import type { ActivityService } from '../activity/activityService.ts';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import { TtlCache } from '../ttlCache.ts';
import { findUserByName, toUser } from '../users/userStore.ts';
import type { Caller } from './caller.ts';
import {
  type CredentialRow,
  deleteExpiredSessions,
  deleteSession,
  findSession,
  findToken,
  insertSession,
  insertToken,
  listTokens,
  revokeToken,
  touchToken,
} from './credentialStore.ts';
import type { LoginLimiter } from './loginLimiter.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import { hashSecret, newSecret, SESSION_PREFIX, TOKEN_PREFIX } from './secrets.ts';

export interface AuthServiceDeps {
  db: Database;
  clock: Clock;
  activity: ActivityService;
  limiter: LoginLimiter;
  logger: Logger;
  /** How long a console session lasts. */
  sessionTtlMs: number;
}

/**
 * How long a checked token or session is reused without asking the database. Core drops
 * them all at once on any recorded change (revoked tokens, disabled users, passwords,
 * admin flags: `invalidateCallers`) and on logout; another core sharing the database sees
 * such a change within this time (docs/decisions.md).
 */
export const CALLER_CACHE_TTL_MS = 5_000;

/** A new login session: the secret goes into the cookie and is stored only hashed. */
export interface NewSession {
  user: User;
  secret: string;
  expiresAt: Date;
  /** For the cookie's Max-Age. */
  maxAgeSeconds: number;
}

/** What a request presents: a bearer token, a session cookie, or nothing. */
export interface Presented {
  bearer?: string | undefined;
  session?: string | undefined;
}

// Writing last_used_at on every request would make every read a write.
const TOUCH_AFTER_MS = 60_000;

/** Logins, sessions and personal access tokens; turns presented credentials into a Caller. */
export class AuthService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #activity: ActivityService;
  readonly #limiter: LoginLimiter;
  readonly #sessionTtlMs: number;
  readonly #logger: Logger;
  /** Usable credentials by the sha256 of their secret (what the database is searched by). */
  readonly #callers: TtlCache<CredentialRow>;
  /** Background `last_used_at` writes still running (`stop` waits for them). */
  readonly #touches = new Set<Promise<void>>();
  #decoy: Promise<string> | undefined;

  private constructor(deps: AuthServiceDeps) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#activity = deps.activity;
    this.#limiter = deps.limiter;
    this.#sessionTtlMs = deps.sessionTtlMs;
    this.#logger = deps.logger;
    this.#callers = new TtlCache({ clock: deps.clock, ttlMs: CALLER_CACHE_TTL_MS });
  }

  static create(deps: AuthServiceDeps): AuthService {
    return new AuthService(deps);
  }

  /**
   * Checks a password and opens a session. Every failure reads the same ("wrong username
   * or password") and costs the same (a missing user is checked against a decoy hash);
   * failures per username and address are rate-limited.
   */
  async login(username: string, password: string, address: string): Promise<NewSession> {
    this.#limiter.check(username, address);
    const user = await findUserByName(this.#db, username);
    const ok = await verifyPassword(password, user?.passwordHash ?? (await this.#decoyHash()));
    if (!user || !ok || user.disabled) {
      this.#limiter.failed(username, address);
      throw new NotAuthenticatedError('wrong username or password');
    }
    this.#limiter.succeeded(username, address);
    const now = this.#clock();
    const secret = newSecret(SESSION_PREFIX);
    const expiresAt = new Date(now.getTime() + this.#sessionTtlMs);
    await this.#db.transaction(async (tx) => {
      await deleteExpiredSessions(tx, now);
      await insertSession(tx, { secretHash: hashSecret(secret), userId: user.id, at: now, expiresAt });
    });
    return { user: toUser(user), secret, expiresAt, maxAgeSeconds: Math.floor(this.#sessionTtlMs / 1000) };
  }

  /**
   * Checks a username and password without opening a session (the registry's token
   * endpoint, where clients send Basic auth on every token request). Rate-limited, timed
   * and worded like `login`.
   */
  async verifyPassword(username: string, password: string, address: string): Promise<Caller> {
    this.#limiter.check(username, address);
    const user = await findUserByName(this.#db, username);
    const ok = await verifyPassword(password, user?.passwordHash ?? (await this.#decoyHash()));
    if (!user || !ok || user.disabled) {
      this.#limiter.failed(username, address);
      throw new NotAuthenticatedError('wrong username or password');
    }
    this.#limiter.succeeded(username, address);
    return { userId: user.id, username: user.username, admin: user.admin, via: 'password' };
  }

  async logout(sessionSecret: string): Promise<void> {
    await deleteSession(this.#db, hashSecret(sessionSecret));
    this.#callers.invalidate();
  }

  /** Forgets every checked credential: access may have changed (core calls it after every recorded change). */
  invalidateCallers(): void {
    this.#callers.invalidate();
  }

  /** Waits for the background `last_used_at` writes (before the database closes). */
  async stop(): Promise<void> {
    await Promise.all([...this.#touches]);
  }

  /**
   * The caller behind the presented credentials; null when none were presented. A bearer
   * token wins over a cookie. Unknown, expired or revoked credentials, and disabled users,
   * are NotAuthenticatedError: a client that sent credentials learns they are not good.
   */
  async authenticate(presented: Presented): Promise<Caller | null> {
    if (presented.bearer !== undefined) return this.#byToken(presented.bearer);
    if (presented.session !== undefined) return this.#bySession(presented.session);
    return null;
  }

  /** Creates a token; its secret is in this answer only. */
  async createToken(caller: Caller, input: CreateToken): Promise<CreatedToken> {
    const secret = newSecret(TOKEN_PREFIX);
    const now = this.#clock();
    const expiresAt = new Date(now.getTime() + input.expiresInDays * 86_400_000);
    return this.#activity.change(caller, 'create-token', input, async (tx, setTarget) => {
      setTarget({ kind: 'user', id: caller.userId, name: caller.username });
      const token = await insertToken(tx, {
        userId: caller.userId,
        name: input.name,
        secretHash: hashSecret(secret),
        at: now,
        expiresAt,
      });
      return { ...token, token: secret };
    });
  }

  listTokens(caller: Caller, cursor: string | undefined, limit: number): Promise<Page<Token>> {
    return listTokens(this.#db, caller.userId, cursor, limit);
  }

  async revokeToken(caller: Caller, tokenId: number): Promise<void> {
    await this.#activity.change(caller, 'revoke-token', { tokenId }, async (tx, setTarget) => {
      setTarget({ kind: 'user', id: caller.userId, name: caller.username });
      const revoked = await revokeToken(tx, caller.userId, tokenId, this.#clock());
      if (!revoked) throw new NotFoundError(`no token ${tokenId}`);
    });
  }

  async #byToken(secret: string): Promise<Caller> {
    const row = secret.startsWith(TOKEN_PREFIX) ? await this.#credential(secret, findToken) : undefined;
    const now = this.#clock();
    this.#assertUsable(row, now, 'token');
    const credential = row as CredentialRow & { tokenId: number };
    if (!credential.lastUsedAt || now.getTime() - credential.lastUsedAt.getTime() > TOUCH_AFTER_MS) {
      // The cached row remembers it, so the next requests do not write again.
      credential.lastUsedAt = now;
      this.#touch(credential.tokenId, now);
    }
    return {
      userId: credential.userId,
      username: credential.username,
      admin: credential.admin,
      via: 'token',
    };
  }

  async #bySession(secret: string): Promise<Caller> {
    const row = secret.startsWith(SESSION_PREFIX) ? await this.#credential(secret, findSession) : undefined;
    this.#assertUsable(row, this.#clock(), 'session');
    const credential = row as CredentialRow;
    return {
      userId: credential.userId,
      username: credential.username,
      admin: credential.admin,
      via: 'session',
    };
  }

  /**
   * The credential row of a secret, from the cache or the database. Only rows that are
   * usable when read are cached (unknown, revoked and disabled ones are asked for again);
   * expiry is checked on every use.
   */
  async #credential(
    secret: string,
    find: (db: Database, secretHash: string) => Promise<CredentialRow | undefined>,
  ): Promise<CredentialRow | undefined> {
    const secretHash = hashSecret(secret);
    const cached = this.#callers.get(secretHash);
    if (cached) return cached;
    const generation = this.#callers.generation;
    const row = await find(this.#db, secretHash);
    if (row && !row.revokedAt && !row.disabled) this.#callers.set(secretHash, row, generation);
    return row;
  }

  /** Records a token's use without holding up the request; a failure is only logged. */
  #touch(tokenId: number, at: Date): void {
    const touch = touchToken(this.#db, tokenId, at)
      .catch((error: unknown) =>
        this.#logger.warn({ err: error, tokenId }, 'could not record when a token was last used'),
      )
      .finally(() => this.#touches.delete(touch));
    this.#touches.add(touch);
  }

  #assertUsable(row: CredentialRow | undefined, now: Date, what: 'token' | 'session'): void {
    if (!row) throw new NotAuthenticatedError(`unknown ${what}`);
    if (row.revokedAt) throw new NotAuthenticatedError(`${what} revoked`);
    if (row.expiresAt.getTime() <= now.getTime()) throw new NotAuthenticatedError(`${what} expired`);
    if (row.disabled) throw new NotAuthenticatedError('user disabled');
  }

  #decoyHash(): Promise<string> {
    this.#decoy ??= hashPassword(randomBytes(16).toString('hex'));
    return this.#decoy;
  }
}
