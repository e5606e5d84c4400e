import type { ResourceKind, Role } from '@leengine/common';
import type { Queryable } from '../db/database.ts';

/** Each resource kind has its own members table (real foreign keys, cascading deletes). */
const TABLES: Record<ResourceKind, { table: string; column: string }> = {
  application: { table: 'application_members', column: 'application_id' },
  'image-group': { table: 'image_group_members', column: 'image_group_id' },
  'image-repository': { table: 'image_repository_members', column: 'image_repository_id' },
  'build-project': { table: 'build_project_members', column: 'build_project_id' },
};

export interface MemberRow {
  userId: number;
  username: string;
  displayName: string;
  role: Role;
  since: Date;
}

/** The role a user holds directly on a resource, or null. */
export async function directRole(
  q: Queryable,
  kind: ResourceKind,
  resourceId: number,
  userId: number,
): Promise<Role | null> {
  const { table, column } = TABLES[kind];
  const [row] = await q.query<{ role: Role }>(
    `select role from ${table} where ${column} = $1 and user_id = $2`,
    [resourceId, userId],
  );
  return row?.role ?? null;
}

/** The direct role on an image repository and the one on its group, in one round trip. */
export async function repositoryRoles(
  q: Queryable,
  repositoryId: number,
  groupId: number,
  userId: number,
): Promise<{ own: Role | null; group: Role | null }> {
  const [row] = await q.query<{ own: Role | null; group: Role | null }>(
    `select (select role from image_repository_members where image_repository_id = $1 and user_id = $3) as own,
            (select role from image_group_members where image_group_id = $2 and user_id = $3) as "group"`,
    [repositoryId, groupId, userId],
  );
  return { own: row?.own ?? null, group: row?.group ?? null };
}

export async function addMember(
  q: Queryable,
  kind: ResourceKind,
  resourceId: number,
  userId: number,
  role: Role,
  at: Date,
): Promise<void> {
  const { table, column } = TABLES[kind];
  await q.query(`insert into ${table} (${column}, user_id, role, created_at) values ($1, $2, $3, $4)`, [
    resourceId,
    userId,
    role,
    at,
  ]);
}

export async function setMemberRole(
  q: Queryable,
  kind: ResourceKind,
  resourceId: number,
  userId: number,
  role: Role,
): Promise<void> {
  const { table, column } = TABLES[kind];
  await q.query(`update ${table} set role = $3 where ${column} = $1 and user_id = $2`, [
    resourceId,
    userId,
    role,
  ]);
}

export async function removeMember(q: Queryable, kind: ResourceKind, resourceId: number, userId: number) {
  const { table, column } = TABLES[kind];
  await q.query(`delete from ${table} where ${column} = $1 and user_id = $2`, [resourceId, userId]);
}

export async function countOwners(q: Queryable, kind: ResourceKind, resourceId: number): Promise<number> {
  const { table, column } = TABLES[kind];
  const [row] = await q.query<{ n: number }>(
    `select count(*)::int as n from ${table} where ${column} = $1 and role = 'owner'`,
    [resourceId],
  );
  return row?.n ?? 0;
}

export async function findMember(
  q: Queryable,
  kind: ResourceKind,
  resourceId: number,
  userId: number,
): Promise<MemberRow | undefined> {
  const { table, column } = TABLES[kind];
  const [row] = await q.query<MemberRow>(
    `select u.id as "userId", u.username, u.display_name as "displayName", m.role, m.created_at as since
     from ${table} m join users u on u.id = m.user_id where m.${column} = $1 and m.user_id = $2`,
    [resourceId, userId],
  );
  return row;
}

/** Direct members, most powerful role first, then by username. */
export async function listMembers(
  q: Queryable,
  kind: ResourceKind,
  resourceId: number,
): Promise<MemberRow[]> {
  const { table, column } = TABLES[kind];
  return q.query<MemberRow>(
    `select u.id as "userId", u.username, u.display_name as "displayName", m.role, m.created_at as since
     from ${table} m join users u on u.id = m.user_id where m.${column} = $1
     order by array_position(array['owner', 'master', 'developer', 'reporter', 'guest'], m.role), u.username`,
    [resourceId],
  );
}
