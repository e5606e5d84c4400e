import { InputError, type Page, type Sort } from '@leengine/common';

/** How a list sorts: the SQL expression of each sort key, and of the row id (tie-break). */
export interface SortColumns {
  name: string;
  createdAt: string;
  id: string;
}

interface Cursor {
  /** The sort the cursor was made for. */
  s: string;
  /** The last row's sort value. */
  v: string | number;
  /** The last row's id. */
  i: number;
}

function badCursor(): InputError {
  return new InputError('invalid cursor', [
    { in: 'query', path: 'cursor', message: 'is not a cursor from this list and sort' },
  ]);
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

export function decodeCursor(text: string, sort: string): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw badCursor();
  }
  const c = parsed as Partial<Cursor> | null;
  if (
    !c ||
    typeof c !== 'object' ||
    c.s !== sort ||
    !(typeof c.v === 'string' || typeof c.v === 'number') ||
    typeof c.i !== 'number' ||
    !Number.isSafeInteger(c.i)
  ) {
    throw badCursor();
  }
  if (sort.endsWith('createdAt') && (typeof c.v !== 'string' || Number.isNaN(Date.parse(c.v)))) {
    throw badCursor();
  }
  return c as Cursor;
}

/**
 * The ORDER BY / keyset condition / LIMIT of one page of a list. Appends its parameters
 * to `params` (so the caller's `$n` numbering continues) and returns SQL fragments.
 */
export function pageClause(
  columns: SortColumns,
  sort: Sort,
  cursor: string | undefined,
  limit: number,
  params: unknown[],
): { after: string; orderBy: string; limit: string } {
  const descending = sort.startsWith('-');
  const key = descending ? sort.slice(1) : sort;
  const column = key === 'name' ? columns.name : columns.createdAt;
  const direction = descending ? 'desc' : 'asc';
  let after = 'true';
  if (cursor) {
    const c = decodeCursor(cursor, sort);
    params.push(c.v, c.i);
    const value = key === 'createdAt' ? `$${params.length - 1}::timestamptz` : `$${params.length - 1}::text`;
    after = `(${column}, ${columns.id}) ${descending ? '<' : '>'} (${value}, $${params.length}::integer)`;
  }
  params.push(limit + 1);
  return {
    after,
    orderBy: `order by ${column} ${direction}, ${columns.id} ${direction}`,
    limit: `limit $${params.length}`,
  };
}

/** Cuts the extra row fetched by pageClause off and makes the next cursor from the last row. */
export function toPage<Row, Item>(
  rows: Row[],
  limit: number,
  sort: Sort,
  keyOf: (row: Row) => { name: string; createdAt: Date; id: number },
  map: (row: Row) => Item,
): Page<Item> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept.at(-1);
  let nextCursor: string | null = null;
  if (more && last !== undefined) {
    const k = keyOf(last);
    nextCursor = encodeCursor({
      s: sort,
      v: sort.endsWith('createdAt') ? k.createdAt.toISOString() : k.name,
      i: k.id,
    });
  }
  return { items: kept.map(map), nextCursor };
}

/** Newest-first feeds (activity, tokens) page by id alone. */
export function feedClause(
  idColumn: string,
  cursor: string | undefined,
  limit: number,
  params: unknown[],
): { after: string; orderBy: string; limit: string } {
  let after = 'true';
  if (cursor) {
    const c = decodeCursor(cursor, 'feed');
    params.push(c.i);
    after = `${idColumn} < $${params.length}`;
  }
  params.push(limit + 1);
  return { after, orderBy: `order by ${idColumn} desc`, limit: `limit $${params.length}` };
}

export function toFeedPage<Row extends { id: number }, Item>(
  rows: Row[],
  limit: number,
  map: (row: Row) => Item,
): Page<Item> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept.at(-1);
  return {
    items: kept.map(map),
    nextCursor: more && last ? encodeCursor({ s: 'feed', v: 0, i: last.id }) : null,
  };
}
