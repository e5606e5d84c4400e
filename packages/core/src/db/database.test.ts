import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { useTestbed } from '@leengine/testbed';
import { openDatabase } from './database.ts';

const testbed = useTestbed();
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('PGlite keeps its data on disk across close and reopen', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'leengine-pglite-'));
  dirs.push(dataDir);
  const first = await openDatabase({ dataDir });
  assert.equal(first.kind, 'pglite');
  await first.query('create table notes (id int primary key, body text)');
  await first.query('insert into notes values ($1, $2)', [1, 'kept']);
  await first.close();

  const second = await openDatabase({ dataDir });
  try {
    assert.deepEqual(await second.query('select id, body from notes'), [{ id: 1, body: 'kept' }]);
  } finally {
    await second.close();
  }
});

test('PostgreSQL is used when a URL is given', async () => {
  const postgres = await testbed.postgres();
  const db = await openDatabase({ url: await postgres.createDatabase('core_db_test'), dataDir: 'unused' });
  try {
    assert.equal(db.kind, 'postgres');
    await db.ping();
    const rows = await db.query<{ db: string }>('select current_database() as db');
    assert.deepEqual(rows, [{ db: 'core_db_test' }]);
  } finally {
    await db.close();
  }
});

test('an unreachable PostgreSQL fails at open, not at the first request', async () => {
  await assert.rejects(
    openDatabase({ url: 'postgres://postgres@127.0.0.1:1/none', dataDir: 'unused' }),
    /ECONNREFUSED/,
  );
});
