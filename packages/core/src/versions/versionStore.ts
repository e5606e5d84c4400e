import type { HealthCheck } from '@leengine/common';
import type { Queryable } from '../db/database.ts';

/** An env var as stored: a secret's value is sealed (see `envContext`). */
export interface StoredEnvVar {
  name: string;
  value: string;
  secret: boolean;
}

/** Desired instances per cell name. */
export type Replicas = Record<string, number>;

export interface VersionRow {
  id: number;
  applicationId: number;
  number: number;
  name: string;
  imageRepository: string;
  imageTag: string;
  image: string;
  port: number;
  cpuRequest: number;
  cpuLimit: number;
  memoryRequest: number;
  memoryLimit: number;
  env: StoredEnvVar[];
  healthCheck: HealthCheck | null;
  terminationGraceSeconds: number;
  replicas: Replicas;
  state: 'active' | 'retired';
  /** Its pods pull with the application's `leengine-pull` Secret (versions deployed since pull secrets exist). */
  pullSecret: boolean;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface VersionCellRow {
  versionId: number;
  cellId: number;
  cell: string;
  present: boolean;
  desired: number;
  ready: number;
  current: number;
  observedAt: Date;
}

const COLUMNS = `v.id, v.application_id as "applicationId", v.number, v.name, v.image_repository as "imageRepository",
  v.image_tag as "imageTag", v.image, v.port, v.cpu_request as "cpuRequest", v.cpu_limit as "cpuLimit",
  v.memory_request as "memoryRequest", v.memory_limit as "memoryLimit", v.env, v.health_check as "healthCheck",
  v.termination_grace_seconds as "terminationGraceSeconds", v.replicas, v.state, v.pull_secret as "pullSecret", u.username as "createdBy", v.created_at as "createdAt", v.updated_at as "updatedAt"`;
const FROM = 'versions v join users u on u.id = v.created_by';

/** The context a secret env value is sealed for: its application, version and name. */
export function envContext(applicationId: number, versionNumber: number, name: string): string {
  return `env:${applicationId}:${versionNumber}:${name}`;
}

/** Every version of an application, newest first. */
export async function listVersions(q: Queryable, applicationId: number): Promise<VersionRow[]> {
  return q.query<VersionRow>(
    `select ${COLUMNS} from ${FROM} where v.application_id = $1 order by v.number desc`,
    [applicationId],
  );
}

export async function activeVersions(q: Queryable, applicationId: number): Promise<VersionRow[]> {
  return q.query<VersionRow>(
    `select ${COLUMNS} from ${FROM} where v.application_id = $1 and v.state = 'active' order by v.number`,
    [applicationId],
  );
}

export async function findVersion(
  q: Queryable,
  applicationId: number,
  name: string,
): Promise<VersionRow | undefined> {
  const [row] = await q.query<VersionRow>(
    `select ${COLUMNS} from ${FROM} where v.application_id = $1 and v.name = $2`,
    [applicationId, name],
  );
  return row;
}

export async function findVersionById(q: Queryable, id: number): Promise<VersionRow | undefined> {
  const [row] = await q.query<VersionRow>(`select ${COLUMNS} from ${FROM} where v.id = $1`, [id]);
  return row;
}

export async function nextVersionNumber(q: Queryable, applicationId: number): Promise<number> {
  const [row] = await q.query<{ n: number }>(
    'select coalesce(max(number), 0)::int + 1 as n from versions where application_id = $1',
    [applicationId],
  );
  return row?.n ?? 1;
}

export async function insertVersion(
  q: Queryable,
  v: Omit<VersionRow, 'id' | 'createdBy' | 'createdAt' | 'updatedAt'> & { createdById: number; at: Date },
): Promise<number> {
  const [row] = await q.query<{ id: number }>(
    `insert into versions (application_id, number, name, image_repository, image_tag, image, port, cpu_request,
       cpu_limit, memory_request, memory_limit, env, health_check, termination_grace_seconds, replicas, state,
       created_by, created_at, updated_at, pull_secret)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13::jsonb, $14, $15::jsonb, $16, $17, $18, $18, $19)
     returning id`,
    [
      v.applicationId,
      v.number,
      v.name,
      v.imageRepository,
      v.imageTag,
      v.image,
      v.port,
      v.cpuRequest,
      v.cpuLimit,
      v.memoryRequest,
      v.memoryLimit,
      JSON.stringify(v.env),
      v.healthCheck === null ? null : JSON.stringify(v.healthCheck),
      v.terminationGraceSeconds,
      JSON.stringify(v.replicas),
      v.state,
      v.createdById,
      v.at,
      v.pullSecret,
    ],
  );
  return (row as { id: number }).id;
}

export async function setVersionState(
  q: Queryable,
  ids: number[],
  state: VersionRow['state'],
  at: Date,
): Promise<void> {
  if (ids.length === 0) return;
  await q.query('update versions set state = $2, updated_at = $3 where id = any($1::int[]) and state <> $2', [
    ids,
    state,
    at,
  ]);
}

export async function setReplicas(q: Queryable, id: number, replicas: Replicas, at: Date): Promise<void> {
  await q.query('update versions set replicas = $2::jsonb, updated_at = $3 where id = $1', [
    id,
    JSON.stringify(replicas),
    at,
  ]);
}

/** Observed status of the given versions in every cell. */
export async function versionCells(q: Queryable, versionIds: number[]): Promise<VersionCellRow[]> {
  if (versionIds.length === 0) return [];
  return q.query<VersionCellRow>(
    `select vc.version_id as "versionId", vc.cell_id as "cellId", c.name as cell, vc.present, vc.desired, vc.ready,
       vc.current, vc.observed_at as "observedAt"
     from version_cells vc join cells c on c.id = vc.cell_id where vc.version_id = any($1::int[]) order by c.name`,
    [versionIds],
  );
}

export async function writeVersionCell(q: Queryable, row: Omit<VersionCellRow, 'cell'>): Promise<void> {
  await q.query(
    `insert into version_cells (version_id, cell_id, present, desired, ready, current, observed_at)
     values ($1, $2, $3, $4, $5, $6, $7)
     on conflict (version_id, cell_id) do update set present = excluded.present, desired = excluded.desired,
       ready = excluded.ready, current = excluded.current, observed_at = excluded.observed_at`,
    [row.versionId, row.cellId, row.present, row.desired, row.ready, row.current, row.observedAt],
  );
}

export async function deleteVersionCells(q: Queryable, applicationId: number, cellId: number): Promise<void> {
  await q.query(
    'delete from version_cells where cell_id = $2 and version_id in (select id from versions where application_id = $1)',
    [applicationId, cellId],
  );
}

/**
 * Recomputes what the application holds (its creator's quota usage) from its active
 * versions in the cells it actively runs in (an evacuated cell's copy is not counted twice).
 */
export async function recomputeAllocation(q: Queryable, applicationId: number): Promise<void> {
  await q.query(
    `update applications a set instances = t.instances, cpu_millicores = t.cpu, memory_mib = t.memory
     from (
       select coalesce(sum(r.n), 0)::int as instances, coalesce(sum(r.n * v.cpu_request), 0)::int as cpu,
              coalesce(sum(r.n * v.memory_request), 0)::int as memory
       from versions v
       cross join lateral (select key as cell, value::int as n from jsonb_each_text(v.replicas)) r
       join cells c on c.name = r.cell
       join application_cells ac on ac.application_id = v.application_id and ac.cell_id = c.id and ac.state = 'active'
       where v.application_id = $1 and v.state = 'active'
     ) t
     where a.id = $1`,
    [applicationId],
  );
}
