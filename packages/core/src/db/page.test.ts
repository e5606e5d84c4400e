import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '@leengine/common';
import { decodeCursor, encodeCursor, pageClause } from './page.ts';

const COLUMNS = { name: 'a.name', createdAt: 'a.created_at', id: 'a.id' };

test('a keyset page continues after the last row, in the sort direction', () => {
  const params: unknown[] = ['user'];
  const none = pageClause(COLUMNS, 'name', undefined, 10, params);
  assert.deepEqual(none, { after: 'true', orderBy: 'order by a.name asc, a.id asc', limit: 'limit $2' });
  assert.deepEqual(params, ['user', 11]);

  const cursor = encodeCursor({ s: '-createdAt', v: '2025-03-01T08:00:00.000Z', i: 42 });
  const next: unknown[] = ['user'];
  const page = pageClause(COLUMNS, '-createdAt', cursor, 5, next);
  assert.equal(page.after, '(a.created_at, a.id) < ($2::timestamptz, $3::integer)');
  assert.equal(page.orderBy, 'order by a.created_at desc, a.id desc');
  assert.deepEqual(next, ['user', '2025-03-01T08:00:00.000Z', 42, 6]);
});

test('a cursor from another sort, or not from us at all, is bad input naming "cursor"', () => {
  const byName = encodeCursor({ s: 'name', v: 'web', i: 1 });
  for (const [text, sort] of [
    [byName, '-name'],
    ['bm90LWpzb24', 'name'],
    [encodeCursor({ s: 'createdAt', v: 'yesterday', i: 1 } as never), 'createdAt'],
    [Buffer.from(JSON.stringify({ s: 'name', v: 'x', i: 1.5 })).toString('base64url'), 'name'],
    [Buffer.from('null').toString('base64url'), 'name'],
  ] as const) {
    assert.throws(
      () => decodeCursor(text, sort),
      (e: unknown) =>
        e instanceof InputError && e.fields[0]?.path === 'cursor' && e.fields[0]?.in === 'query',
    );
  }
  assert.deepEqual(decodeCursor(byName, 'name'), { s: 'name', v: 'web', i: 1 });
});
