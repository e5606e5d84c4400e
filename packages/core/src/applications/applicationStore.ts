import type { Application, Page, ResourceListQuery, Role } from '@leengine/common';
import type { Queryable } from '../db/database.ts';
import { listByMembership } from '../db/membershipList.ts';

export interface ApplicationRow {
  id: number;
  name: string;
  description: string;
  createdBy: string;
  createdById: number;
  createdAt: Date;
  updatedAt: Date;
  instances: number;
  cpuMillicores: number;
  memoryMib: number;
  regionId: number | null;
  region: string | null;
}

/** One cell of an application, as lists carry it (built in SQL). */
type ListedCell = Application['cells'][number];

const COLUMNS = `a.id, a.name, a.description, u.username as "createdBy", a.created_by as "createdById",
  a.created_at as "createdAt", a.updated_at as "updatedAt", a.instances, a.cpu_millicores as "cpuMillicores",
  a.memory_mib as "memoryMib", a.region_id as "regionId", r.name as region`;
const JOINS = 'join users u on u.id = a.created_by left join regions r on r.id = a.region_id';

/** The API form; `cells` are its placements (see placementStore). */
export function toApplication(
  row: ApplicationRow,
  callerRole: Role | null,
  cells: Application['cells'] = [],
): Application {
  return {
    name: row.name,
    description: row.description,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    callerRole,
    allocation: { instances: row.instances, cpuMillicores: row.cpuMillicores, memoryMib: row.memoryMib },
    region: row.region,
    cells,
  };
}

export async function findApplication(
  q: Queryable,
  name: string,
  options: { forUpdate?: boolean } = {},
): Promise<ApplicationRow | undefined> {
  const [row] = await q.query<ApplicationRow>(
    `select ${COLUMNS} from applications a ${JOINS} where a.name = $1
     ${options.forUpdate ? 'for update of a' : ''}`,
    [name],
  );
  return row;
}

export async function insertApplication(
  q: Queryable,
  app: { name: string; description: string; createdById: number; regionId: number | null; at: Date },
): Promise<ApplicationRow> {
  await q.query(
    `insert into applications (name, description, created_by, region_id, created_at, updated_at)
     values ($1, $2, $3, $4, $5, $5)`,
    [app.name, app.description, app.createdById, app.regionId, app.at],
  );
  return (await findApplication(q, app.name)) as ApplicationRow;
}

export async function updateApplication(
  q: Queryable,
  id: number,
  changes: { description?: string | undefined },
  at: Date,
): Promise<void> {
  await q.query(
    `update applications set description = coalesce($2, description), updated_at = $3 where id = $1`,
    [id, changes.description ?? null, at],
  );
}

export async function deleteApplication(q: Queryable, id: number): Promise<void> {
  await q.query('delete from applications where id = $1', [id]);
}

/**
 * One page of applications: the caller's (those they are a member of; the creator is the
 * first Owner), or all of them (`all`, admins). Filtered, searched and sorted in SQL.
 */
export async function listApplications(
  q: Queryable,
  userId: number,
  query: ResourceListQuery,
  all: boolean,
): Promise<Page<Application>> {
  return listByMembership(
    q,
    {
      table: 'applications',
      alias: 'a',
      members: 'application_members',
      memberKey: 'application_id',
      // Each application's cells come along (same order as placementsOf), in the one query.
      columns: `${COLUMNS}, coalesce(pl.cells, '[]') as cells`,
      joins: `${JOINS} cross join lateral (
        select json_agg(json_build_object('name', c.name, 'state', ac.state) order by c.name) as cells
        from application_cells ac join cells c on c.id = ac.cell_id where ac.application_id = a.id) pl`,
    },
    userId,
    query,
    all,
    (r: ApplicationRow & { role: Role | null; cells: ListedCell[] }) => toApplication(r, r.role, r.cells),
  );
}

export async function countApplications(q: Queryable): Promise<number> {
  const [row] = await q.query<{ n: number }>('select count(*)::int as n from applications');
  return row?.n ?? 0;
}
