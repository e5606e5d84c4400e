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
import type { RuntimeSignals } from '../runtime/signals.ts';
import {
  type ApplicationRow,
  deleteApplication,
  findApplication,
  insertApplication,
  listApplications,
  toApplication,
  updateApplication,
} from './applicationStore.ts';
import { choosePlacement } from './placement.ts';
import { insertPlacement, type PlacementRow, placementsOf } from './placementStore.ts';

export interface ApplicationServiceDeps {
  db: Database;
  clock: Clock;
  activity: ActivityService;
  quotas: QuotaService;
  signals: RuntimeSignals;
}

function cellsOf(placements: PlacementRow[]): Application['cells'] {
  return placements.map((p) => ({ name: p.cell, state: p.state }));
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
  readonly #signals: RuntimeSignals;

  private constructor(deps: ApplicationServiceDeps) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#activity = deps.activity;
    this.#quotas = deps.quotas;
    this.#signals = deps.signals;
  }

  static create(deps: ApplicationServiceDeps): ApplicationService {
    return new ApplicationService(deps);
  }

  /**
   * Creates an application owned by the caller, within their application quota, placed
   * on cells of its region; the runtime then creates its namespace and Service in each.
   */
  async create(caller: Caller, input: CreateApplication): Promise<Application> {
    const created = await this.#activity.change(caller, 'create', input, async (tx, setTarget) => {
      setTarget({ kind: 'application', id: null, name: input.name });
      await this.#quotas.check(tx, caller.userId, { applications: 1 });
      if (await findApplication(tx, input.name)) throw taken(input.name);
      const placement = await choosePlacement(tx, input);
      const at = this.#clock();
      let row: ApplicationRow;
      try {
        row = await insertApplication(tx, {
          name: input.name,
          description: input.description,
          createdById: caller.userId,
          regionId: placement.region?.id ?? null,
          at,
        });
      } catch (error) {
        throw isUniqueViolation(error) ? taken(input.name) : error;
      }
      await addMember(tx, 'application', row.id, caller.userId, 'owner', at);
      for (const cell of placement.cells) await insertPlacement(tx, row.id, cell.id, 'active', at);
      setTarget(refOf(row));
      return toApplication(row, 'owner', cellsOf(await placementsOf(tx, row.id)));
    });
    this.#signals.applicationChanged(created.name);
    return created;
  }

  async get(caller: Caller, name: string): Promise<Application> {
    const { row, grant } = await this.#load(this.#db, caller, name, 'read');
    return toApplication(row, grant.role, cellsOf(await placementsOf(this.#db, row.id)));
  }

  async list(caller: Caller, query: ResourceListQuery): Promise<Page<Application>> {
    assertMayListAll(caller, query);
    return listApplications(this.#db, caller.userId, query, query.scope === 'all');
  }

  async update(caller: Caller, name: string, input: UpdateApplication): Promise<Application> {
    return this.#activity.change(caller, 'update', input, async (tx, setTarget) => {
      const { row, grant } = await this.#load(tx, caller, name, 'update', setTarget);
      await updateApplication(tx, row.id, input, this.#clock());
      return toApplication(
        (await findApplication(tx, name)) as ApplicationRow,
        grant.role,
        cellsOf(await placementsOf(tx, row.id)),
      );
    });
  }

  /** Deletes the application; the runtime removes its namespace from every cell. */
  async delete(caller: Caller, name: string): Promise<void> {
    const cells = await this.#activity.change(caller, 'delete', {}, async (tx, setTarget) => {
      const { row } = await this.#load(tx, caller, name, 'delete', setTarget);
      const placements = await placementsOf(tx, row.id);
      await deleteApplication(tx, row.id);
      return placements.map((p) => p.cell);
    });
    this.#signals.applicationChanged(name, cells);
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
