import type { Cell, CellHealthState } from '@leengine/common';
import type { Queryable } from '../db/database.ts';

export interface CellRow {
  id: number;
  regionId: number;
  region: string;
  name: string;
  description: string;
  kubeconfigSealed: string;
  server: string;
  /** The uid of the cluster's kube-system namespace (null for cells added before it was read). */
  clusterId: string | null;
  cordoned: boolean;
  health: CellHealthState;
  healthMessage: string;
  healthCheckedAt: Date | null;
  applications: number;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `c.id, c.region_id as "regionId", r.name as region, c.name, c.description,
  c.kubeconfig_sealed as "kubeconfigSealed", c.server, c.cluster_id as "clusterId", c.cordoned, c.health, c.health_message as "healthMessage",
  c.health_checked_at as "healthCheckedAt",
  (select count(*)::int from application_cells ac where ac.cell_id = c.id) as applications,
  c.created_at as "createdAt", c.updated_at as "updatedAt"`;
const FROM = 'cells c join regions r on r.id = c.region_id';

/** The API form (never the kubeconfig). */
export function toCell(row: CellRow): Cell {
  return {
    name: row.name,
    region: row.region,
    description: row.description,
    server: row.server,
    cordoned: row.cordoned,
    health: {
      state: row.health,
      message: row.healthMessage,
      checkedAt: row.healthCheckedAt?.toISOString() ?? null,
    },
    applications: row.applications,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export async function listCells(q: Queryable, regionId?: number): Promise<CellRow[]> {
  return regionId === undefined
    ? q.query<CellRow>(`select ${COLUMNS} from ${FROM} order by c.name`)
    : q.query<CellRow>(`select ${COLUMNS} from ${FROM} where c.region_id = $1 order by c.name`, [regionId]);
}

export async function findCell(
  q: Queryable,
  name: string,
  options: { forUpdate?: boolean } = {},
): Promise<CellRow | undefined> {
  const [row] = await q.query<CellRow>(
    `select ${COLUMNS} from ${FROM} where c.name = $1 ${options.forUpdate ? 'for update of c' : ''}`,
    [name],
  );
  return row;
}

export async function insertCell(
  q: Queryable,
  cell: {
    regionId: number;
    name: string;
    description: string;
    kubeconfigSealed: string;
    server: string;
    clusterId: string;
    at: Date;
  },
): Promise<void> {
  await q.query(
    `insert into cells (region_id, name, description, kubeconfig_sealed, server, cluster_id, created_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, $7)`,
    [cell.regionId, cell.name, cell.description, cell.kubeconfigSealed, cell.server, cell.clusterId, cell.at],
  );
}

/** The cell that is this cluster, if one is. */
export async function findCellByCluster(q: Queryable, clusterId: string): Promise<CellRow | undefined> {
  const [row] = await q.query<CellRow>(`select ${COLUMNS} from ${FROM} where c.cluster_id = $1`, [clusterId]);
  return row;
}

export async function updateCell(
  q: Queryable,
  id: number,
  changes: {
    description?: string;
    kubeconfigSealed?: string;
    server?: string;
    clusterId?: string;
    cordoned?: boolean;
  },
  at: Date,
): Promise<void> {
  await q.query(
    `update cells set description = coalesce($2, description), kubeconfig_sealed = coalesce($3, kubeconfig_sealed),
       server = coalesce($4, server), cordoned = coalesce($5, cordoned), updated_at = $6,
       cluster_id = coalesce($7, cluster_id)
       ${changes.kubeconfigSealed ? `, health = 'unknown', health_message = ''` : ''}
     where id = $1`,
    [
      id,
      changes.description ?? null,
      changes.kubeconfigSealed ?? null,
      changes.server ?? null,
      changes.cordoned ?? null,
      at,
      changes.clusterId ?? null,
    ],
  );
}

export async function deleteCell(q: Queryable, id: number): Promise<void> {
  await q.query('delete from cells where id = $1', [id]);
}

/** Records what the health check saw. */
export async function writeCellHealth(
  q: Queryable,
  name: string,
  health: { state: CellHealthState; message: string; at: Date },
): Promise<void> {
  await q.query('update cells set health = $2, health_message = $3, health_checked_at = $4 where name = $1', [
    name,
    health.state,
    health.message,
    health.at,
  ]);
}
