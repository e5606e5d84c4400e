import type { Page, ResourceListQuery, Role } from '@leengine/common';
import type { Queryable } from './database.ts';
import { pageClause, toPage } from './page.ts';

/** How one resource kind is stored: its table, alias, member table and the columns it selects. */
export interface MembershipListSpec {
  /** e.g. `applications`, aliased as `alias` in `columns` and `joins`. */
  table: string;
  alias: string;
  /** e.g. `application_members`, with `memberKey` pointing at `table.id`. */
  members: string;
  memberKey: string;
  /** The select list (row columns), written against `alias`. */
  columns: string;
  /** Joins after the resource (at least `users u` for the creator); made for the page's rows only. */
  joins: string;
}

interface ListedRow {
  name: string;
  createdAt: Date;
  id: number;
  role: Role | null;
}

/**
 * One page of a resource kind: the caller's (those they are a member of), or all of them
 * (`all`, admins), filtered, searched and sorted in SQL. Every kind with members lists
 * this way, so the query lives here once.
 */
export async function listByMembership<Row extends ListedRow, Item>(
  q: Queryable,
  spec: MembershipListSpec,
  userId: number,
  query: ResourceListQuery,
  all: boolean,
  map: (row: Row) => Item,
): Promise<Page<Item>> {
  const a = spec.alias;
  const params: unknown[] = [userId];
  // The caller's memberships drive the query (index on user_id), one primary-key lookup
  // each: LIMIT 1 keeps the planner from hashing the whole resource table instead, so the
  // cost follows the caller's memberships, not the platform's size.
  const from = all
    ? `${spec.table} ${a} left join ${spec.members} m on m.${spec.memberKey} = ${a}.id and m.user_id = $1`
    : `${spec.members} m cross join lateral (select * from ${spec.table} x where x.id = m.${spec.memberKey} limit 1) ${a}`;
  const conditions = [all ? 'true' : 'm.user_id = $1'];
  if (query.q) {
    params.push(query.q.toLowerCase());
    conditions.push(
      `(strpos(${a}.name, $${params.length}) > 0 or strpos(lower(${a}.description), $${params.length}) > 0)`,
    );
  }
  const page = pageClause(
    { name: `${a}.name`, createdAt: `${a}.created_at`, id: `${a}.id` },
    query.sort,
    query.cursor,
    query.limit,
    params,
  );
  conditions.push(page.after);
  // The page's rows first, then the joins (creator, region, cells...) for those rows only:
  // joined before the LIMIT they would be made for every membership of the caller. The
  // page carries its rows' columns out, so the resource table is not looked up again.
  const rows = await q.query<Row>(
    `select ${spec.columns}, ${a}.member_role as role
     from (select ${a}.*, m.role as member_role from ${from}
           where ${conditions.join(' and ')} ${page.orderBy} ${page.limit}) ${a} ${spec.joins}
     ${page.orderBy}`,
    params,
  );
  return toPage(rows, query.limit, query.sort, (r) => r, map);
}
