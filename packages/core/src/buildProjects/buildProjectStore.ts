import type { BuildProject, Page, ResourceListQuery, Role } from '@leengine/common';
import type { Queryable } from '../db/database.ts';
import { listByMembership } from '../db/membershipList.ts';

export interface BuildProjectRow {
  id: number;
  name: string;
  description: string;
  gitUrl: string;
  branch: string;
  dockerfilePath: string;
  imageRepositoryId: number;
  imageRepository: string;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `b.id, b.name, b.description, b.git_url as "gitUrl", b.branch, b.dockerfile_path as "dockerfilePath",
  b.image_repository_id as "imageRepositoryId", g.name || '/' || r.name as "imageRepository",
  u.username as "createdBy", b.created_at as "createdAt", b.updated_at as "updatedAt"`;
const JOINS = `join image_repositories r on r.id = b.image_repository_id join image_groups g on g.id = r.group_id
  join users u on u.id = b.created_by`;

export function toBuildProject(row: BuildProjectRow, callerRole: Role | null): BuildProject {
  return {
    name: row.name,
    description: row.description,
    gitUrl: row.gitUrl,
    branch: row.branch,
    dockerfilePath: row.dockerfilePath,
    imageRepository: row.imageRepository,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    callerRole,
  };
}

export async function findBuildProject(
  q: Queryable,
  name: string,
  options: { forUpdate?: boolean } = {},
): Promise<BuildProjectRow | undefined> {
  const [row] = await q.query<BuildProjectRow>(
    `select ${COLUMNS} from build_projects b ${JOINS} where b.name = $1 ${options.forUpdate ? 'for update of b' : ''}`,
    [name],
  );
  return row;
}

export interface BuildProjectFields {
  name: string;
  description: string;
  gitUrl: string;
  branch: string;
  dockerfilePath: string;
  imageRepositoryId: number;
}

export async function insertBuildProject(
  q: Queryable,
  project: BuildProjectFields & { createdById: number; at: Date },
): Promise<BuildProjectRow> {
  await q.query(
    `insert into build_projects (name, description, git_url, branch, dockerfile_path, image_repository_id,
       created_by, created_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $8)`,
    [
      project.name,
      project.description,
      project.gitUrl,
      project.branch,
      project.dockerfilePath,
      project.imageRepositoryId,
      project.createdById,
      project.at,
    ],
  );
  return (await findBuildProject(q, project.name)) as BuildProjectRow;
}

export async function updateBuildProject(
  q: Queryable,
  id: number,
  changes: Partial<Omit<BuildProjectFields, 'name'>>,
  at: Date,
): Promise<void> {
  await q.query(
    `update build_projects set description = coalesce($2, description), git_url = coalesce($3, git_url),
       branch = coalesce($4, branch), dockerfile_path = coalesce($5, dockerfile_path),
       image_repository_id = coalesce($6, image_repository_id), updated_at = $7
     where id = $1`,
    [
      id,
      changes.description ?? null,
      changes.gitUrl ?? null,
      changes.branch ?? null,
      changes.dockerfilePath ?? null,
      changes.imageRepositoryId ?? null,
      at,
    ],
  );
}

export async function deleteBuildProject(q: Queryable, id: number): Promise<void> {
  await q.query('delete from build_projects where id = $1', [id]);
}

/** One page of the caller's build projects (member of), or all (`all`, admins). */
export async function listBuildProjects(
  q: Queryable,
  userId: number,
  query: ResourceListQuery,
  all: boolean,
): Promise<Page<BuildProject>> {
  return listByMembership(
    q,
    {
      table: 'build_projects',
      alias: 'b',
      members: 'build_project_members',
      memberKey: 'build_project_id',
      columns: COLUMNS,
      joins: JOINS,
    },
    userId,
    query,
    all,
    (r: BuildProjectRow & { role: Role | null }) => toBuildProject(r, r.role),
  );
}
