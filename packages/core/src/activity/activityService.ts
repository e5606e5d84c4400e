import {
  type Activity,
  DomainError,
  type FeedQuery,
  NotAllowedError,
  NotFoundError,
  type Page,
} from '@leengine/common';
import type { Logger } from 'pino';
import type { Caller } from '../auth/caller.ts';
import type { Clock } from '../clock.ts';
import type { Database, Queryable } from '../db/database.ts';
import { findUserByName } from '../users/userStore.ts';
import { type ActivityTarget, actorFeed, insertActivity, resourceFeed } from './activityStore.ts';
import { redact } from './redact.ts';

/** Refusals worth keeping in a resource's history; 404s and bad input are not. */
const RECORDED_FAILURES = new Set(['not-allowed', 'conflict', 'quota-exceeded']);

/**
 * Names the resource an operation is about, once it is known (after lookup or insert);
 * `also` names more resources whose feeds get the same record (a repository's group).
 */
export type SetTarget = (target: ActivityTarget, also?: ActivityTarget[]) => void;

export interface ActivityServiceDeps {
  db: Database;
  clock: Clock;
  logger: Logger;
  /** Called after every committed change (caches of access decisions drop what they hold). */
  changed?: () => void;
}

/** The activity record ("dynamic"): every mutating operation goes through `change`. */
export class ActivityService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #changed: () => void;

  private constructor(deps: ActivityServiceDeps) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#changed = deps.changed ?? (() => {});
  }

  static create(deps: ActivityServiceDeps): ActivityService {
    return new ActivityService(deps);
  }

  /**
   * Runs one mutating operation in a transaction and writes its activity record in the
   * same transaction, so the record exists exactly when the change does. `fn` names the
   * resource through `setTarget`. When it is refused (not allowed, conflict, quota) after
   * the resource was named, a failed record is written after the rollback.
   */
  async change<T>(
    caller: Caller,
    action: string,
    params: object,
    fn: (tx: Queryable, setTarget: SetTarget) => Promise<T>,
  ): Promise<T> {
    let target: ActivityTarget | undefined;
    let others: ActivityTarget[] = [];
    const setTarget: SetTarget = (t, also = []) => {
      target = t;
      others = also;
    };
    const safeParams = redact(params) as Record<string, unknown>;
    try {
      const committed = await this.#db.transaction(async (tx) => {
        const result = await fn(tx, setTarget);
        if (!target) throw new Error(`operation "${action}" named no resource for its activity record`);
        const at = this.#clock();
        for (const t of [target, ...others]) {
          await insertActivity(tx, {
            at,
            actorId: caller.userId,
            target: t,
            action,
            params: safeParams,
            result: 'succeeded',
          });
        }
        return result;
      });
      this.#changed();
      return committed;
    } catch (error) {
      if (target && error instanceof DomainError && RECORDED_FAILURES.has(error.code)) {
        const at = this.#clock();
        for (const t of [target, ...others]) {
          await insertActivity(this.#db, {
            at,
            actorId: caller.userId,
            target: t,
            action,
            params: safeParams,
            result: 'failed',
            error: error.code,
          }).catch((recordError: unknown) =>
            this.#logger.error(
              { err: recordError, action, target: t },
              'could not record a failed operation',
            ),
          );
        }
      }
      throw error;
    }
  }

  /** A resource's feed; the caller's right to read it is checked by the resource's service. */
  forResource(
    q: Queryable,
    target: ActivityTarget & { id: number },
    query: FeedQuery,
  ): Promise<Page<Activity>> {
    return resourceFeed(q, target.kind, target.id, query);
  }

  /** What a user did: their own feed, or anyone's for an admin. */
  async forUser(caller: Caller, username: string, query: FeedQuery): Promise<Page<Activity>> {
    if (username !== caller.username && !caller.admin) {
      throw new NotAllowedError("only admins may read another user's activity");
    }
    const user = await findUserByName(this.#db, username);
    if (!user) throw new NotFoundError(`user "${username}" not found`);
    return actorFeed(this.#db, user.id, query);
  }
}
