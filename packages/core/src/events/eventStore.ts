import { type ApplicationEvent, InputError, type Page } from '@leengine/common';
import type { Queryable } from '../db/database.ts';
import { decodeCursor, encodeCursor } from '../db/page.ts';

/** An event to record: from a cell (Kubernetes) or from the platform (`cell` ''). */
export interface EventInput {
  cell: string;
  uid: string;
  type: string;
  reason: string;
  message: string;
  object: string;
  count: number;
  at: Date;
}

interface EventRow {
  id: number;
  cell: string;
  type: string;
  reason: string;
  message: string;
  object: string;
  count: number;
  firstSeen: Date;
  lastSeen: Date;
}

/** Inserts an event, or updates it (count, message, last seen) when its uid was seen before. */
export async function upsertEvent(q: Queryable, applicationId: number, e: EventInput): Promise<void> {
  await q.query(
    `insert into application_events (application_id, cell, uid, type, reason, message, object, count, first_seen, last_seen)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
     on conflict (application_id, cell, uid) do update set type = excluded.type, reason = excluded.reason,
       message = excluded.message, count = greatest(application_events.count, excluded.count),
       last_seen = greatest(application_events.last_seen, excluded.last_seen)`,
    [applicationId, e.cell, e.uid, e.type, e.reason, e.message.slice(0, 4000), e.object, e.count, e.at],
  );
}

/** Newest first by when last seen (a repeating event moves up). */
export async function listEvents(
  q: Queryable,
  applicationId: number,
  query: { cursor?: string | undefined; limit: number },
): Promise<Page<ApplicationEvent>> {
  const params: unknown[] = [applicationId];
  let after = 'true';
  if (query.cursor) {
    const c = decodeCursor(query.cursor, 'events');
    if (typeof c.v !== 'string' || Number.isNaN(Date.parse(c.v))) throw new InputError('invalid cursor');
    params.push(c.v, c.i);
    after = '(last_seen, id) < ($2::timestamptz, $3::bigint)';
  }
  params.push(query.limit + 1);
  const rows = await q.query<EventRow>(
    `select id, cell, type, reason, message, object, count, first_seen as "firstSeen", last_seen as "lastSeen"
     from application_events where application_id = $1 and ${after}
     order by last_seen desc, id desc limit $${params.length}`,
    params,
  );
  const more = rows.length > query.limit;
  const kept = more ? rows.slice(0, query.limit) : rows;
  const last = kept.at(-1);
  return {
    items: kept.map((r) => ({
      id: r.id,
      cell: r.cell === '' ? null : r.cell,
      type: r.type,
      reason: r.reason,
      message: r.message,
      object: r.object,
      count: r.count,
      firstSeen: r.firstSeen.toISOString(),
      lastSeen: r.lastSeen.toISOString(),
    })),
    nextCursor:
      more && last ? encodeCursor({ s: 'events', v: last.lastSeen.toISOString(), i: last.id }) : null,
  };
}

/** Keeps the newest `keep` events of an application. */
export async function pruneEvents(q: Queryable, applicationId: number, keep: number): Promise<void> {
  await q.query(
    `delete from application_events where application_id = $1 and id not in (
       select id from application_events where application_id = $1 order by last_seen desc, id desc limit $2)`,
    [applicationId, keep],
  );
}
