import {
  NotAllowedError,
  NotFoundError,
  QuotaExceededError,
  type QuotaLimits,
  type QuotaOverrides,
  type UserQuota,
} from '@leengine/common';
import type { ActivityService } from '../activity/activityService.ts';
import type { Caller } from '../auth/caller.ts';
import type { Database, Queryable } from '../db/database.ts';
import { findUserByName } from '../users/userStore.ts';
import { readDefaults, readOverrides, readUsage, writeDefaults, writeOverrides } from './quotaStore.ts';

/** A change in what a user holds: deploy and scale pass the difference they are about to make. */
export type QuotaDelta = Partial<QuotaLimits>;

const LIMITS: (keyof QuotaLimits)[] = ['applications', 'instances', 'cpuMillicores', 'memoryMib'];

export interface QuotaServiceDeps {
  db: Database;
  activity: ActivityService;
}

/**
 * Per-user limits on applications, instances, CPU and memory: a user's override where
 * set, the platform default elsewhere. Usage is what the applications the user created
 * hold. Every call that grows usage (create application, deploy, scale) runs `check`
 * inside its own transaction.
 */
export class QuotaService {
  readonly #db: Database;
  readonly #activity: ActivityService;

  private constructor(deps: QuotaServiceDeps) {
    this.#db = deps.db;
    this.#activity = deps.activity;
  }

  static create(deps: QuotaServiceDeps): QuotaService {
    return new QuotaService(deps);
  }

  /**
   * Throws QuotaExceededError, naming every limit that `delta` would cross, unless usage
   * plus delta stays within the limits. Only growth is checked: shrinking is always
   * allowed, also above a lowered limit. Locks the user's row, so two concurrent calls
   * for one user see each other's result: pass the transaction that makes the change.
   */
  async check(tx: Queryable, userId: number, delta: QuotaDelta): Promise<void> {
    await tx.query('select id from users where id = $1 for no key update', [userId]);
    const limits = await this.#limits(tx, userId);
    const usage = await readUsage(tx, userId);
    const exceeded = LIMITS.filter((k) => (delta[k] ?? 0) > 0 && usage[k] + (delta[k] ?? 0) > limits[k]);
    if (exceeded.length > 0) {
      throw new QuotaExceededError(
        `quota exceeded: ${exceeded.map((k) => `${k} ${usage[k]} + ${delta[k]} > ${limits[k]}`).join(', ')}`,
      );
    }
  }

  /** A user's limits, overrides and usage: for the user and for admins. */
  async forUser(caller: Caller, username: string): Promise<UserQuota> {
    if (username !== caller.username && !caller.admin) {
      throw new NotAllowedError("only admins may read another user's quota");
    }
    const user = await findUserByName(this.#db, username);
    if (!user) throw new NotFoundError(`user "${username}" not found`);
    return this.#userQuota(this.#db, user.id, user.username);
  }

  defaults(): Promise<QuotaLimits> {
    return readDefaults(this.#db);
  }

  async setDefaults(caller: Caller, limits: QuotaLimits): Promise<QuotaLimits> {
    assertAdmin(caller);
    return this.#activity.change(caller, 'set-default-quota', limits, async (tx, setTarget) => {
      setTarget({ kind: 'user', id: caller.userId, name: caller.username });
      return writeDefaults(tx, limits);
    });
  }

  async setOverrides(caller: Caller, username: string, overrides: QuotaOverrides): Promise<UserQuota> {
    assertAdmin(caller);
    return this.#activity.change(caller, 'set-quota', overrides, async (tx, setTarget) => {
      const user = await findUserByName(tx, username);
      if (!user) throw new NotFoundError(`user "${username}" not found`);
      setTarget({ kind: 'user', id: user.id, name: user.username });
      await writeOverrides(tx, user.id, overrides);
      return this.#userQuota(tx, user.id, user.username);
    });
  }

  async #limits(q: Queryable, userId: number): Promise<QuotaLimits> {
    const [defaults, overrides] = await Promise.all([readDefaults(q), readOverrides(q, userId)]);
    return {
      applications: overrides.applications ?? defaults.applications,
      instances: overrides.instances ?? defaults.instances,
      cpuMillicores: overrides.cpuMillicores ?? defaults.cpuMillicores,
      memoryMib: overrides.memoryMib ?? defaults.memoryMib,
    };
  }

  async #userQuota(q: Queryable, userId: number, username: string): Promise<UserQuota> {
    const limits = await this.#limits(q, userId);
    const overrides = await readOverrides(q, userId);
    const usage = await readUsage(q, userId);
    return { username, limits, overrides, usage };
  }
}

function assertAdmin(caller: Caller): void {
  if (!caller.admin) throw new NotAllowedError('only admins may set quotas');
}
