import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { useTestbed } from '@leengine/testbed';
import { backends } from '../testing/backends.ts';
import { loadMigrations, migrate } from './migrate.ts';

const testbed = useTestbed();
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function migrationsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'leengine-migrations-'));
  dirs.push(dir);
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
  return dir;
}

test('the migration files are numbered 1, 2, 3... with no gap', () => {
  const migrations = loadMigrations();
  assert.ok(migrations.length >= 1);
  assert.deepEqual(
    migrations.map((m) => m.version),
    migrations.map((_, i) => i + 1),
  );
  assert.throws(() => loadMigrations(migrationsDir({ '0002_x.sql': 'select 1' })), /numbered 1, 2, 3/);
  assert.throws(() => loadMigrations(migrationsDir({ 'first.sql': 'select 1' })), /NNNN_name\.sql/);
});

for (const backend of backends(testbed)) {
  test(`${backend.name}: migrations apply once, in order, and the schema is there`, async () => {
    const db = await backend.open({ migrated: false });
    try {
      const all = loadMigrations().map((m) => m.version);
      assert.deepEqual(await migrate(db), all);
      assert.deepEqual(await migrate(db), [], 'a second start applies nothing');
      const tables = await db.query<{ name: string }>(
        `select table_name as name from information_schema.tables where table_schema = 'public' order by 1`,
      );
      for (const table of ['activity', 'applications', 'build_projects', 'image_repositories', 'users']) {
        assert.ok(
          tables.some((t) => t.name === table),
          `table ${table}`,
        );
      }
    } finally {
      await db.close();
    }
  });

  test(`${backend.name}: a failing migration leaves nothing behind (one transaction)`, async () => {
    const db = await backend.open({ migrated: false });
    try {
      const dir = migrationsDir({
        '0001_good.sql': 'create table good (id int);',
        '0002_bad.sql': 'create table half (id int); select * from no_such_table;',
      });
      await assert.rejects(migrate(db, loadMigrations(dir)), /no_such_table/);
      const [row] = await db.query<{ n: number }>(
        `select count(*)::int as n from information_schema.tables where table_name in ('good', 'half', 'schema_migrations')`,
      );
      assert.equal(row?.n, 0);
    } finally {
      await db.close();
    }
  });

  test(`${backend.name}: history is append-only: an edited or unknown applied migration stops the start`, async () => {
    const db = await backend.open({ migrated: false });
    try {
      const v1 = migrationsDir({
        '0001_a.sql': 'create table a (id int);',
        '0002_b.sql': 'create table b (id int);',
      });
      await migrate(db, loadMigrations(v1));
      const edited = migrationsDir({ '0001_a.sql': 'create table a (id bigint);' });
      await assert.rejects(migrate(db, loadMigrations(edited)), /0001|changed after it was applied/);
      const older = migrationsDir({ '0001_a.sql': 'create table a (id int);' });
      await assert.rejects(migrate(db, loadMigrations(older)), /does not know/);
    } finally {
      await db.close();
    }
  });
}

test('postgres: two cores migrating one database at once apply each migration once', async () => {
  const postgresBackend = backends(testbed).find((b) => b.name === 'postgres');
  assert.ok(postgresBackend);
  const first = await postgresBackend.open({ migrated: false });
  // A second pool on the same database.
  const [{ url } = { url: '' }] = await first.query<{ url: string }>(
    `select 'postgres://postgres@127.0.0.1:' || current_setting('port') || '/' || current_database() as url`,
  );
  const { openDatabase } = await import('./database.ts');
  const second = await openDatabase({ url, dataDir: 'unused' });
  try {
    const [a, b] = await Promise.all([migrate(first), migrate(second)]);
    assert.deepEqual(
      [...a, ...b].sort(),
      loadMigrations().map((m) => m.version),
    );
    const [row] = await first.query<{ n: number }>('select count(*)::int as n from schema_migrations');
    assert.equal(row?.n, loadMigrations().length);
  } finally {
    await Promise.all([first.close(), second.close()]);
  }
});
