import {
  type Application,
  ConflictError,
  type CreateApplication,
  type Page,
  type ResourceListQuery,
  type UpdateApplication,
} from '@leengine/common';
import { authorize } from '../access/authorize.ts';
import { assertMayListAll } from '../access/listScope.ts';
import { notFound, type ResourceRef } from '../access/resourceRef.ts';
import type { ActivityService } from '../activity/activityService.ts';
import type { Caller } from '../auth/caller.ts';
import type { Clock } from '../clock.ts';
import type { Database, Queryable } from '../db/database.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { addMember } from '../members/memberStore.ts';
import type { QuotaService } from '../quotas/quotaService.ts';
import {
  type ApplicationRow,
  deleteApplication,
  findApplication,
  insertApplication,
  listApplications,
  toApplication,
  updateApplication,
} from './applicationStore.ts';

export interface ApplicationServiceDeps {
  db: Database;
  clock: Clock;
  activity: ActivityService;
  quotas: QuotaService;
}

function refOf(row: ApplicationRow): ResourceRef {
  return { kind: 'application', id: row.id, name: row.name };
}

/** Applications: globally unique DNS-label names (they become namespaces in every cell). */
export class ApplicationService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #activity: ActivityService;
  readonly #quotas: QuotaService;

  private constructor(deps: ApplicationServiceDeps) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#activity = deps.activity;
    this.#quotas = deps.quotas;
  }

  static create(deps: ApplicationServiceDeps): ApplicationService {
    return new ApplicationService(deps);
  }

  /** Creates an application owned by the caller, within their application quota. */
  async create(caller: Caller, input: CreateApplication): Promise<Application> {
    return this.#activity.change(caller, 'create', input, async (tx, setTarget) => {
      setTarget({ kind: 'application', id: null, name: input.name });
      await this.#quotas.check(tx, caller.userId, { applications: 1 });
      if (await findApplication(tx, input.name)) throw taken(input.name);
      const at = this.#clock();
      let row: ApplicationRow;
      try {
        row = await insertApplication(tx, { ...input, createdById: caller.userId, at });
      } catch (error) {
        throw isUniqueViolation(error) ? taken(input.name) : error;
      }
      await addMember(tx, 'application', row.id, caller.userId, 'owner', at);
      setTarget(refOf(row));
      return toApplication(row, 'owner');
    });
  }

  async get(caller: Caller, name: string): Promise<Application> {
    const { row, grant } = await this.#load(this.#db, caller, name, 'read');
    return toApplication(row, grant.role);
  }

  async list(caller: Caller, query: ResourceListQuery): Promise<Page<Application>> {
    assertMayListAll(caller, query);
    return listApplications(this.#db, caller.userId, query, query.scope === 'all');
  }

  async update(caller: Caller, name: string, input: UpdateApplication): Promise<Application> {
    return this.#activity.change(caller, 'update', input, async (tx, setTarget) => {
      const { row, grant } = await this.#load(tx, caller, name, 'update', setTarget);
      await updateApplication(tx, row.id, input, this.#clock());
      return toApplication((await findApplication(tx, name)) as ApplicationRow, grant.role);
    });
  }

  async delete(caller: Caller, name: string): Promise<void> {
    await this.#activity.change(caller, 'delete', {}, async (tx, setTarget) => {
      const { row } = await this.#load(tx, caller, name, 'delete', setTarget);
      await deleteApplication(tx, row.id);
    });
  }

  async #load(
    q: Queryable,
    caller: Caller,
    name: string,
    action: string,
    setTarget?: (ref: ResourceRef) => void,
  ) {
    const row = await findApplication(q, name, { forUpdate: setTarget !== undefined });
    if (!row) throw notFound('application', name);
    setTarget?.(refOf(row));
    const grant = await authorize(q, caller, refOf(row), action);
    return { row, grant };
  }
}

function taken(name: string): ConflictError {
  return new ConflictError(`application "${name}" already exists`);
}
