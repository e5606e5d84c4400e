import type { FeedQuery, OperationKind, OperationState, OperationStep, Page } from '@leengine/common';
import type { Queryable } from '../db/database.ts';
import { feedClause, toFeedPage } from '../db/page.ts';

/** What an operation works from, besides its version. */
export interface OperationParams {
  /** Scale: instances per cell once done. */
  target?: Record<string, number>;
  /** Scale: instances per cell before. */
  from?: Record<string, number>;
  /** Scale: the pods chosen to stop (filled by the select step). */
  remove?: { cell: string; pod: string; ip: string }[];
  /** Rolled back because a user aborted it (not because it failed). */
  aborted?: boolean;
}

export interface OperationRow {
  id: number;
  applicationId: number;
  application: string;
  kind: OperationKind;
  state: OperationState;
  versionId: number;
  version: string;
  replaces: number[];
  params: OperationParams;
  steps: OperationStep[];
  error: string | null;
  deadline: Date | null;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

const COLUMNS = `o.id, o.application_id as "applicationId", a.name as application, o.kind, o.state,
  o.version_id as "versionId", v.name as version, o.replaces, o.params, o.steps, o.error, o.deadline,
  u.username as "createdBy", o.created_at as "createdAt", o.updated_at as "updatedAt", o.finished_at as "finishedAt"`;
const FROM = `operations o join applications a on a.id = o.application_id join versions v on v.id = o.version_id
  join users u on u.id = o.created_by`;

export const RUNNING_STATES: OperationState[] = ['running', 'rolling-back'];

export async function insertOperation(
  q: Queryable,
  op: {
    applicationId: number;
    kind: OperationKind;
    versionId: number;
    replaces: number[];
    params: OperationParams;
    steps: OperationStep[];
    deadline: Date | null;
    createdById: number;
    at: Date;
  },
): Promise<number> {
  const [row] = await q.query<{ id: number }>(
    `insert into operations (application_id, kind, state, version_id, replaces, params, steps, deadline, created_by,
       created_at, updated_at)
     values ($1, $2, 'running', $3, $4::jsonb, $5::jsonb, $6::jsonb, $7, $8, $9, $9) returning id`,
    [
      op.applicationId,
      op.kind,
      op.versionId,
      JSON.stringify(op.replaces),
      JSON.stringify(op.params),
      JSON.stringify(op.steps),
      op.deadline,
      op.createdById,
      op.at,
    ],
  );
  return (row as { id: number }).id;
}

export async function findOperation(
  q: Queryable,
  id: number,
  options: { forUpdate?: boolean } = {},
): Promise<OperationRow | undefined> {
  const [row] = await q.query<OperationRow>(
    `select ${COLUMNS} from ${FROM} where o.id = $1 ${options.forUpdate ? 'for update of o' : ''}`,
    [id],
  );
  return row;
}

/** The application's running operation, if any (at most one). */
export async function runningOperation(
  q: Queryable,
  applicationId: number,
): Promise<OperationRow | undefined> {
  const [row] = await q.query<OperationRow>(
    `select ${COLUMNS} from ${FROM} where o.application_id = $1 and o.state = any($2::text[])`,
    [applicationId, RUNNING_STATES],
  );
  return row;
}

/** Ids of every running operation: what a (re)started core picks up. */
export async function runningOperationIds(q: Queryable): Promise<number[]> {
  const rows = await q.query<{ id: number }>('select id from operations where state = any($1::text[])', [
    RUNNING_STATES,
  ]);
  return rows.map((r) => r.id);
}

export async function listOperations(
  q: Queryable,
  applicationId: number,
  query: FeedQuery,
): Promise<Page<OperationRow>> {
  const params: unknown[] = [applicationId];
  const page = feedClause('o.id', query.cursor, query.limit, params);
  const rows = await q.query<OperationRow>(
    `select ${COLUMNS} from ${FROM} where o.application_id = $1 and ${page.after} ${page.orderBy} ${page.limit}`,
    params,
  );
  return toFeedPage(rows, query.limit, (r) => r);
}

/**
 * Writes an operation's progress, only if it is still in `expected` state (an abort in
 * between wins; the writer reads it again). Returns whether it was written.
 */
export async function writeOperation(
  q: Queryable,
  id: number,
  expected: OperationState,
  changes: {
    state: OperationState;
    steps: OperationStep[];
    error: string | null;
    params: OperationParams;
    finishedAt: Date | null;
  },
  at: Date,
): Promise<boolean> {
  const rows = await q.query<{ id: number }>(
    `update operations set state = $3, steps = $4::jsonb, error = $5, params = $6::jsonb, finished_at = $7,
       updated_at = $8 where id = $1 and state = $2 returning id`,
    [
      id,
      expected,
      changes.state,
      JSON.stringify(changes.steps),
      changes.error,
      JSON.stringify(changes.params),
      changes.finishedAt,
      at,
    ],
  );
  return rows.length === 1;
}
