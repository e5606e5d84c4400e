import {
  higherRole,
  type ImageRepository,
  type Page,
  type ResourceListQuery,
  type Role,
} from '@leengine/common';
import type { Queryable } from '../db/database.ts';
import { pageClause, toPage } from '../db/page.ts';

export interface ImageRepositoryRow {
  id: number;
  groupId: number;
  group: string;
  name: string;
  fullName: string;
  description: string;
  public: boolean;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

const FULL_NAME = `g.name || '/' || r.name`;
const COLUMNS = `r.id, r.group_id as "groupId", g.name as "group", r.name, ${FULL_NAME} as "fullName",
  r.description, r.public, u.username as "createdBy", r.created_at as "createdAt", r.updated_at as "updatedAt"`;
const FROM = `image_repositories r join image_groups g on g.id = r.group_id join users u on u.id = r.created_by`;

export function toImageRepository(row: ImageRepositoryRow, callerRole: Role | null): ImageRepository {
  return {
    group: row.group,
    name: row.name,
    fullName: row.fullName,
    public: row.public,
    description: row.description,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    callerRole,
  };
}

export async function findImageRepository(
  q: Queryable,
  group: string,
  name: string,
  options: { forUpdate?: boolean } = {},
): Promise<ImageRepositoryRow | undefined> {
  const [row] = await q.query<ImageRepositoryRow>(
    `select ${COLUMNS} from ${FROM} where g.name = $1 and r.name = $2 ${options.forUpdate ? 'for update of r' : ''}`,
    [group, name],
  );
  return row;
}

export async function insertImageRepository(
  q: Queryable,
  repo: {
    groupId: number;
    group: string;
    name: string;
    description: string;
    public: boolean;
    createdById: number;
    at: Date;
  },
): Promise<ImageRepositoryRow> {
  await q.query(
    `insert into image_repositories (group_id, name, description, public, created_by, created_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, $6)`,
    [repo.groupId, repo.name, repo.description, repo.public, repo.createdById, repo.at],
  );
  return (await findImageRepository(q, repo.group, repo.name)) as ImageRepositoryRow;
}

export async function updateImageRepository(
  q: Queryable,
  id: number,
  changes: { description?: string | undefined; public?: boolean | undefined },
  at: Date,
): Promise<void> {
  await q.query(
    `update image_repositories set description = coalesce($2, description), public = coalesce($3, public),
     updated_at = $4 where id = $1`,
    [id, changes.description ?? null, changes.public ?? null, at],
  );
}

export async function deleteImageRepository(q: Queryable, id: number): Promise<void> {
  await q.query('delete from image_repositories where id = $1', [id]);
}

export async function countBuildProjectsPushingTo(q: Queryable, repositoryId: number): Promise<number> {
  const [row] = await q.query<{ n: number }>(
    'select count(*)::int as n from build_projects where image_repository_id = $1',
    [repositoryId],
  );
  return row?.n ?? 0;
}

/**
 * One page of the image repositories the caller sees: member of the repository or of its
 * group, or public; or all of them (`all`, admins). `groupId` narrows it to one group.
 */
export async function listImageRepositories(
  q: Queryable,
  userId: number,
  query: ResourceListQuery,
  options: { all: boolean; groupId?: number },
): Promise<Page<ImageRepository>> {
  const params: unknown[] = [userId];
  const conditions = [options.all ? 'true' : '(rm.role is not null or gm.role is not null or r.public)'];
  if (options.groupId !== undefined) {
    params.push(options.groupId);
    conditions.push(`r.group_id = $${params.length}`);
  }
  if (query.q) {
    params.push(query.q.toLowerCase());
    conditions.push(
      `(strpos(${FULL_NAME}, $${params.length}) > 0 or strpos(lower(r.description), $${params.length}) > 0)`,
    );
  }
  const page = pageClause(
    { name: FULL_NAME, createdAt: 'r.created_at', id: 'r.id' },
    query.sort,
    query.cursor,
    query.limit,
    params,
  );
  conditions.push(page.after);
  const rows = await q.query<ImageRepositoryRow & { own: Role | null; inherited: Role | null }>(
    `select ${COLUMNS}, rm.role as own, gm.role as inherited from ${FROM}
     left join image_repository_members rm on rm.image_repository_id = r.id and rm.user_id = $1
     left join image_group_members gm on gm.image_group_id = r.group_id and gm.user_id = $1
     where ${conditions.join(' and ')} ${page.orderBy} ${page.limit}`,
    params,
  );
  return toPage(
    rows,
    query.limit,
    query.sort,
    (r) => ({ name: r.fullName, createdAt: r.createdAt, id: r.id }),
    (r) => toImageRepository(r, higherRole(r.own, r.inherited)),
  );
}
