import type { OperationStep } from '@leengine/common';
import { done, type ReconcileResult, requeueAfter } from '@leengine/kube';
import type { Logger } from 'pino';
import { type PlacementRow, placementsOf } from '../applications/placementStore.ts';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import { type EventInput, upsertEvent } from '../events/eventStore.ts';
import {
  findOperation,
  type OperationParams,
  type OperationRow,
  RUNNING_STATES,
  writeOperation,
} from '../operations/operationStore.ts';
import { REVERSIBLE, rollbackStep, type StepName } from '../operations/steps.ts';
import type { Endpoint, TrafficGate } from '../traffic/trafficGate.ts';
import {
  findVersionById,
  recomputeAllocation,
  setReplicas,
  setVersionState,
  type VersionCellRow,
  type VersionRow,
  versionCells,
} from '../versions/versionStore.ts';
import type { CellAccess } from './cellAccess.ts';

export interface OperationDriverDeps {
  db: Database;
  clock: Clock;
  logger: Logger;
  cells: CellAccess;
  gate: TrafficGate;
  /** The desired state of an application changed: reconcile its cells. */
  applicationChanged(name: string): void;
}

type Outcome =
  /** `reread`: the step changed the desired state; later steps must see it fresh (next run). */
  | { kind: 'done'; message: string; progress?: OperationStep['progress']; reread?: boolean }
  | { kind: 'wait'; message: string; progress?: OperationStep['progress'] }
  | { kind: 'fail'; message: string };

const ok = (message: string, progress?: OperationStep['progress']): Outcome => ({
  kind: 'done',
  message,
  ...(progress ? { progress } : {}),
});
const wait = (message: string, progress?: OperationStep['progress']): Outcome => ({
  kind: 'wait',
  message,
  ...(progress ? { progress } : {}),
});

/** What a step sees: the operation's version, where the application runs, what the cells last reported. */
interface Snapshot {
  op: OperationRow;
  version: VersionRow;
  replaced: VersionRow[];
  placements: PlacementRow[];
  observed: VersionCellRow[];
  now: Date;
}

/** While waiting on cells or the load balancer, look again this often (watch events come sooner). */
const WAIT_MS = 1000;

/**
 * Drives tracked operations (gray upgrade, rollback, scaling) step by step, level-based:
 * each run reads the operation and what the cell reconciler observed from the database,
 * moves through every step that is complete, writes the progress, and asks to run again
 * while it waits. A core restart resumes where the database says it is. A reversible
 * step that fails or passes its deadline turns a deploy into a roll-back that removes
 * the new version while the old one keeps serving.
 */
export class OperationDriver {
  readonly #deps: OperationDriverDeps;

  constructor(deps: OperationDriverDeps) {
    this.#deps = deps;
  }

  async reconcile(id: number): Promise<ReconcileResult> {
    const { db, clock } = this.#deps;
    const op = await findOperation(db, id);
    if (!op || !RUNNING_STATES.includes(op.state)) return done;
    const version = await findVersionById(db, op.versionId);
    if (!version) return done;
    const replaced = (await Promise.all(op.replaces.map((r) => findVersionById(db, r)))).filter(
      (v): v is VersionRow => v !== undefined,
    );
    const now = clock();
    const snap: Snapshot = {
      op,
      version,
      replaced,
      placements: (await placementsOf(db, op.applicationId)).filter((p) => p.state === 'active'),
      observed: await versionCells(db, [version.id, ...replaced.map((v) => v.id)]),
      now,
    };
    const steps: OperationStep[] = structuredClone(op.steps);
    const params: OperationParams = structuredClone(op.params);
    const events: EventInput[] = [];
    let state = op.state;
    let error = op.error;
    let finishedAt: Date | null = null;
    let waiting = false;
    // One event per step outcome: its uid names the operation, step and reason, so a
    // run that repeats after a failed write updates it instead of adding another.
    const event = (reason: string, message: string, type = 'Normal') => {
      const at = steps.findIndex((x) => x.state === 'running' || x.state === 'failed');
      events.push({
        cell: '',
        uid: `op${op.id}-${at === -1 ? 'end' : at}-${reason}`,
        type,
        reason,
        message,
        object: `Version/${version.name}`,
        count: 1,
        at: now,
      });
    };

    for (;;) {
      const s = steps.find((x) => x.state === 'pending' || x.state === 'running');
      if (!s) {
        state = state === 'rolling-back' ? (params.aborted ? 'aborted' : 'failed') : 'succeeded';
        finishedAt = now;
        const kind = op.kind === 'deploy' ? 'Deploy' : op.kind === 'rollback' ? 'Rollback' : 'Scale';
        const outcome = state === 'succeeded' ? 'Succeeded' : state === 'aborted' ? 'Aborted' : 'Failed';
        event(
          `${kind}${outcome}`,
          state === 'succeeded'
            ? `${op.kind} of ${version.name} done`
            : `${op.kind} of ${version.name} ${state}: ${error ?? ''}`,
          state === 'succeeded' ? 'Normal' : 'Warning',
        );
        break;
      }
      if (s.state === 'pending') {
        s.state = 'running';
        s.startedAt = now.toISOString();
      }
      const outcome = await this.#run(s.name as StepName, snap, params);
      if ('progress' in outcome && outcome.progress) s.progress = outcome.progress;
      s.message = outcome.message;
      if (outcome.kind === 'done') {
        event(REASONS[s.name as StepName] ?? 'StepDone', outcome.message);
        s.state = 'done';
        s.finishedAt = now.toISOString();
        if (outcome.reread) break;
        continue;
      }
      if (outcome.kind === 'wait') {
        waiting = true;
        break;
      }
      s.state = 'failed';
      s.finishedAt = now.toISOString();
      error = outcome.message;
      for (const rest of steps) if (rest.state === 'pending') rest.state = 'skipped';
      event(`${op.kind === 'scale' ? 'Scale' : 'Upgrade'}StepFailed`, outcome.message, 'Warning');
      if (op.kind !== 'scale' && state === 'running' && REVERSIBLE.has(s.name)) {
        state = 'rolling-back';
        steps.push(
          rollbackStep(
            version.name,
            replaced.map((v) => v.name),
          ),
        );
        continue;
      }
      state = 'failed';
      finishedAt = now;
      break;
    }

    const changed =
      state !== op.state ||
      error !== op.error ||
      JSON.stringify(steps) !== JSON.stringify(op.steps) ||
      JSON.stringify(params) !== JSON.stringify(op.params);
    if (changed) {
      const written = await db.transaction(async (tx) => {
        const ok = await writeOperation(tx, id, op.state, { state, steps, error, params, finishedAt }, now);
        if (ok) for (const e of events) await upsertEvent(tx, op.applicationId, e);
        return ok;
      });
      // Someone (an abort) changed it meanwhile: run again on what is there now.
      if (!written) return requeueAfter(10);
      if (state !== op.state || finishedAt) {
        this.#deps.logger.info(
          { operation: id, application: op.application, kind: op.kind, state, error },
          'operation state',
        );
      }
    }
    if (finishedAt) return done;
    return requeueAfter(waiting ? WAIT_MS : 10);
  }

  async #run(step: StepName, snap: Snapshot, params: OperationParams): Promise<Outcome> {
    switch (step) {
      case 'create':
        return this.#deadline(snap, this.#created(snap));
      case 'ready':
        return this.#deadline(
          snap,
          snap.op.kind === 'scale' ? await this.#scaledReady(snap, params) : this.#ready(snap),
        );
      case 'routable':
        return this.#deadline(snap, await this.#routable(snap));
      case 'drain':
        return this.#drainWithDeadline(snap, params);
      case 'retire':
        return this.#retire(snap);
      case 'select':
        return this.#select(snap, params);
      case 'scale':
        return this.#scale(snap, params);
      case 'rollback':
        return this.#rollback(snap);
    }
  }

  /** A waiting step past the operation's deadline fails. */
  #deadline(snap: Snapshot, outcome: Outcome): Outcome {
    if (outcome.kind !== 'wait' || !snap.op.deadline || snap.now <= snap.op.deadline) return outcome;
    return { kind: 'fail', message: `timed out: ${outcome.message}` };
  }

  #row(snap: Snapshot, versionId: number, cellId: number): VersionCellRow | undefined {
    return snap.observed.find((r) => r.versionId === versionId && r.cellId === cellId);
  }

  #created(snap: Snapshot): Outcome {
    const present = snap.placements.filter((p) => this.#row(snap, snap.version.id, p.cellId)?.present);
    const progress = { done: present.length, total: snap.placements.length };
    const missing = snap.placements.filter((p) => !present.includes(p)).map((p) => p.cell);
    return missing.length === 0
      ? ok(`${snap.version.name} exists in ${present.map((p) => p.cell).join(', ')}`, progress)
      : wait(`waiting for ${missing.join(', ')}`, progress);
  }

  #ready(snap: Snapshot): Outcome {
    let total = 0;
    let ready = 0;
    const behind: string[] = [];
    for (const p of snap.placements) {
      const want = snap.version.replicas[p.cell] ?? 0;
      const row = this.#row(snap, snap.version.id, p.cellId);
      total += want;
      ready += Math.min(want, row?.ready ?? 0);
      if (!row?.present || row.desired !== want || row.ready < want)
        behind.push(`${p.cell} ${row?.ready ?? 0}/${want}`);
    }
    const progress = { done: ready, total };
    return behind.length === 0
      ? ok(`${ready}/${total} instances of ${snap.version.name} Ready`, progress)
      : wait(`${ready}/${total} instances of ${snap.version.name} Ready (${behind.join(', ')})`, progress);
  }

  async #routable(snap: Snapshot): Promise<Outcome> {
    const endpoints = await this.#endpoints(snap, [snap.version.name], true);
    if (!endpoints) return wait('a cell did not answer for the instance list');
    const routable = await this.#deps.gate.routable(snap.op.application, endpoints);
    return routable
      ? ok(`${endpoints.length} instances of ${snap.version.name} routable`)
      : wait(`waiting for the load balancer to route to ${endpoints.length} instances`);
  }

  /**
   * The drain waits for the load balancer's confirmation, but not past the deadline: then
   * it fails (a failed drain is not rolled back). Nothing has been stopped yet, so the
   * drain is released and what runs keeps serving: the old versions beside the new one
   * (a gray upgrade), or every instance (a scale-down).
   */
  async #drainWithDeadline(snap: Snapshot, params: OperationParams): Promise<Outcome> {
    const scale = snap.op.kind === 'scale';
    const outcome = this.#deadline(
      snap,
      scale ? await this.#drainPods(snap, params) : await this.#drainVersions(snap),
    );
    if (outcome.kind !== 'fail') return outcome;
    const target = scale
      ? { versions: [], endpoints: this.#removed(snap, params) }
      : { versions: snap.replaced.map((v) => v.name), endpoints: [] };
    await this.#deps.gate.release(snap.op.application, target);
    const what = scale
      ? `${target.endpoints.length} instances of ${snap.version.name}`
      : target.versions.join(', ');
    const kept = scale
      ? 'nothing was stopped, every instance keeps serving'
      : `${snap.version.name} and ${what} both keep running and serving; deploy again or roll back`;
    return {
      kind: 'fail',
      message: `the load balancer did not confirm ${what} out by the deadline: ${kept}`,
    };
  }

  async #drainVersions(snap: Snapshot): Promise<Outcome> {
    const versions = snap.replaced.map((v) => v.name);
    const drained = await this.#deps.gate.drain(snap.op.application, { versions, endpoints: [] });
    return drained
      ? ok(`${versions.join(', ')} out of the load balancer (confirmed)`)
      : wait(`waiting for the load balancer to confirm ${versions.join(', ')} is out`);
  }

  async #retire(snap: Snapshot): Promise<Outcome> {
    const { db } = this.#deps;
    const stillActive = snap.replaced.filter((v) => v.state === 'active');
    if (stillActive.length > 0) {
      await db.transaction(async (tx) => {
        await setVersionState(
          tx,
          stillActive.map((v) => v.id),
          'retired',
          snap.now,
        );
        await recomputeAllocation(tx, snap.op.applicationId);
      });
      this.#deps.applicationChanged(snap.op.application);
    }
    const left = snap.observed.filter((r) => r.present && snap.replaced.some((v) => v.id === r.versionId));
    const names = snap.replaced.map((v) => v.name).join(', ');
    if (left.length > 0) {
      const pods = left.reduce((n, r) => n + r.current, 0);
      return wait(
        `${names}: ${pods} instances stopping in ${[...new Set(left.map((r) => r.cell))].join(', ')}`,
      );
    }
    await this.#deps.gate.release(snap.op.application, {
      versions: snap.replaced.map((v) => v.name),
      endpoints: [],
    });
    return ok(`${names} scaled down and deleted`);
  }

  async #rollback(snap: Snapshot): Promise<Outcome> {
    const { db } = this.#deps;
    if (snap.version.state === 'active') {
      await db.transaction(async (tx) => {
        await setVersionState(tx, [snap.version.id], 'retired', snap.now);
        await recomputeAllocation(tx, snap.op.applicationId);
      });
      this.#deps.applicationChanged(snap.op.application);
    }
    const left = snap.observed.filter((r) => r.present && r.versionId === snap.version.id);
    if (left.length > 0) return wait(`${snap.version.name} still in ${left.map((r) => r.cell).join(', ')}`);
    const kept = snap.replaced.filter((v) => v.state === 'active').map((v) => v.name);
    return ok(`${snap.version.name} removed${kept.length ? `; ${kept.join(', ')} serving` : ''}`);
  }

  async #select(snap: Snapshot, params: OperationParams): Promise<Outcome> {
    const target = params.target ?? {};
    const chosen: NonNullable<OperationParams['remove']> = [];
    for (const p of snap.placements) {
      const want = target[p.cell];
      if (want === undefined) continue;
      const client = this.#deps.cells.client(p.cell);
      if (!client) return wait(`cell ${p.cell} is not connected`);
      let pods: Awaited<ReturnType<typeof client.containers>>;
      try {
        pods = (await client.containers(snap.op.application)).filter(
          (c) => c.version === snap.version.name && c.phase !== 'Terminating',
        );
      } catch (error) {
        return wait(`cell ${p.cell} did not answer: ${(error as Error).message}`);
      }
      if (pods.length <= want) continue;
      // The ones that serve least go first: not ready, then the newest.
      pods.sort(
        (a, b) => Number(a.ready) - Number(b.ready) || (b.startedAt ?? '').localeCompare(a.startedAt ?? ''),
      );
      const stop = pods.slice(0, pods.length - want);
      try {
        await client.setDeletionCost(
          snap.op.application,
          stop.map((c) => c.name),
          -1000,
        );
      } catch (error) {
        return wait(`cell ${p.cell} did not answer: ${(error as Error).message}`);
      }
      chosen.push(...stop.map((c) => ({ cell: p.cell, pod: c.name, ip: c.ip })));
    }
    params.remove = chosen;
    return ok(
      chosen.length ? `stopping ${chosen.map((c) => `${c.pod} (${c.ip})`).join(', ')}` : 'nothing to stop',
    );
  }

  async #drainPods(snap: Snapshot, params: OperationParams): Promise<Outcome> {
    const endpoints = this.#removed(snap, params);
    if (endpoints.length === 0) return ok('nothing to drain');
    const drained = await this.#deps.gate.drain(snap.op.application, { versions: [], endpoints });
    return drained
      ? ok(`${endpoints.length} instances out of the load balancer (confirmed)`)
      : wait(`waiting for the load balancer to confirm ${endpoints.length} instances are out`);
  }

  async #scale(snap: Snapshot, params: OperationParams): Promise<Outcome> {
    const replicas = { ...snap.version.replicas, ...params.target };
    if (JSON.stringify(replicas) !== JSON.stringify(snap.version.replicas)) {
      await this.#deps.db.transaction(async (tx) => {
        await setReplicas(tx, snap.version.id, replicas, snap.now);
        await recomputeAllocation(tx, snap.op.applicationId);
      });
      this.#deps.applicationChanged(snap.op.application);
    }
    return {
      kind: 'done',
      message: `${snap.version.name}: ${Object.entries(replicas)
        .map(([c, n]) => `${c} ${n}`)
        .join(', ')}`,
      reread: true,
    };
  }

  async #scaledReady(snap: Snapshot, params: OperationParams): Promise<Outcome> {
    let total = 0;
    let ready = 0;
    const behind: string[] = [];
    for (const p of snap.placements) {
      const want = params.target?.[p.cell] ?? snap.version.replicas[p.cell] ?? 0;
      const row = this.#row(snap, snap.version.id, p.cellId);
      total += want;
      ready += Math.min(want, row?.ready ?? 0);
      if (!row?.present || row.desired !== want || row.ready < want || row.current !== want) {
        behind.push(
          `${p.cell} ${row?.ready ?? 0}/${want}${row && row.current > want ? ` (${row.current - want} stopping)` : ''}`,
        );
      }
    }
    const progress = { done: ready, total };
    if (behind.length > 0) return wait(`${ready}/${total} instances Ready (${behind.join(', ')})`, progress);
    const removed = this.#removed(snap, params);
    if (removed.length > 0)
      await this.#deps.gate.release(snap.op.application, { versions: [], endpoints: removed });
    return ok(`${ready}/${total} instances Ready`, progress);
  }

  #removed(snap: Snapshot, params: OperationParams): Endpoint[] {
    return (params.remove ?? []).map((r) => ({
      cell: r.cell,
      version: snap.version.name,
      pod: r.pod,
      ip: r.ip,
      port: snap.version.port,
    }));
  }

  /** Live instances of `versions` in every cell; undefined when a cell does not answer. */
  async #endpoints(snap: Snapshot, versions: string[], readyOnly: boolean): Promise<Endpoint[] | undefined> {
    const out: Endpoint[] = [];
    for (const p of snap.placements) {
      const client = this.#deps.cells.client(p.cell);
      if (!client) return undefined;
      try {
        for (const c of await client.containers(snap.op.application)) {
          if (!versions.includes(c.version) || c.phase === 'Terminating' || (readyOnly && !c.ready) || !c.ip)
            continue;
          out.push({ cell: p.cell, version: c.version, pod: c.name, ip: c.ip, port: snap.version.port });
        }
      } catch {
        return undefined;
      }
    }
    return out;
  }
}

const REASONS: Record<StepName, string> = {
  create: 'VersionCreated',
  ready: 'VersionReady',
  routable: 'VersionRoutable',
  drain: 'VersionDrained',
  retire: 'VersionRetired',
  select: 'InstancesChosen',
  scale: 'VersionScaled',
  rollback: 'VersionRemoved',
};
