import { randomUUID } from 'node:crypto';
import {
  ConflictError,
  NotAllowedError,
  NotFoundError,
  type RegistryGc,
  type StartRegistryGc,
  UnavailableError,
} from '@leengine/common';
import type { Logger } from 'pino';
import type { ActivityService } from '../activity/activityService.ts';
import type { Caller } from '../auth/caller.ts';
import type { Clock } from '../clock.ts';
import type { RegistryMaintenance } from './registryMaintenance.ts';

export interface RegistryGcServiceDeps {
  clock: Clock;
  logger: Logger;
  activity: ActivityService;
  /** The registry's host; without it every call answers 503. */
  maintenance?: RegistryMaintenance | undefined;
  /** How many finished collections are kept for GET (default 20). */
  keep?: number;
}

type Step = RegistryGc['steps'][number];

/**
 * Garbage collection of the region registry, for admins: a dry run reports what would go
 * while the registry stays read-write; a collection restarts it read-only, runs
 * `garbage-collect`, and restarts it read-write again, also when something failed. One
 * at a time. The operations live in this core's memory (the last `keep`); who started
 * what and how it ended is in the admin's activity feed.
 */
export class RegistryGcService {
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #activity: ActivityService;
  readonly #maintenance: RegistryMaintenance | undefined;
  readonly #keep: number;
  readonly #operations: RegistryGc[] = [];
  /** Set from the moment a start is accepted until its run has ended. */
  #busy = false;
  #running: Promise<void> | undefined;

  private constructor(deps: RegistryGcServiceDeps) {
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#activity = deps.activity;
    this.#maintenance = deps.maintenance;
    this.#keep = deps.keep ?? 20;
  }

  static create(deps: RegistryGcServiceDeps): RegistryGcService {
    return new RegistryGcService(deps);
  }

  /** Starts a dry run or a collection; 409 while another runs. Resolves once it is under way. */
  async start(caller: Caller, input: StartRegistryGc): Promise<RegistryGc> {
    const maintenance = this.#available(caller);
    const id = randomUUID();
    let claimed = false;
    const operation = await this.#activity
      .change(
        caller,
        input.dryRun ? 'registry-gc-dry-run' : 'registry-gc',
        { id, deleteUntagged: input.deleteUntagged },
        async (_tx, setTarget) => {
          setTarget({ kind: 'user', id: caller.userId, name: caller.username });
          if (this.#busy) {
            const current = this.#operations.find((o) => o.state === 'running');
            throw new ConflictError(
              `a registry garbage collection is running (${current?.id ?? 'starting'}): wait for it to end`,
            );
          }
          const at = this.#clock().toISOString();
          const op: RegistryGc = {
            id,
            dryRun: input.dryRun,
            deleteUntagged: input.deleteUntagged,
            state: 'running',
            startedBy: caller.username,
            startedAt: at,
            finishedAt: null,
            steps: (input.dryRun
              ? (['collect'] as const)
              : (['read-only', 'collect', 'read-write'] as const)
            ).map((name) => ({
              name,
              state: 'pending',
              startedAt: null,
              finishedAt: null,
              durationMs: null,
            })),
            report: null,
            bytesFreed: null,
            pushesRefusedMs: null,
            error: null,
          };
          // Claimed before the transaction commits: a second start in between sees it.
          this.#busy = true;
          claimed = true;
          return op;
        },
      )
      .catch((error: unknown) => {
        if (claimed) this.#busy = false;
        throw error;
      });
    this.#operations.unshift(operation);
    this.#operations.splice(this.#keep);
    this.#running = this.#run(caller, maintenance, operation).finally(() => {
      this.#busy = false;
      this.#running = undefined;
    });
    return structuredClone(operation);
  }

  /** The collections this core ran, newest first. */
  list(caller: Caller): RegistryGc[] {
    this.#available(caller);
    return this.#operations.map((o) => structuredClone(o));
  }

  get(caller: Caller, id: string): RegistryGc {
    this.#available(caller);
    const operation = this.#operations.find((o) => o.id === id);
    if (!operation) throw new NotFoundError(`registry garbage collection "${id}" not found`);
    return structuredClone(operation);
  }

  /** Resolves when the running collection (if any) has ended; for an orderly shutdown. */
  async idle(): Promise<void> {
    await this.#running;
  }

  #available(caller: Caller): RegistryMaintenance {
    if (!caller.admin) throw new NotAllowedError("only admins may collect the registry's garbage");
    if (!this.#maintenance) {
      throw new UnavailableError('this core does not manage the registry host: no garbage collection here');
    }
    return this.#maintenance;
  }

  async #run(caller: Caller, maintenance: RegistryMaintenance, op: RegistryGc): Promise<void> {
    const log = this.#logger.child({
      resource: 'registry',
      operation: 'registry-gc',
      id: op.id,
      dryRun: op.dryRun,
    });
    log.info({ deleteUntagged: op.deleteUntagged }, 'registry garbage collection started');
    let refusedFrom: number | undefined;
    const errors: string[] = [];
    try {
      if (!op.dryRun) {
        refusedFrom = performance.now();
        await this.#step(op, 'read-only', () => maintenance.setReadOnly(true));
      }
      const report = await this.#step(op, 'collect', () =>
        maintenance.garbageCollect({ dryRun: op.dryRun, deleteUntagged: op.deleteUntagged }),
      );
      op.report = {
        markedBlobs: report.markedBlobs,
        blobs: report.blobs,
        bytes: report.bytes,
        manifests: report.manifests,
        blobBytes: report.blobBytesBefore,
      };
      if (!op.dryRun) op.bytesFreed = report.blobBytesBefore - report.blobBytesAfter;
    } catch (error) {
      errors.push((error as Error).message);
      log.error({ err: error }, 'registry garbage collection failed');
    }
    if (refusedFrom !== undefined) {
      // Read-write again whatever happened before: pushes must not stay refused.
      try {
        await this.#step(op, 'read-write', () => maintenance.setReadOnly(false));
        op.pushesRefusedMs = Math.round(performance.now() - refusedFrom);
      } catch (error) {
        errors.push(`the registry could not be restarted read-write: ${(error as Error).message}`);
        log.error({ err: error }, 'the registry could not be restarted read-write: pushes stay refused');
      }
    }
    // The state changes last: whoever polls sees an ended operation only once all steps ran.
    if (errors.length > 0) {
      for (const step of op.steps) if (step.state === 'pending') step.state = 'failed';
      op.error = errors.join('; ');
    }
    op.state = errors.length > 0 ? 'failed' : 'succeeded';
    op.finishedAt = this.#clock().toISOString();
    log.info(
      {
        state: op.state,
        blobs: op.report?.blobs.length,
        bytes: op.report?.bytes,
        bytesFreed: op.bytesFreed,
        pushesRefusedMs: op.pushesRefusedMs,
      },
      'registry garbage collection ended',
    );
    await this.#activity
      .change(
        caller,
        op.dryRun ? 'registry-gc-dry-run-end' : 'registry-gc-end',
        {
          id: op.id,
          state: op.state,
          blobs: op.report?.blobs.length ?? null,
          bytes: op.report?.bytes ?? null,
          bytesFreed: op.bytesFreed,
          pushesRefusedMs: op.pushesRefusedMs,
          error: op.error,
        },
        async (_tx, setTarget) => setTarget({ kind: 'user', id: caller.userId, name: caller.username }),
      )
      .catch((error: unknown) =>
        log.error({ err: error }, 'could not record the end of a registry garbage collection'),
      );
  }

  async #step<T>(op: RegistryGc, name: Step['name'], fn: () => Promise<T>): Promise<T> {
    const step = op.steps.find((s) => s.name === name) as Step;
    step.state = 'running';
    step.startedAt = this.#clock().toISOString();
    const started = performance.now();
    try {
      const result = await fn();
      step.state = 'succeeded';
      return result;
    } catch (error) {
      step.state = 'failed';
      throw error;
    } finally {
      step.finishedAt = this.#clock().toISOString();
      step.durationMs = Math.round(performance.now() - started);
    }
  }
}
