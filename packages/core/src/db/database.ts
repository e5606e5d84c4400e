import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import pg from 'pg';

/** Something SQL can be sent to: the database itself or one open transaction. */
export interface Queryable {
  /** One statement with `$n` parameters. */
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** A script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/** The system of record: PostgreSQL, or embedded PGlite (the same SQL dialect). */
export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws.
   * Everything that must change together (a resource and its activity record) goes here.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Cheap round trip, for readiness. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres:// URL; without it, PGlite in `dataDir`. */
  url?: string | undefined;
  /** PGlite's directory; `memory://` keeps it in memory. */
  dataDir: string;
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
}

/** Opens PostgreSQL when a URL is given, else PGlite on disk. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.url ? openPostgres(options.url, options.poolSize ?? 10) : openPglite(options.dataDir);
}

const INT8_OID = 20;

// node-postgres returns int8 (count(*), bigint ids) as strings, PGlite as numbers: make
// both numbers. Our bigints (activity ids, counts) stay far below 2^53.
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as never,
};

async function openPostgres(url: string, max: number): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max, types: pgTypes });
  // An idle connection the server ends (restart, failover) must not crash core: the
  // pool drops it and the next query opens a new one.
  pool.on('error', () => {});
  const statementName = statementNames();
  const on = (client: pg.Pool | pg.PoolClient): Queryable => ({
    // Named statements are parsed and planned once per connection, not per request.
    query: async <Row>(sql: string, params: unknown[] = []) =>
      (await client.query({ name: statementName(sql), text: sql, values: params })).rows as Row[],
    exec: async (sql: string) => {
      await client.query(sql);
    },
  });
  const db: Database = {
    kind: 'postgres',
    ...on(pool),
    transaction: async (fn) => {
      const client = await pool.connect();
      try {
        await client.query('begin');
        const result = await fn(on(client));
        await client.query('commit');
        return result;
      } catch (error) {
        await client.query('rollback').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    ping: async () => {
      await pool.query('select 1');
    },
    close: () => pool.end(),
  };
  try {
    await db.ping();
  } catch (error) {
    await pool.end().catch(() => {});
    throw error;
  }
  return db;
}

/** A stable statement name per SQL text (node-postgres prepares it once per connection). */
function statementNames(): (sql: string) => string {
  const names = new Map<string, string>();
  return (sql) => {
    let name = names.get(sql);
    if (!name) {
      name = `s${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`;
      // Our SQL texts are a fixed set; the bound only guards against a bug making endless ones.
      if (names.size < 10_000) names.set(sql, name);
    }
    return name;
  };
}

async function openPglite(dataDir: string): Promise<Database> {
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  const client = await PGlite.create(dataDir);
  const on = (target: PGlite | Transaction): Queryable => ({
    query: async <Row>(sql: string, params: unknown[] = []) => (await target.query<Row>(sql, params)).rows,
    exec: async (sql: string) => {
      await target.exec(sql);
    },
  });
  return {
    kind: 'pglite',
    ...on(client),
    // PGlite is one connection: its transaction() holds it exclusively, so statements
    // from other requests wait instead of landing inside this transaction.
    transaction: (fn) => client.transaction((tx) => fn(on(tx))),
    ping: async () => {
      await client.query('select 1');
    },
    close: () => client.close(),
  };
}
