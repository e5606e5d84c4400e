import { ConflictError, type FeedQuery, NotFoundError, type Operation, type Page } from '@leengine/common';
import { authorize } from '../access/authorize.ts';
import type { ActivityService } from '../activity/activityService.ts';
import { applicationRef, loadApplication } from '../applications/loadApplication.ts';
import type { Caller } from '../auth/caller.ts';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import { upsertEvent } from '../events/eventStore.ts';
import type { RuntimeSignals } from '../runtime/signals.ts';
import { findOperation, listOperations, writeOperation } from './operationStore.ts';
import { toOperation, toOperations } from './operationView.ts';
import { REVERSIBLE, rollbackStep } from './steps.ts';

export interface OperationServiceDeps {
  db: Database;
  clock: Clock;
  activity: ActivityService;
  signals: RuntimeSignals;
}

/** Reading tracked operations, and aborting one while it can still be undone. */
export class OperationService {
  readonly #deps: OperationServiceDeps;

  private constructor(deps: OperationServiceDeps) {
    this.#deps = deps;
  }

  static create(deps: OperationServiceDeps): OperationService {
    return new OperationService(deps);
  }

  /** Newest first. */
  async list(caller: Caller, application: string, query: FeedQuery): Promise<Page<Operation>> {
    const { row } = await loadApplication(this.#deps.db, caller, application, 'read');
    const page = await listOperations(this.#deps.db, row.id, query);
    return { items: await toOperations(this.#deps.db, page.items), nextCursor: page.nextCursor };
  }

  async get(caller: Caller, application: string, id: number): Promise<Operation> {
    const { row } = await loadApplication(this.#deps.db, caller, application, 'read');
    const op = await findOperation(this.#deps.db, id);
    if (!op || op.applicationId !== row.id)
      throw new NotFoundError(`operation ${id} of ${application} not found`);
    return toOperation(this.#deps.db, op);
  }

  /**
   * Aborts a running operation before the old version leaves the load balancer: a
   * deploy or rollback then removes its version (the old one keeps serving); a scaling
   * stops where it is. Needs the role the operation itself needs.
   */
  async abort(caller: Caller, application: string, id: number): Promise<Operation> {
    const { clock } = this.#deps;
    await this.#deps.activity.change(caller, 'abort', { operation: id }, async (tx, setTarget) => {
      const { row } = await loadApplication(tx, caller, application, 'read', setTarget);
      const op = await findOperation(tx, id, { forUpdate: true });
      if (!op || op.applicationId !== row.id)
        throw new NotFoundError(`operation ${id} of ${application} not found`);
      await authorize(tx, caller, applicationRef(row), op.kind);
      if (op.state !== 'running') throw new ConflictError(`operation ${id} is ${op.state}`);
      const steps = structuredClone(op.steps);
      const current = steps.find((s) => s.state === 'running' || s.state === 'pending');
      if (current && !REVERSIBLE.has(current.name)) {
        throw new ConflictError(`too late to abort: operation ${id} is at "${current.title}"`);
      }
      const at = clock();
      const message = `aborted by ${caller.username}`;
      if (current) {
        current.state = 'failed';
        current.message = message;
        current.finishedAt = at.toISOString();
      }
      for (const s of steps) if (s.state === 'pending') s.state = 'skipped';
      const replaced = await tx.query<{ name: string }>(
        'select name from versions where id = any($1::int[])',
        [op.replaces],
      );
      const scale = op.kind === 'scale';
      if (!scale)
        steps.push(
          rollbackStep(
            op.version,
            replaced.map((v) => v.name),
          ),
        );
      await writeOperation(
        tx,
        id,
        'running',
        {
          state: scale ? 'aborted' : 'rolling-back',
          steps,
          error: message,
          params: { ...op.params, aborted: true },
          finishedAt: scale ? at : null,
        },
        at,
      );
      await upsertEvent(tx, row.id, {
        cell: '',
        uid: `op${id}-abort`,
        type: 'Warning',
        reason: 'OperationAborted',
        message: `${op.kind} of ${op.version} ${message}`,
        object: `Version/${op.version}`,
        count: 1,
        at,
      });
    });
    this.#deps.signals.operationChanged(id);
    return this.get(caller, application, id);
  }
}
