import {
  type Access,
  type Activity,
  allowedActions,
  type FeedQuery,
  type Page,
  type ResourceKind,
} from '@leengine/common';
import type { ActivityService } from '../activity/activityService.ts';
import type { Caller } from '../auth/caller.ts';
import type { Database } from '../db/database.ts';
import { authorize } from './authorize.ts';
import { findResource, notFound, type ResourceRef } from './resourceRef.ts';

export interface AccessServiceDeps {
  db: Database;
  activity: ActivityService;
}

/** What the four resources share: "what may I do here" and the resource's activity feed. */
export class AccessService {
  readonly #db: Database;
  readonly #activity: ActivityService;

  private constructor(deps: AccessServiceDeps) {
    this.#db = deps.db;
    this.#activity = deps.activity;
  }

  static create(deps: AccessServiceDeps): AccessService {
    return new AccessService(deps);
  }

  /** The caller's role and every action the permission table allows them on the resource. */
  async access(caller: Caller, kind: ResourceKind, name: string): Promise<Access> {
    const grant = await authorize(this.#db, caller, await this.#find(kind, name), 'read');
    return { role: grant.role, admin: grant.admin, actions: allowedActions(grant, kind) };
  }

  /** The resource's activity feed, newest first (`read-activity`). */
  async activity(
    caller: Caller,
    kind: ResourceKind,
    name: string,
    query: FeedQuery,
  ): Promise<Page<Activity>> {
    const ref = await this.#find(kind, name);
    await authorize(this.#db, caller, ref, 'read-activity');
    return this.#activity.forResource(this.#db, ref, query);
  }

  async #find(kind: ResourceKind, name: string): Promise<ResourceRef> {
    const ref = await findResource(this.#db, kind, name);
    if (!ref) throw notFound(kind, name);
    return ref;
  }
}
