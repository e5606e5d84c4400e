import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

/** The system of record: PostgreSQL, or embedded PGlite (the same SQL dialect). */
export interface Database {
  readonly kind: 'postgres' | 'pglite';
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Cheap round trip, for readiness. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres:// URL; without it, PGlite in `dataDir`. */
  url?: string | undefined;
  /** PGlite's directory; `memory://` keeps it in memory. */
  dataDir: string;
}

/** Opens PostgreSQL when a URL is given, else PGlite on disk. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.url ? openPostgres(options.url) : openPglite(options.dataDir);
}

async function openPostgres(url: string): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle connection the server ends (restart, failover) must not crash core: the
  // pool drops it and the next query opens a new one.
  pool.on('error', () => {});
  const db: Database = {
    kind: 'postgres',
    query: async <Row>(sql: string, params: unknown[] = []) => (await pool.query(sql, params)).rows as Row[],
    ping: async () => {
      await pool.query('select 1');
    },
    close: () => pool.end(),
  };
  await db.ping();
  return db;
}

async function openPglite(dataDir: string): Promise<Database> {
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  const client = await PGlite.create(dataDir);
  return {
    kind: 'pglite',
    query: async <Row>(sql: string, params: unknown[] = []) => (await client.query<Row>(sql, params)).rows,
    ping: async () => {
      await client.query('select 1');
    },
    close: () => client.close(),
  };
}
