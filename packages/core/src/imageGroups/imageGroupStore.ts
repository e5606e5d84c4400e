import type { ImageGroup, Page, ResourceListQuery, Role } from '@leengine/common';
import type { Queryable } from '../db/database.ts';
import { listByMembership } from '../db/membershipList.ts';

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
  return listByMembership(
    q,
    {
      table: 'image_groups',
      alias: 'g',
      members: 'image_group_members',
      memberKey: 'image_group_id',
      columns: COLUMNS,
      joins: 'join users u on u.id = g.created_by',
    },
    userId,
    query,
    all,
    (r: ImageGroupRow & { role: Role | null }) => toImageGroup(r, r.role),
  );
}
