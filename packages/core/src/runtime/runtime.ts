import type { CellHealthState } from '@leengine/common';
import { type CellClient, type ReconcileResult, Reconciler } from '@leengine/kube';
import type { Logger } from 'pino';
import { allPlacements } from '../applications/placementStore.ts';
import { listCells } from '../cells/cellStore.ts';
import type { Clock } from '../clock.ts';
import type { SecretBox } from '../crypto/secretBox.ts';
import type { Database } from '../db/database.ts';
import { runningOperationIds } from '../operations/operationStore.ts';
import type { TrafficGate } from '../traffic/trafficGate.ts';
import type { CellAccess } from './cellAccess.ts';
import { CellConnections } from './cellConnections.ts';
import { CellSync } from './cellSync.ts';
import { EventCollector } from './eventCollector.ts';
import { OperationDriver } from './operationDriver.ts';
import type { RuntimeSignals } from './signals.ts';

export interface RuntimeDeps {
  db: Database;
  clock: Clock;
  logger: Logger;
  box: SecretBox | undefined;
  gate: TrafficGate;
  /** The region registry's host as cells reach it: application namespaces get a pull secret for it. */
  registryHost?: string | undefined;
  /** Every placement and running operation is reconciled at least this often. Default 30 s. */
  resyncMs?: number;
  /** Default 5 s. */
  healthIntervalMs?: number;
  /** An application's namespace is gone from a cell (see CellSyncDeps). */
  namespaceGone?: (cell: string, application: string) => Promise<void>;
  /** Before an application is applied in a cell (see CellSyncDeps). */
  beforeApply?: (cell: string, application: string) => Promise<void>;
}

const SWEEP = 'sweep@';

/**
 * Core's workers: a connection per cell (watches, health), the cell reconciler (one key
 * per application and cell, plus a sweep per cell), the operation driver, and the event
 * collector. Everything they act on comes from the database, so what services commit is
 * picked up by signals at once and by a periodic resync in any case, also after a
 * restart.
 */
export class Runtime implements RuntimeSignals, CellAccess {
  readonly connections: CellConnections;
  readonly cells: Reconciler;
  readonly operations: Reconciler;
  readonly events: EventCollector;
  readonly #db: Database;
  readonly #logger: Logger;
  readonly #resyncMs: number;
  readonly #inflight = new Set<Promise<unknown>>();
  #timer: NodeJS.Timeout | undefined;
  #started = false;

  constructor(deps: RuntimeDeps) {
    const { db, clock, logger, box } = deps;
    this.#db = db;
    this.#logger = logger.child({ component: 'runtime' });
    this.#resyncMs = deps.resyncMs ?? 30_000;
    this.events = new EventCollector({ db, logger: this.#logger });
    this.connections = new CellConnections({
      db,
      box,
      clock,
      logger: this.#logger,
      onDeployment: (cell, namespace) => this.cells.enqueue(`${namespace}@${cell}`),
      onEvent: (cell, event) => this.events.add(cell, event),
      onHealthy: (cell) => this.cells.enqueue(`${SWEEP}${cell}`),
      healthIntervalMs: deps.healthIntervalMs,
    });
    const sync = new CellSync({
      db,
      box,
      clock,
      logger: this.#logger,
      connections: this.connections,
      registryHost: deps.registryHost,
      observed: (applicationId) => void this.#operationsOf(applicationId),
      enqueue: (application, cell) => this.cells.enqueue(`${application}@${cell}`),
      ...(deps.namespaceGone ? { namespaceGone: deps.namespaceGone } : {}),
      ...(deps.beforeApply ? { beforeApply: deps.beforeApply } : {}),
    });
    const driver = new OperationDriver({
      db,
      clock,
      logger: this.#logger,
      cells: this.connections,
      gate: deps.gate,
      applicationChanged: (name) => this.applicationChanged(name),
    });
    const backoff = { baseMs: 500, maxMs: 10_000 };
    this.cells = new Reconciler({
      name: 'cells',
      backoff,
      logger: this.#logger,
      reconcile: (key) =>
        this.#track(() => {
          if (key.startsWith(SWEEP)) return sync.sweep(key.slice(SWEEP.length));
          const at = key.lastIndexOf('@');
          return sync.reconcile(key.slice(0, at), key.slice(at + 1));
        }),
    });
    this.operations = new Reconciler({
      name: 'operations',
      backoff,
      logger: this.#logger,
      reconcile: (key) => this.#track(() => driver.reconcile(Number(key))),
    });
  }

  async start(): Promise<void> {
    this.#started = true;
    await this.connections.start();
    this.cells.start();
    this.operations.start();
    await this.resync();
    this.#timer = setInterval(() => void this.resync(), this.#resyncMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.all([this.operations.stop(), this.cells.stop()]);
    // Reconciles aborted by stop() may still be finishing a database write.
    await Promise.race([
      Promise.allSettled([...this.#inflight]),
      new Promise((r) => setTimeout(r, 10_000).unref()),
    ]);
    await this.connections.stop();
    await this.events.flushed();
  }

  /** Enqueues every placement, every cell's sweep and every running operation. */
  async resync(): Promise<void> {
    try {
      for (const p of await allPlacements(this.#db)) this.cells.enqueue(`${p.application}@${p.cell}`);
      for (const c of await listCells(this.#db)) this.cells.enqueue(`${SWEEP}${c.name}`);
      for (const id of await runningOperationIds(this.#db)) this.operations.enqueue(String(id));
    } catch (error) {
      if (this.#started) this.#logger.warn({ err: error }, 'resync failed');
    }
  }

  applicationChanged(name: string, cells?: string[]): void {
    for (const cell of cells ?? []) this.cells.enqueue(`${name}@${cell}`);
    void this.#db
      .query<{ cell: string }>(
        `select c.name as cell from application_cells ac join applications a on a.id = ac.application_id
         join cells c on c.id = ac.cell_id where a.name = $1`,
        [name],
      )
      .then((rows) => {
        for (const r of rows) this.cells.enqueue(`${name}@${r.cell}`);
      })
      .catch((error: unknown) => this.#logger.warn({ err: error, application: name }, 'could not enqueue'));
  }

  operationChanged(id: number): void {
    this.operations.enqueue(String(id));
  }

  cellsChanged(): void {
    void this.connections.refresh().then(() => this.resync());
  }

  client(cell: string): CellClient | undefined {
    return this.connections.client(cell);
  }

  health(cell: string): { state: CellHealthState; message: string } {
    return this.connections.health(cell);
  }

  async #operationsOf(applicationId: number): Promise<void> {
    try {
      const rows = await this.#db.query<{ id: number }>(
        `select id from operations where application_id = $1 and state in ('running', 'rolling-back')`,
        [applicationId],
      );
      for (const r of rows) this.operations.enqueue(String(r.id));
    } catch {
      // the periodic resync picks it up
    }
  }

  #track(run: () => Promise<ReconcileResult>): Promise<ReconcileResult> {
    const promise = run();
    this.#inflight.add(promise);
    void promise.catch(() => {}).finally(() => this.#inflight.delete(promise));
    return promise;
  }
}
