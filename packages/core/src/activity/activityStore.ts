import type { Activity, ActivityKind, FeedQuery, Page } from '@leengine/common';
import type { Queryable } from '../db/database.ts';
import { feedClause, toFeedPage } from '../db/page.ts';

/** What one activity record is about. `id` is null when the resource never came to exist. */
export interface ActivityTarget {
  kind: ActivityKind;
  id: number | null;
  name: string;
}

export interface ActivityEntry {
  at: Date;
  actorId: number;
  target: ActivityTarget;
  action: string;
  params: Record<string, unknown>;
  result: 'succeeded' | 'failed';
  error?: string | undefined;
}

interface ActivityRow {
  id: number;
  at: Date;
  actor: string;
  kind: ActivityKind;
  name: string;
  action: string;
  params: Record<string, unknown>;
  result: 'succeeded' | 'failed';
  error: string | null;
}

function toActivity(row: ActivityRow): Activity {
  return {
    id: row.id,
    at: row.at.toISOString(),
    actor: row.actor,
    resource: { kind: row.kind, name: row.name },
    action: row.action,
    params: row.params,
    result: row.result,
    error: row.error,
  };
}

export async function insertActivity(q: Queryable, entry: ActivityEntry): Promise<void> {
  await q.query(
    `insert into activity (at, actor_id, resource_kind, resource_id, resource_name, action, params, result, error)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      entry.at,
      entry.actorId,
      entry.target.kind,
      entry.target.id,
      entry.target.name,
      entry.action,
      JSON.stringify(entry.params),
      entry.result,
      entry.error ?? null,
    ],
  );
}

const SELECT = `select a.id, a.at, u.username as actor, a.resource_kind as kind, a.resource_name as name,
  a.action, a.params, a.result, a.error from activity a join users u on u.id = a.actor_id`;

/** The feed of one resource, newest first. */
export async function resourceFeed(
  q: Queryable,
  kind: ActivityKind,
  resourceId: number,
  query: FeedQuery,
): Promise<Page<Activity>> {
  const params: unknown[] = [kind, resourceId];
  const page = feedClause('a.id', query.cursor, query.limit, params);
  const rows = await q.query<ActivityRow>(
    `${SELECT} where a.resource_kind = $1 and a.resource_id = $2 and ${page.after} ${page.orderBy} ${page.limit}`,
    params,
  );
  return toFeedPage(rows, query.limit, toActivity);
}

/** What one user did, newest first. */
export async function actorFeed(q: Queryable, actorId: number, query: FeedQuery): Promise<Page<Activity>> {
  const params: unknown[] = [actorId];
  const page = feedClause('a.id', query.cursor, query.limit, params);
  const rows = await q.query<ActivityRow>(
    `${SELECT} where a.actor_id = $1 and ${page.after} ${page.orderBy} ${page.limit}`,
    params,
  );
  return toFeedPage(rows, query.limit, toActivity);
}
