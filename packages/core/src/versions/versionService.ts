import {
  ConflictError,
  can,
  type DeployVersion,
  InputError,
  type NewVersion,
  NotAllowedError,
  NotFoundError,
  type Operation,
  type Rollback,
  type ScaleVersion,
  type Version,
} from '@leengine/common';
import { grantOf } from '../access/authorize.ts';
import { findResource, type ResourceRef } from '../access/resourceRef.ts';
import type { ActivityService } from '../activity/activityService.ts';
import type { ApplicationRow } from '../applications/applicationStore.ts';
import { loadApplication } from '../applications/loadApplication.ts';
import { placementsOf } from '../applications/placementStore.ts';
import type { Caller } from '../auth/caller.ts';
import type { Clock } from '../clock.ts';
import { requireBox, type SecretBox } from '../crypto/secretBox.ts';
import type { Database, Queryable } from '../db/database.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { upsertEvent } from '../events/eventStore.ts';
import type { FixedAddressService } from '../fixedAddresses/fixedAddressService.ts';
import {
  findOperation,
  insertOperation,
  type OperationParams,
  runningOperation,
} from '../operations/operationStore.ts';
import { toOperation } from '../operations/operationView.ts';
import { scaleSteps, upgradeSteps } from '../operations/steps.ts';
import { grantRepository } from '../pullSecrets/pullCredentialStore.ts';
import type { QuotaService } from '../quotas/quotaService.ts';
import type { RuntimeSignals } from '../runtime/signals.ts';
import { type ImageRegistry, notInRegistry } from './imageRegistry.ts';
import { resolveInstances, spreadTotal, totalOf } from './instances.ts';
import {
  activeVersions,
  envContext,
  findVersion,
  insertVersion,
  listVersions,
  nextVersionNumber,
  type Replicas,
  recomputeAllocation,
  type StoredEnvVar,
  setReplicas,
  setVersionState,
  type VersionRow,
  versionCells,
} from './versionStore.ts';
import { toVersion } from './versionView.ts';

export interface VersionServiceDeps {
  db: Database;
  clock: Clock;
  activity: ActivityService;
  quotas: QuotaService;
  box: SecretBox | undefined;
  registry: ImageRegistry;
  signals: RuntimeSignals;
  /** With the cells' IPAM: versions must fit the application's fixed addresses. */
  fixedAddresses?: FixedAddressService | undefined;
}

const DEFAULT_TEMPLATE: NewVersion['template'] = {
  image: null,
  instances: 1,
  port: 8080,
  cpu: { requestMillicores: 100, limitMillicores: 500 },
  memory: { requestMib: 64, limitMib: 256 },
  env: [],
  healthCheck: null,
  terminationGracePeriodSeconds: 30,
  timeoutSeconds: 300,
};

/**
 * Versions of an application and the operations that change which run: deploy (a gray
 * upgrade), rollback to an earlier version, scaling. Each checks the caller's role and
 * the application creator's quota and writes the desired state, the operation and its
 * activity record in one transaction; nothing reaches a cell before that commits.
 */
export class VersionService {
  readonly #deps: VersionServiceDeps;

  private constructor(deps: VersionServiceDeps) {
    this.#deps = deps;
  }

  static create(deps: VersionServiceDeps): VersionService {
    return new VersionService(deps);
  }

  async list(caller: Caller, application: string): Promise<Version[]> {
    const { row } = await loadApplication(this.#deps.db, caller, application, 'read');
    const versions = await listVersions(this.#deps.db, row.id);
    const observed = await versionCells(
      this.#deps.db,
      versions.map((v) => v.id),
    );
    return versions.map((v) => toVersion(v, observed));
  }

  async get(caller: Caller, application: string, name: string): Promise<Version> {
    const { row } = await loadApplication(this.#deps.db, caller, application, 'read');
    const version = await findVersion(this.#deps.db, row.id, name);
    if (!version) throw new NotFoundError(`version "${name}" of ${application} not found`);
    return toVersion(version, await versionCells(this.#deps.db, [version.id]));
  }

  /** The deploy form prefilled from the newest version: usually only the tag changes. */
  async template(caller: Caller, application: string): Promise<NewVersion> {
    const { row } = await loadApplication(this.#deps.db, caller, application, 'read');
    const cells = (await placementsOf(this.#deps.db, row.id))
      .filter((p) => p.state === 'active')
      .map((p) => p.cell);
    const [latest] = await listVersions(this.#deps.db, row.id);
    if (!latest) return { previous: null, cells, template: DEFAULT_TEMPLATE };
    const counts = cells.map((c) => latest.replicas[c] ?? 0);
    const uniform = counts.every((n) => n === counts[0]);
    return {
      previous: latest.name,
      cells,
      template: {
        image: { repository: latest.imageRepository, tag: latest.imageTag },
        instances: uniform ? (counts[0] ?? 1) : Object.fromEntries(cells.map((c, i) => [c, counts[i] ?? 0])),
        port: latest.port,
        cpu: { requestMillicores: latest.cpuRequest, limitMillicores: latest.cpuLimit },
        memory: { requestMib: latest.memoryRequest, limitMib: latest.memoryLimit },
        // A secret comes back without its value: sent so, the new version keeps it.
        env: latest.env.map((e) =>
          e.secret ? { name: e.name, secret: true } : { name: e.name, value: e.value, secret: false },
        ),
        healthCheck: latest.healthCheck,
        terminationGracePeriodSeconds: latest.terminationGraceSeconds,
        timeoutSeconds: DEFAULT_TEMPLATE.timeoutSeconds,
      },
    };
  }

  /** Deploys a new version as a gray upgrade of the running ones; returns the operation. */
  async deploy(caller: Caller, application: string, input: DeployVersion): Promise<Operation> {
    const { db, clock } = this.#deps;
    // Role first (a Reporter learns nothing about tags), then the registry, outside the transaction.
    try {
      await loadApplication(db, caller, application, 'deploy');
    } catch (error) {
      if (!(error instanceof NotAllowedError)) throw error;
      // Checked again inside a change, so the refusal lands in the activity record.
      await this.#deps.activity.change(caller, 'deploy', deployParams(input), (tx, setTarget) =>
        loadApplication(tx, caller, application, 'deploy', setTarget),
      );
      throw error;
    }
    // The application's pull credential will pull this repository: only if the deployer may.
    await pullableRepository(db, caller, input.image);
    await this.#deps.registry.assertTagExists(input.image.repository, input.image.tag);
    const id = await this.#deps.activity.change(
      caller,
      'deploy',
      deployParams(input),
      async (tx, setTarget) => {
        const { row } = await loadApplication(tx, caller, application, 'deploy', setTarget);
        const cells = await this.#deployableCells(tx, row);
        const replicas = resolveInstances(input.instances, cells);
        const number = await nextVersionNumber(tx, row.id);
        const previous = await listVersions(tx, row.id);
        const env = this.#sealEnv(row.id, number, input.env, previous);
        const total = totalOf(replicas);
        await this.#deps.quotas.check(tx, row.createdById, {
          instances: total,
          cpuMillicores: total * input.cpu.requestMillicores,
          memoryMib: total * input.memory.requestMib,
        });
        const replaced = await activeVersions(tx, row.id);
        await this.#assertAddresses(application, [...replaced.map((v) => v.replicas), replicas]);
        const at = clock();
        const name = `v${number}`;
        const repository = await pullableRepository(tx, caller, input.image);
        if (repository) {
          await grantRepository(tx, {
            applicationId: row.id,
            repositoryId: repository.id,
            grantedById: caller.userId,
            at,
          });
        }
        const versionId = await insertVersion(tx, {
          applicationId: row.id,
          number,
          name,
          imageRepository: input.image.repository,
          imageTag: input.image.tag,
          image: this.#deps.registry.reference(input.image.repository, input.image.tag),
          port: input.port,
          cpuRequest: input.cpu.requestMillicores,
          cpuLimit: input.cpu.limitMillicores,
          memoryRequest: input.memory.requestMib,
          memoryLimit: input.memory.limitMib,
          env,
          healthCheck: input.healthCheck ?? null,
          terminationGraceSeconds: input.terminationGracePeriodSeconds,
          replicas,
          state: 'active',
          // With a registry, cells get the application's pull secret and its pods use it.
          pullSecret: this.#deps.registry.host !== undefined,
          createdById: caller.userId,
          at,
        });
        await recomputeAllocation(tx, row.id);
        return this.#startOperation(tx, row, caller, {
          kind: 'deploy',
          versionId,
          replaced,
          params: {},
          timeoutSeconds: input.timeoutSeconds,
          reason: 'DeployStarted',
          message: `deploying ${name} (${input.image.repository}:${input.image.tag})${replaced.length ? ` to replace ${replaced.map((v) => v.name).join(', ')}` : ''}`,
          version: name,
          steps: upgradeSteps(
            name,
            replaced.map((v) => v.name),
          ),
        });
      },
    );
    return this.#started(application, id);
  }

  /** Runs an earlier version again, as a gray upgrade of the current ones. */
  async rollback(caller: Caller, application: string, input: Rollback): Promise<Operation> {
    const { clock } = this.#deps;
    const id = await this.#deps.activity.change(caller, 'rollback', input, async (tx, setTarget) => {
      const { row } = await loadApplication(tx, caller, application, 'rollback', setTarget);
      const cells = await this.#deployableCells(tx, row);
      const target = await findVersion(tx, row.id, input.version);
      if (!target) throw new NotFoundError(`version "${input.version}" of ${application} not found`);
      if (target.state === 'active') throw new ConflictError(`${target.name} is already running`);
      const replaced = await activeVersions(tx, row.id);
      const newest = replaced.at(-1);
      const known = Object.values(target.replicas);
      const fallback = known.length ? Math.round(known.reduce((a, b) => a + b, 0) / known.length) : 1;
      const replicas: Replicas = Object.fromEntries(
        cells.map((c) => [c, target.replicas[c] ?? newest?.replicas[c] ?? fallback]),
      );
      await this.#assertAddresses(application, [...replaced.map((v) => v.replicas), replicas]);
      const total = totalOf(replicas);
      await this.#deps.quotas.check(tx, row.createdById, {
        instances: total,
        cpuMillicores: total * target.cpuRequest,
        memoryMib: total * target.memoryRequest,
      });
      const at = clock();
      await setReplicas(tx, target.id, replicas, at);
      await setVersionState(tx, [target.id], 'active', at);
      await recomputeAllocation(tx, row.id);
      return this.#startOperation(tx, row, caller, {
        kind: 'rollback',
        versionId: target.id,
        replaced,
        params: {},
        timeoutSeconds: input.timeoutSeconds,
        reason: 'RollbackStarted',
        message: `rolling back to ${target.name} (${target.imageRepository}:${target.imageTag})`,
        version: target.name,
        steps: upgradeSteps(
          target.name,
          replaced.map((v) => v.name),
        ),
      });
    });
    return this.#started(application, id);
  }

  /**
   * Scales a running version: a number is the total over the application's cells, a
   * record sets those cells. Growth is written at once (within quota); shrinking cells
   * first choose and drain the instances that stop.
   */
  async scale(caller: Caller, application: string, name: string, input: ScaleVersion): Promise<Operation> {
    const { clock } = this.#deps;
    const params = { version: name, instances: input.instances };
    const id = await this.#deps.activity.change(caller, 'scale', params, async (tx, setTarget) => {
      const { row } = await loadApplication(tx, caller, application, 'scale', setTarget);
      const cells = await this.#deployableCells(tx, row);
      const version = await findVersion(tx, row.id, name);
      if (!version) throw new NotFoundError(`version "${name}" of ${application} not found`);
      if (version.state !== 'active')
        throw new ConflictError(`${name} is not running: roll back to it instead`);
      const from: Replicas = Object.fromEntries(cells.map((c) => [c, version.replicas[c] ?? 0]));
      let target: Replicas;
      if (typeof input.instances === 'number') target = spreadTotal(input.instances, cells);
      else {
        resolveInstances(input.instances, cells); // refuses cells the application is not on
        target = { ...from, ...input.instances };
      }
      const growth = cells.reduce((n, c) => n + Math.max(0, (target[c] ?? 0) - (from[c] ?? 0)), 0);
      await this.#deps.quotas.check(tx, row.createdById, {
        instances: growth,
        cpuMillicores: growth * version.cpuRequest,
        memoryMib: growth * version.memoryRequest,
      });
      const grown: Replicas = { ...version.replicas };
      for (const c of cells) if ((target[c] ?? 0) > (from[c] ?? 0)) grown[c] = target[c] ?? 0;
      const others = (await activeVersions(tx, row.id)).filter((v) => v.id !== version.id);
      await this.#assertAddresses(application, [...others.map((v) => v.replicas), grown]);
      await setReplicas(tx, version.id, grown, clock());
      await recomputeAllocation(tx, row.id);
      const shrinks = cells.some((c) => (target[c] ?? 0) < (from[c] ?? 0));
      return this.#startOperation(tx, row, caller, {
        kind: 'scale',
        versionId: version.id,
        replaced: [],
        params: { target, from },
        timeoutSeconds: input.timeoutSeconds,
        reason: 'ScaleStarted',
        message: `scaling ${name}: ${cells.map((c) => `${c} ${from[c]} -> ${target[c]}`).join(', ')}`,
        version: name,
        steps: scaleSteps(name, shrinks),
      });
    });
    return this.#started(application, id);
  }

  /**
   * Refuses (409) when the instances that will run at once in a cell (all of `versions`:
   * during a gray upgrade, the old beside the new) need more addresses than the
   * application's fixed pool there holds: their pods would wait for an address forever.
   */
  async #assertAddresses(application: string, versions: Replicas[]): Promise<void> {
    const perCell: Record<string, number> = {};
    for (const replicas of versions)
      for (const [cell, n] of Object.entries(replicas)) perCell[cell] = (perCell[cell] ?? 0) + n;
    await this.#deps.fixedAddresses?.assertRoom(application, perCell);
  }

  /** The cells a version goes to: the application's active placements (it needs a region and cells). */
  async #deployableCells(q: Queryable, row: ApplicationRow): Promise<string[]> {
    if (row.regionId === null)
      throw new ConflictError(`application ${row.name} has no region: it cannot run anywhere`);
    const cells = (await placementsOf(q, row.id)).filter((p) => p.state === 'active').map((p) => p.cell);
    if (cells.length === 0) throw new ConflictError(`application ${row.name} is placed on no cell`);
    return cells;
  }

  #sealEnv(
    applicationId: number,
    number: number,
    env: DeployVersion['env'],
    previous: VersionRow[],
  ): StoredEnvVar[] {
    return env.map((e, i) => {
      if (!e.secret) return { name: e.name, value: e.value ?? '', secret: false };
      const box = requireBox(this.#deps.box);
      let value = e.value;
      if (value === undefined) {
        const old = previous.find((v) => v.env.some((x) => x.secret && x.name === e.name));
        const sealed = old?.env.find((x) => x.secret && x.name === e.name);
        if (!old || !sealed) {
          throw new InputError(`secret ${e.name} has no earlier value to keep`, [
            { in: 'body', path: `env.${i}.value`, message: 'is required for a new secret' },
          ]);
        }
        value = box.open(sealed.value, envContext(applicationId, old.number, e.name));
      }
      return {
        name: e.name,
        value: box.seal(value, envContext(applicationId, number, e.name)),
        secret: true,
      };
    });
  }

  async #startOperation(
    tx: Queryable,
    row: ApplicationRow,
    caller: Caller,
    op: {
      kind: Operation['kind'];
      versionId: number;
      replaced: VersionRow[];
      params: OperationParams;
      timeoutSeconds: number;
      reason: string;
      message: string;
      version: string;
      steps: Operation['steps'];
    },
  ): Promise<number> {
    const running = await runningOperation(tx, row.id);
    if (running) {
      throw new ConflictError(
        `operation ${running.id} (${running.kind} of ${running.version}) is still running: wait for it or abort it`,
      );
    }
    const at = this.#deps.clock();
    let id: number;
    try {
      id = await insertOperation(tx, {
        applicationId: row.id,
        kind: op.kind,
        versionId: op.versionId,
        replaces: op.replaced.map((v) => v.id),
        params: op.params,
        steps: op.steps,
        deadline: new Date(at.getTime() + op.timeoutSeconds * 1000),
        createdById: caller.userId,
        at,
      });
    } catch (error) {
      if (isUniqueViolation(error))
        throw new ConflictError(`another operation on ${row.name} started meanwhile`);
      throw error;
    }
    await upsertEvent(tx, row.id, {
      cell: '',
      uid: `op${id}-start`,
      type: 'Normal',
      reason: op.reason,
      message: `${op.message} (by ${caller.username})`,
      object: `Version/${op.version}`,
      count: 1,
      at,
    });
    return id;
  }

  async #started(application: string, id: number): Promise<Operation> {
    this.#deps.signals.applicationChanged(application);
    this.#deps.signals.operationChanged(id);
    const op = await findOperation(this.#deps.db, id);
    if (!op) throw new Error(`operation ${id} vanished`);
    return toOperation(this.#deps.db, op);
  }
}

/**
 * The repository core knows under the image's name, when the caller may pull it;
 * undefined for a repository core does not know (the registry check decides). One the
 * caller may not pull is refused exactly like a missing tag, so nothing leaks.
 */
async function pullableRepository(
  q: Queryable,
  caller: Caller,
  image: DeployVersion['image'],
): Promise<ResourceRef | undefined> {
  const ref = await findResource(q, 'image-repository', image.repository);
  if (!ref) return undefined;
  if (!can(await grantOf(q, caller, ref), 'image-repository', 'pull')) {
    throw notInRegistry(image.repository, image.tag);
  }
  return ref;
}

/** What the activity record keeps of a deploy: secret values never. */
function deployParams(input: DeployVersion): Record<string, unknown> {
  return {
    ...input,
    env: input.env.map((e) => ({ name: e.name, secret: e.secret, value: e.secret ? '***' : e.value })),
  };
}
