import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from './database.ts';

/** One migration: `NNNN_name.sql` in the migrations directory. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

const MIGRATIONS_DIR = join(import.meta.dirname, 'migrations');
const FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** The migration history (the same files for PostgreSQL and PGlite), in order. */
export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((file) => {
      const match = FILE.exec(file);
      if (!match) throw new Error(`migration file name must be NNNN_name.sql: ${file}`);
      const sql = readFileSync(join(dir, file), 'utf8');
      return {
        version: Number(match[1]),
        name: match[2] as string,
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    });
  migrations.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new Error(`migrations must be numbered 1, 2, 3...: ${m.version}_${m.name}`);
  });
  return migrations;
}

// Any 64-bit number works; this one is "leengine" in ASCII, so it is recognisable in pg_locks.
const LOCK_KEY = '7801679185839009637';

/**
 * Applies every migration not yet applied, all in one transaction under an advisory lock
 * (two cores starting at once on one PostgreSQL do not race). An applied migration whose
 * file changed since is refused: history is append-only. Returns the versions applied.
 */
export async function migrate(db: Database, migrations = loadMigrations()): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query(`select pg_advisory_xact_lock(${LOCK_KEY})`);
    await tx.exec(`create table if not exists schema_migrations (
      version integer primary key,
      name text not null,
      checksum text not null,
      applied_at timestamptz not null default now()
    )`);
    const applied = await tx.query<{ version: number; name: string; checksum: string }>(
      'select version, name, checksum from schema_migrations order by version',
    );
    for (const row of applied) {
      const file = migrations.find((m) => m.version === row.version);
      if (!file) {
        throw new Error(
          `the database has migration ${row.version}_${row.name}, which this version of core does not know (a newer core ran on it)`,
        );
      }
      if (file.checksum !== row.checksum) {
        throw new Error(`migration ${row.version}_${row.name} was changed after it was applied`);
      }
    }
    const done = new Set(applied.map((r) => r.version));
    const pending = migrations.filter((m) => !done.has(m.version));
    for (const migration of pending) {
      await tx.exec(migration.sql);
      await tx.query('insert into schema_migrations (version, name, checksum) values ($1, $2, $3)', [
        migration.version,
        migration.name,
        migration.checksum,
      ]);
    }
    return pending.map((m) => m.version);
  });
}
