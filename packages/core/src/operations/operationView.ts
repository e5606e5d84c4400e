import type { Operation } from '@leengine/common';
import type { Queryable } from '../db/database.ts';
import type { OperationRow } from './operationStore.ts';

/** The API form: replaced versions by name. */
export async function toOperations(q: Queryable, rows: OperationRow[]): Promise<Operation[]> {
  const ids = [...new Set(rows.flatMap((r) => r.replaces))];
  const names = new Map<number, string>();
  if (ids.length > 0) {
    for (const v of await q.query<{ id: number; name: string }>(
      'select id, name from versions where id = any($1::int[])',
      [ids],
    ))
      names.set(v.id, v.name);
  }
  return rows.map((row) => ({
    id: row.id,
    application: row.application,
    kind: row.kind,
    state: row.state,
    version: row.version,
    replaces: row.replaces.map((id) => names.get(id) ?? `#${id}`),
    steps: row.steps,
    error: row.error,
    deadline: row.deadline?.toISOString() ?? null,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
  }));
}

export async function toOperation(q: Queryable, row: OperationRow): Promise<Operation> {
  return (await toOperations(q, [row]))[0] as Operation;
}
