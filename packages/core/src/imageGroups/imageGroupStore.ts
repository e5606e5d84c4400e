import type { ImageGroup, Page, ResourceListQuery, Role } from '@leengine/common';
import type { Queryable } from '../db/database.ts';
import { pageClause, toPage } from '../db/page.ts';

export interface ImageGroupRow {
  id: number;
  name: string;
  description: string;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `g.id, g.name, g.description, u.username as "createdBy", g.created_at as "createdAt",
  g.updated_at as "updatedAt"`;

export function toImageGroup(row: ImageGroupRow, callerRole: Role | null): ImageGroup {
  return {
    name: row.name,
    description: row.description,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    callerRole,
  };
}

export async function findImageGroup(
  q: Queryable,
  name: string,
  options: { forUpdate?: boolean } = {},
): Promise<ImageGroupRow | undefined> {
  const [row] = await q.query<ImageGroupRow>(
    `select ${COLUMNS} from image_groups g join users u on u.id = g.created_by where g.name = $1
     ${options.forUpdate ? 'for update of g' : ''}`,
    [name],
  );
  return row;
}

export async function insertImageGroup(
  q: Queryable,
  group: { name: string; description: string; createdById: number; at: Date },
): Promise<ImageGroupRow> {
  await q.query(
    `insert into image_groups (name, description, created_by, created_at, updated_at) values ($1, $2, $3, $4, $4)`,
    [group.name, group.description, group.createdById, group.at],
  );
  return (await findImageGroup(q, group.name)) as ImageGroupRow;
}

export async function updateImageGroup(
  q: Queryable,
  id: number,
  changes: { description?: string | undefined },
  at: Date,
): Promise<void> {
  await q.query(
    `update image_groups set description = coalesce($2, description), updated_at = $3 where id = $1`,
    [id, changes.description ?? null, at],
  );
}

export async function deleteImageGroup(q: Queryable, id: number): Promise<void> {
  await q.query('delete from image_groups where id = $1', [id]);
}

export async function countRepositoriesIn(q: Queryable, groupId: number): Promise<number> {
  const [row] = await q.query<{ n: number }>(
    'select count(*)::int as n from image_repositories where group_id = $1',
    [groupId],
  );
  return row?.n ?? 0;
}

/** One page of the caller's image groups (member of), or all (`all`, admins). */
export async function listImageGroups(
  q: Queryable,
  userId: number,
  query: ResourceListQuery,
  all: boolean,
): Promise<Page<ImageGroup>> {
  const params: unknown[] = [userId];
  const from = all
    ? `image_groups g left join image_group_members m on m.image_group_id = g.id and m.user_id = $1`
    : `image_group_members m cross join lateral (select * from image_groups r where r.id = m.image_group_id limit 1) g`;
  const conditions = [all ? 'true' : 'm.user_id = $1'];
  if (query.q) {
    params.push(query.q.toLowerCase());
    conditions.push(
      `(strpos(g.name, $${params.length}) > 0 or strpos(lower(g.description), $${params.length}) > 0)`,
    );
  }
  const page = pageClause(
    { name: 'g.name', createdAt: 'g.created_at', id: 'g.id' },
    query.sort,
    query.cursor,
    query.limit,
    params,
  );
  conditions.push(page.after);
  const rows = await q.query<ImageGroupRow & { role: Role | null }>(
    `select ${COLUMNS}, m.role from ${from} join users u on u.id = g.created_by
     where ${conditions.join(' and ')} ${page.orderBy} ${page.limit}`,
    params,
  );
  return toPage(
    rows,
    query.limit,
    query.sort,
    (r) => r,
    (r) => toImageGroup(r, r.role),
  );
}
