import {
  type CellClient,
  deploymentManifest,
  done,
  LABELS,
  MANAGED_BY,
  namespaceManifest,
  pullSecretManifest,
  type ReconcileResult,
  requeueAfter,
  secretManifest,
  serviceManifest,
  specHash,
  statusCode,
  type V1Secret,
  type V1Service,
} from '@leengine/kube';
import type { Logger } from 'pino';
import { deletePlacement, placementsOf, recordSync } from '../applications/placementStore.ts';
import type { Clock } from '../clock.ts';
import type { SecretBox } from '../crypto/secretBox.ts';
import type { Database, Queryable } from '../db/database.ts';
import { ensurePullCredential, PULL_SECRET_NAME } from '../pullSecrets/pullCredentials.ts';
import { versionSpec } from '../versions/versionSpec.ts';
import {
  deleteVersionCells,
  listVersions,
  recomputeAllocation,
  setReplicas,
  type VersionRow,
  versionCells,
  writeVersionCell,
} from '../versions/versionStore.ts';
import type { CellConnections } from './cellConnections.ts';

export interface CellSyncDeps {
  db: Database;
  box: SecretBox | undefined;
  clock: Clock;
  logger: Logger;
  connections: CellConnections;
  /** The region registry's host as cells reach it: every namespace gets a pull secret for it. */
  registryHost?: string | undefined;
  /** The application's observed state changed: its running operation may move on. */
  observed(applicationId: number): void;
  /** Reconcile `application` in `cell` (the sweep finds strays). */
  enqueue(application: string, cell: string): void;
  /**
   * The application's namespace is gone from the cell (deleted, or the application left
   * the cell): release what it held there outside Kubernetes (its fixed addresses).
   * Throwing makes the reconciler try again.
   */
  namespaceGone?(cell: string, application: string): Promise<void>;
  /**
   * Before the application is applied in the cell: what it needs there outside
   * Kubernetes first (its fixed addresses). Throwing is a sync error, tried again.
   */
  beforeApply?(cell: string, application: string): Promise<void>;
}

/** While something is still moving, look again this often even without a watch event. */
const PENDING_RECHECK_MS = 1000;

/**
 * Drives one application in one cell toward the database: namespace and Service, one
 * Deployment per active version with its instances for this cell, retired versions
 * scaled to zero and then deleted, everything removed when the application is gone or
 * has left the cell. Records what it observed per version.
 */
export class CellSync {
  readonly #deps: CellSyncDeps;

  constructor(deps: CellSyncDeps) {
    this.#deps = deps;
  }

  async reconcile(application: string, cell: string): Promise<ReconcileResult> {
    const client = this.#deps.connections.client(cell);
    if (!client) return done; // not registered (any more), or its kubeconfig cannot be opened
    const db = this.#deps.db;
    const [cellRow] = await db.query<{ id: number }>('select id from cells where name = $1', [cell]);
    if (!cellRow) return done;
    const [app] = await db.query<{ id: number }>('select id from applications where name = $1', [
      application,
    ]);
    const placement = app ? (await placementsOf(db, app.id)).find((p) => p.cellId === cellRow.id) : undefined;
    if (!app || !placement) return this.#removeNamespace(client, application);
    try {
      if (placement.state === 'leaving' && (await this.#replacementRuns(db, app.id))) {
        return await this.#leave(client, application, app.id, cellRow.id);
      }
      await this.#deps.beforeApply?.(cell, application);
      const pending = await this.#apply(client, application, app.id, cellRow.id, cell);
      await recordSync(db, app.id, cellRow.id, null, this.#deps.clock());
      this.#deps.observed(app.id);
      return pending ? requeueAfter(PENDING_RECHECK_MS) : done;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await recordSync(db, app.id, cellRow.id, message.slice(0, 1000), this.#deps.clock()).catch(() => {});
      throw error;
    }
  }

  /** Finds namespaces LeEngine made in the cell for applications no longer placed there. */
  async sweep(cell: string): Promise<ReconcileResult> {
    const client = this.#deps.connections.client(cell);
    if (!client) return done;
    const namespaces = await client.managedNamespaces();
    const placed = await this.#deps.db.query<{ name: string }>(
      `select a.name from application_cells ac join applications a on a.id = ac.application_id
       join cells c on c.id = ac.cell_id where c.name = $1`,
      [cell],
    );
    const keep = new Set(placed.map((p) => p.name));
    for (const ns of namespaces) if (!keep.has(ns)) this.#deps.enqueue(ns, cell);
    for (const name of keep) this.#deps.enqueue(name, cell);
    return done;
  }

  /** Returns true while something is still on its way (instances not ready, versions being retired). */
  async #apply(
    client: CellClient,
    application: string,
    applicationId: number,
    cellId: number,
    cell: string,
  ): Promise<boolean> {
    const { db, box } = this.#deps;
    const state = await client.namespace(application);
    if (state === 'terminating') throw new Error(`namespace ${application} is still being deleted`);
    if (state === 'absent') await client.apply(namespaceManifest(application));

    const versions = await listVersions(db, applicationId);
    const active = versions.filter((v) => v.state === 'active');
    const port = active.at(-1)?.port ?? versions[0]?.port;
    // Level-based: read what the cell has (a Service deleted or edited by hand comes back).
    const service = serviceManifest(application, port);
    if (state === 'absent' || !(await this.#serviceMatches(client, service))) {
      if (state !== 'absent')
        this.#deps.logger.info({ application, cell }, 'service missing or changed: applying it');
      await client.apply(service);
    }
    if (this.#deps.registryHost && box) {
      // Before any Deployment: its pods pull with it.
      await this.#ensurePullSecret(client, application, applicationId, state === 'absent');
    }

    const deployments = new Map((await client.deployments(application)).map((d) => [d.version, d]));
    // Pods per version, terminating ones included: a version is gone when its pods are.
    const pods = new Map<string, number>();
    for (const c of await client.containers(application)) pods.set(c.version, (pods.get(c.version) ?? 0) + 1);
    let pending = false;
    const specs = active.map((version) =>
      versionSpec(application, version, version.replicas[cell] ?? 0, box),
    );
    const secrets = specs.some((spec) => secretManifest(spec))
      ? await this.#secretData(client, application)
      : new Map<string, Record<string, string>>();
    for (const [i, version] of active.entries()) {
      const replicas = version.replicas[cell] ?? 0;
      const spec = specs[i] as (typeof specs)[number];
      const current = deployments.get(version.name);
      const secret = secretManifest(spec);
      const changed = !current || current.specHash !== specHash(spec) || current.desired !== replicas;
      // The Secret is read too, not only the Deployment: one deleted by hand comes back.
      if (secret && (changed || !sameSecret(secrets.get(secret.metadata?.name ?? ''), secret))) {
        if (!changed)
          this.#deps.logger.info(
            { application, cell, version: version.name },
            'secret missing or changed: applying it',
          );
        await client.apply(secret);
      }
      if (changed) await client.apply(deploymentManifest(spec));
      if (!current || current.ready < replicas || current.desired !== replicas) pending = true;
      if ((pods.get(version.name) ?? 0) !== replicas) pending = true;
    }
    const removed = new Set<string>();
    for (const [name, d] of deployments) {
      if (active.some((v) => v.name === name)) continue;
      const version = versions.find((v) => v.name === name);
      pending = true;
      if (d.desired > 0 && version) {
        // Retired: scale to zero first, so instances stop with their grace period
        // while the workload still exists; delete it once no pod is left.
        await client.apply(deploymentManifest(versionSpec(application, version, 0, box)));
      } else if ((pods.get(name) ?? 0) === 0 || !version) {
        const metadata = { namespace: application };
        await client.remove({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { ...metadata, name } });
        await client.remove({
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { ...metadata, name: `${name}-env` },
        });
        removed.add(name);
      }
    }
    await this.#record(versions, deployments, pods, removed, cellId);
    return pending;
  }

  /** True when the cell's Service has what LeEngine sets (selector, ports, headless, labels). */
  async #serviceMatches(client: CellClient, desired: V1Service): Promise<boolean> {
    let current: V1Service;
    try {
      current = await client.core.readNamespacedService({
        namespace: desired.metadata?.namespace ?? '',
        name: desired.metadata?.name ?? '',
      });
    } catch (error) {
      if (statusCode(error) === 404) return false;
      throw error;
    }
    const ports = (s: V1Service) =>
      JSON.stringify(
        (s.spec?.ports ?? []).map((p) => [p.name, p.port, String(p.targetPort), p.protocol ?? 'TCP']),
      );
    const labels = Object.entries(desired.metadata?.labels ?? {});
    return (
      current.spec?.clusterIP === desired.spec?.clusterIP &&
      JSON.stringify(current.spec?.selector ?? {}) === JSON.stringify(desired.spec?.selector ?? {}) &&
      ports(current) === ports(desired) &&
      (current.spec?.publishNotReadyAddresses ?? false) === desired.spec?.publishNotReadyAddresses &&
      labels.every(([k, v]) => current.metadata?.labels?.[k] === v)
    );
  }

  /** The data of the Secrets LeEngine made in the namespace, by name (values decoded). */
  async #secretData(client: CellClient, application: string): Promise<Map<string, Record<string, string>>> {
    const list = await client.core.listNamespacedSecret({
      namespace: application,
      labelSelector: `${LABELS.managedBy}=${MANAGED_BY}`,
    });
    return new Map(
      list.items.map((s) => [
        s.metadata?.name ?? '',
        Object.fromEntries(
          Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
        ),
      ]),
    );
  }

  /**
   * Level-based: reads the namespace's `leengine-pull` and applies it only when it is
   * missing or differs from the application's current credential (deleted by hand, or
   * the secret was rotated). One GET per reconcile; a write only on a difference.
   */
  async #ensurePullSecret(
    client: CellClient,
    application: string,
    applicationId: number,
    namespaceNew: boolean,
  ): Promise<void> {
    const { db, box, registryHost } = this.#deps;
    if (!box || !registryHost) return;
    const credential = await ensurePullCredential(
      db,
      box,
      { id: applicationId, name: application },
      this.#deps.clock(),
    );
    const desired = pullSecretManifest(application, PULL_SECRET_NAME, {
      host: registryHost,
      username: credential.username,
      password: credential.secret,
    });
    if (!namespaceNew) {
      let current: string | undefined;
      try {
        const secret = await client.core.readNamespacedSecret({
          name: PULL_SECRET_NAME,
          namespace: application,
        });
        current = secret.data?.['.dockerconfigjson'];
      } catch (error) {
        if (statusCode(error) !== 404) throw error;
      }
      if (current === desired.data?.['.dockerconfigjson']) return;
      this.#deps.logger.info(
        { application, cell: client.cell, secret: PULL_SECRET_NAME, found: current !== undefined },
        current === undefined ? 'pull secret missing: writing it' : 'pull secret differs: rewriting it',
      );
    }
    await client.apply(desired);
  }

  async #record(
    versions: VersionRow[],
    deployments: Map<string, { desired: number; ready: number }>,
    pods: Map<string, number>,
    removed: Set<string>,
    cellId: number,
  ): Promise<void> {
    const at = this.#deps.clock();
    const db = this.#deps.db;
    const known = new Map(
      (
        await versionCells(
          db,
          versions.map((v) => v.id),
        )
      )
        .filter((r) => r.cellId === cellId)
        .map((r) => [r.versionId, r]),
    );
    for (const version of versions) {
      const d = removed.has(version.name) ? undefined : deployments.get(version.name);
      // Retired versions gone long ago need no new row each time.
      if (!d && version.state === 'retired' && !known.get(version.id)?.present) continue;
      await writeVersionCell(db, {
        versionId: version.id,
        cellId,
        present: d !== undefined,
        desired: d?.desired ?? 0,
        ready: d?.ready ?? 0,
        current: d ? (pods.get(version.name) ?? 0) : 0,
        observedAt: at,
      });
    }
  }

  /** True once every active version runs fully in every active (non-leaving) cell. */
  async #replacementRuns(db: Queryable, applicationId: number): Promise<boolean> {
    const placements = (await placementsOf(db, applicationId)).filter((p) => p.state === 'active');
    const active = (await listVersions(db, applicationId)).filter((v) => v.state === 'active');
    const observed = await versionCells(
      db,
      active.map((v) => v.id),
    );
    return active.every((v) =>
      placements.every((p) => {
        const want = v.replicas[p.cell] ?? 0;
        const row = observed.find((r) => r.versionId === v.id && r.cellId === p.cellId);
        return want === 0 || (row?.present === true && row.ready >= want);
      }),
    );
  }

  /** An evacuated cell: delete the namespace, then forget the placement and its instances there. */
  async #leave(
    client: CellClient,
    application: string,
    applicationId: number,
    cellId: number,
  ): Promise<ReconcileResult> {
    const result = await this.#removeNamespace(client, application);
    if (result.kind !== 'done') return result;
    const cell = client.cell;
    await this.#deps.db.transaction(async (tx) => {
      await deletePlacement(tx, applicationId, cellId);
      await deleteVersionCells(tx, applicationId, cellId);
      for (const v of await listVersions(tx, applicationId)) {
        if (!(cell in v.replicas)) continue;
        const { [cell]: _, ...rest } = v.replicas;
        await setReplicas(tx, v.id, rest, this.#deps.clock());
      }
      await recomputeAllocation(tx, applicationId);
    });
    this.#deps.logger.info({ application, cell }, 'application left the cell');
    this.#deps.observed(applicationId);
    return done;
  }

  /** Deletes the namespace if LeEngine made it; done once it is gone. */
  async #removeNamespace(client: CellClient, application: string): Promise<ReconcileResult> {
    let labels: Record<string, string> | undefined;
    try {
      labels = (await client.core.readNamespace({ name: application })).metadata?.labels;
    } catch (error) {
      if (statusCode(error) !== 404) throw error;
      await this.#deps.namespaceGone?.(client.cell, application);
      return done;
    }
    if (labels?.[LABELS.managedBy] !== MANAGED_BY || labels[LABELS.application] !== application) return done;
    await client.remove(namespaceManifest(application));
    return requeueAfter(PENDING_RECHECK_MS);
  }
}

/** True when the cell's Secret holds exactly the desired values. */
function sameSecret(current: Record<string, string> | undefined, desired: V1Secret): boolean {
  if (!current) return false;
  const want = desired.stringData ?? {};
  const keys = Object.keys(want);
  return keys.length === Object.keys(current).length && keys.every((k) => current[k] === want[k]);
}
