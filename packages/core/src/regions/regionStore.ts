import type { Queryable } from '../db/database.ts';

export interface RegionRow {
  id: number;
  name: string;
  description: string;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `id, name, description, created_at as "createdAt", updated_at as "updatedAt"`;

export async function listRegions(q: Queryable): Promise<RegionRow[]> {
  return q.query<RegionRow>(`select ${COLUMNS} from regions order by name`);
}

export async function findRegion(
  q: Queryable,
  name: string,
  options: { forUpdate?: boolean } = {},
): Promise<RegionRow | undefined> {
  const [row] = await q.query<RegionRow>(
    `select ${COLUMNS} from regions where name = $1 ${options.forUpdate ? 'for update' : ''}`,
    [name],
  );
  return row;
}

export async function insertRegion(
  q: Queryable,
  region: { name: string; description: string; at: Date },
): Promise<RegionRow> {
  const [row] = await q.query<RegionRow>(
    `insert into regions (name, description, created_at, updated_at) values ($1, $2, $3, $3) returning ${COLUMNS}`,
    [region.name, region.description, region.at],
  );
  return row as RegionRow;
}

export async function updateRegion(q: Queryable, id: number, description: string, at: Date): Promise<void> {
  await q.query('update regions set description = $2, updated_at = $3 where id = $1', [id, description, at]);
}

export async function deleteRegion(q: Queryable, id: number): Promise<void> {
  await q.query('delete from regions where id = $1', [id]);
}
