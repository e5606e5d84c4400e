import {
  type Cell,
  type CellCapacityView,
  ConflictError,
  type CreateCell,
  type CreateRegion,
  type Evacuation,
  InputError,
  NotAllowedError,
  NotFoundError,
  type Region,
  UnavailableError,
  type UpdateCell,
  type UpdateRegion,
} from '@leengine/common';
import { CellClient, statusCode } from '@leengine/kube';
import type { ActivityService } from '../activity/activityService.ts';
import type { Caller } from '../auth/caller.ts';
import {
  type CellRow,
  deleteCell,
  findCell,
  findCellByCluster,
  insertCell,
  listCells,
  toCell,
  updateCell,
} from '../cells/cellStore.ts';
import { evacuateCell } from '../cells/evacuation.ts';
import type { Clock } from '../clock.ts';
import { requireBox, type SecretBox } from '../crypto/secretBox.ts';
import type { Database, Queryable } from '../db/database.ts';
import { isForeignKeyViolation, isUniqueViolation } from '../db/errors.ts';
import type { CellAccess } from '../runtime/cellAccess.ts';
import { kubeconfigContext } from '../runtime/cellConnections.ts';
import type { RuntimeSignals } from '../runtime/signals.ts';
import {
  deleteRegion,
  findRegion,
  insertRegion,
  listRegions,
  type RegionRow,
  updateRegion,
} from './regionStore.ts';

export interface RegionServiceDeps {
  db: Database;
  clock: Clock;
  activity: ActivityService;
  box: SecretBox | undefined;
  cells: CellAccess;
  signals: RuntimeSignals;
}

/**
 * Regions and their cells (Kubernetes clusters). Everyone signed in may list them (to
 * pick a region for an application); changing them is for admins, recorded in the
 * admin's own activity feed. Kubeconfigs are sealed before they reach the database.
 */
export class RegionService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #activity: ActivityService;
  readonly #box: SecretBox | undefined;
  readonly #cells: CellAccess;
  readonly #signals: RuntimeSignals;

  private constructor(deps: RegionServiceDeps) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#activity = deps.activity;
    this.#box = deps.box;
    this.#cells = deps.cells;
    this.#signals = deps.signals;
  }

  static create(deps: RegionServiceDeps): RegionService {
    return new RegionService(deps);
  }

  async list(_caller: Caller): Promise<Region[]> {
    const [regions, cells] = await Promise.all([listRegions(this.#db), listCells(this.#db)]);
    return regions.map((r) => toRegion(r, cells));
  }

  async get(_caller: Caller, name: string): Promise<Region> {
    const region = await this.#region(this.#db, name);
    return toRegion(region, await listCells(this.#db, region.id));
  }

  async create(caller: Caller, input: CreateRegion): Promise<Region> {
    assertAdmin(caller);
    return this.#change(caller, 'create-region', { region: input.name }, async (tx) => {
      try {
        return toRegion(await insertRegion(tx, { ...input, at: this.#clock() }), []);
      } catch (error) {
        if (isUniqueViolation(error)) throw new ConflictError(`region "${input.name}" already exists`);
        throw error;
      }
    });
  }

  async update(caller: Caller, name: string, input: UpdateRegion): Promise<Region> {
    assertAdmin(caller);
    return this.#change(caller, 'update-region', { region: name, ...input }, async (tx) => {
      const region = await this.#region(tx, name, true);
      await updateRegion(tx, region.id, input.description ?? region.description, this.#clock());
      return toRegion((await findRegion(tx, name)) as RegionRow, await listCells(tx, region.id));
    });
  }

  async delete(caller: Caller, name: string): Promise<void> {
    assertAdmin(caller);
    await this.#change(caller, 'delete-region', { region: name }, async (tx) => {
      const region = await this.#region(tx, name, true);
      if ((await listCells(tx, region.id)).length > 0) {
        throw new ConflictError(`region "${name}" still has cells: remove them first`);
      }
      try {
        await deleteRegion(tx, region.id);
      } catch (error) {
        if (isForeignKeyViolation(error)) throw new ConflictError(`region "${name}" still has applications`);
        throw error;
      }
    });
  }

  async getCell(_caller: Caller, region: string, name: string): Promise<Cell> {
    return toCell(await this.#cell(this.#db, region, name));
  }

  /** Registers a cell: its kubeconfig must parse; it is sealed at rest and never returned. */
  async addCell(caller: Caller, region: string, input: CreateCell): Promise<Cell> {
    assertAdmin(caller);
    const box = requireBox(this.#box);
    const server = serverOf(input.name, input.kubeconfig);
    const clusterId = await clusterOf(input.name, input.kubeconfig);
    const cell = await this.#change(caller, 'add-cell', { region, cell: input.name }, async (tx) => {
      const r = await this.#region(tx, region, true);
      if (await findCell(tx, input.name)) throw new ConflictError(`cell "${input.name}" already exists`);
      await assertClusterFree(tx, clusterId, input.name);
      try {
        await insertCell(tx, {
          regionId: r.id,
          name: input.name,
          description: input.description,
          kubeconfigSealed: box.seal(input.kubeconfig, kubeconfigContext(input.name)),
          server,
          clusterId,
          at: this.#clock(),
        });
      } catch (error) {
        // Added at the same time by someone else, under this name or for this cluster.
        if (isUniqueViolation(error))
          throw new ConflictError(`cell "${input.name}" or its cluster was just added`);
        throw error;
      }
      return toCell((await findCell(tx, input.name)) as CellRow);
    });
    this.#signals.cellsChanged();
    return cell;
  }

  async updateCell(caller: Caller, region: string, name: string, input: UpdateCell): Promise<Cell> {
    assertAdmin(caller);
    const sealed =
      input.kubeconfig === undefined
        ? undefined
        : {
            server: serverOf(name, input.kubeconfig),
            kubeconfigSealed: requireBox(this.#box).seal(input.kubeconfig, kubeconfigContext(name)),
            clusterId: await clusterOf(name, input.kubeconfig),
          };
    const params = {
      region,
      cell: name,
      description: input.description,
      kubeconfig: input.kubeconfig && '(new)',
    };
    const cell = await this.#change(caller, 'update-cell', params, async (tx) => {
      const row = await this.#cell(tx, region, name, true);
      if (sealed) {
        // New credentials, same cluster: a cell never moves to another cluster (its
        // applications would be left behind there). Add a cell and evacuate this one.
        if (row.clusterId !== null && row.clusterId !== sealed.clusterId) {
          throw new ConflictError(
            `the kubeconfig reaches another cluster than cell "${name}" is; to move, add a new cell and evacuate this one`,
          );
        }
        await assertClusterFree(tx, sealed.clusterId, name);
      }
      await updateCell(tx, row.id, { description: input.description, ...sealed }, this.#clock());
      return toCell((await findCell(tx, name)) as CellRow);
    });
    this.#signals.cellsChanged();
    return cell;
  }

  /** Removes a cell that runs no application (evacuate it first). */
  async deleteCell(caller: Caller, region: string, name: string): Promise<void> {
    assertAdmin(caller);
    await this.#change(caller, 'delete-cell', { region, cell: name }, async (tx) => {
      const row = await this.#cell(tx, region, name, true);
      if (row.applications > 0) {
        throw new ConflictError(
          `cell "${name}" still runs ${row.applications} applications: evacuate it first`,
        );
      }
      await deleteCell(tx, row.id);
    });
    this.#signals.cellsChanged();
  }

  /** Cordon: no new application is placed on the cell; what runs there stays. */
  async cordon(caller: Caller, region: string, name: string, cordoned: boolean): Promise<Cell> {
    assertAdmin(caller);
    return this.#change(
      caller,
      cordoned ? 'cordon-cell' : 'uncordon-cell',
      { region, cell: name },
      async (tx) => {
        const row = await this.#cell(tx, region, name, true);
        await updateCell(tx, row.id, { cordoned }, this.#clock());
        return toCell((await findCell(tx, name)) as CellRow);
      },
    );
  }

  /**
   * Cordons the cell and moves every application off it: each gets another cell of the
   * region (or, when there is none free, its other cells take the instances); the cell's
   * copy is removed once the replacement runs.
   */
  async evacuate(caller: Caller, region: string, name: string): Promise<Evacuation> {
    assertAdmin(caller);
    const result = await this.#change(caller, 'evacuate-cell', { region, cell: name }, async (tx) => {
      const row = await this.#cell(tx, region, name, true);
      return evacuateCell(tx, row, this.#clock());
    });
    for (const move of result.moves) this.#signals.applicationChanged(move.application);
    return result;
  }

  /** A connected cell's client, for admins' reads beside capacity (its IPAM leak check). */
  async cellClient(caller: Caller, region: string, name: string): Promise<CellClient> {
    assertAdmin(caller);
    return (await this.#connected(region, name)).client;
  }

  async #connected(region: string, name: string): Promise<{ row: CellRow; client: CellClient }> {
    const row = await this.#cell(this.#db, region, name);
    const client = this.#cells.client(row.name);
    if (!client)
      throw new UnavailableError(
        `cell ${name} is not connected (check LEENGINE_SECRET_KEY and its kubeconfig)`,
      );
    return { row, client };
  }

  /** Nodes, allocatable and requested resources, pods: read from the cell now. */
  async capacity(caller: Caller, region: string, name: string): Promise<CellCapacityView> {
    assertAdmin(caller);
    const { row, client } = await this.#connected(region, name);
    try {
      const capacity = await client.capacity();
      return { cell: name, health: toCell(row).health, ...capacity };
    } catch (error) {
      throw new UnavailableError(`cell ${name} did not answer: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  /**
   * Bootstrap without a caller (the local region): the region exists and has exactly
   * these cells' kubeconfigs (a restarted local cell has a new apiserver port).
   */
  async ensure(region: string, cells: { name: string; kubeconfig: string }[]): Promise<void> {
    const box = requireBox(this.#box);
    const identities = new Map(
      await Promise.all(cells.map(async (c) => [c.name, await clusterOf(c.name, c.kubeconfig)] as const)),
    );
    await this.#db.transaction(async (tx) => {
      const at = this.#clock();
      const r =
        (await findRegion(tx, region, { forUpdate: true })) ??
        (await insertRegion(tx, { name: region, description: '', at }));
      for (const cell of cells) {
        const existing = await findCell(tx, cell.name, { forUpdate: true });
        const sealed = box.seal(cell.kubeconfig, kubeconfigContext(cell.name));
        const server = serverOf(cell.name, cell.kubeconfig);
        // The local cells are started afresh: each start may be a new cluster for the name.
        const clusterId = identities.get(cell.name) ?? '';
        if (!existing) {
          await insertCell(tx, {
            regionId: r.id,
            name: cell.name,
            description: '',
            kubeconfigSealed: sealed,
            server,
            clusterId,
            at,
          });
        } else if (existing.regionId !== r.id) {
          throw new ConflictError(`cell "${cell.name}" belongs to region ${existing.region}`);
        } else {
          await updateCell(tx, existing.id, { kubeconfigSealed: sealed, server, clusterId }, at);
        }
      }
    });
    this.#signals.cellsChanged();
  }

  async #change<T>(
    caller: Caller,
    action: string,
    params: object,
    fn: (tx: Queryable) => Promise<T>,
  ): Promise<T> {
    return this.#activity.change(caller, action, params, async (tx, setTarget) => {
      setTarget({ kind: 'user', id: caller.userId, name: caller.username });
      return fn(tx);
    });
  }

  async #region(q: Queryable, name: string, forUpdate = false): Promise<RegionRow> {
    const region = await findRegion(q, name, { forUpdate });
    if (!region) throw new NotFoundError(`region "${name}" not found`);
    return region;
  }

  async #cell(q: Queryable, region: string, name: string, forUpdate = false): Promise<CellRow> {
    const cell = await findCell(q, name, { forUpdate });
    if (!cell || cell.region !== region)
      throw new NotFoundError(`cell "${name}" not found in region "${region}"`);
    return cell;
  }
}

function toRegion(row: RegionRow, cells: CellRow[]): Region {
  return {
    name: row.name,
    description: row.description,
    cells: cells.filter((c) => c.regionId === row.id).map(toCell),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/**
 * The apiserver URL of a kubeconfig. InputError when it does not parse, names no cluster,
 * or asks core to read files or run programs on its own host (`*File` paths, `exec`,
 * `auth-provider`): a cell's kubeconfig must carry its credentials inline, or it could
 * send core's files to any server it names.
 */
function serverOf(cell: string, kubeconfig: string): string {
  let client: CellClient;
  try {
    client = CellClient.fromKubeconfig(cell, kubeconfig);
  } catch (error) {
    throw badKubeconfig(`does not parse: ${(error as Error).message}`);
  }
  const server = client.server;
  if (!/^https?:\/\//.test(server)) throw badKubeconfig('names no current cluster with a server URL');
  const cluster = client.config.getCurrentCluster();
  const user = client.config.getCurrentUser();
  if (cluster?.caFile || user?.certFile || user?.keyFile) {
    throw badKubeconfig(
      'refers to files: embed certificate-authority-data, client-certificate-data, client-key-data',
    );
  }
  if (user?.exec || user?.authProvider) {
    throw badKubeconfig('uses exec or auth-provider credentials: core runs no programs for a cell');
  }
  return server;
}

/** How long adding a cell waits for its apiserver to say which cluster it is. */
const IDENTIFY_TIMEOUT_MS = 10_000;

/**
 * The cluster a kubeconfig reaches (its kube-system namespace's uid). InputError on the
 * kubeconfig when the apiserver does not answer or refuses it: a cell is added only when
 * core can reach it, and so knows which cluster it is.
 */
async function clusterOf(cell: string, kubeconfig: string): Promise<string> {
  const client = CellClient.fromKubeconfig(cell, kubeconfig, { requestTimeoutMs: IDENTIFY_TIMEOUT_MS });
  try {
    return await client.clusterId();
  } catch (error) {
    const status = statusCode(error);
    throw badKubeconfig(
      status === 401 || status === 403
        ? `is refused by the apiserver (${status}): it cannot read the kube-system namespace`
        : `reaches no apiserver that answers (${(error as Error).message})`,
    );
  }
}

/** Refuses a cluster that another cell already is. */
async function assertClusterFree(q: Queryable, clusterId: string, cell: string): Promise<void> {
  const other = await findCellByCluster(q, clusterId);
  if (other && other.name !== cell) {
    throw new ConflictError(
      `this cluster is already cell "${other.name}" of region ${other.region}: one cluster is one cell`,
    );
  }
}

function badKubeconfig(why: string): InputError {
  return new InputError(`the kubeconfig ${why}`, [
    { in: 'body', path: 'kubeconfig', message: `is not usable: it ${why}` },
  ]);
}

function assertAdmin(caller: Caller): void {
  if (!caller.admin) throw new NotAllowedError('only admins may manage regions and cells');
}
