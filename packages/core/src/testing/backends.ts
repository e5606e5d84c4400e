import type { PostgresHandle, Testbed } from '@leengine/testbed';
import pino from 'pino';
import type { Caller } from '../auth/caller.ts';
import { type Database, openDatabase } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { createServices, type Services } from '../services.ts';
import { insertUser } from '../users/userStore.ts';
import { TestClock } from './testClock.ts';

/** One of the two databases core runs on; `open` gives a fresh, migrated one. */
export interface Backend {
  name: 'pglite' | 'postgres';
  open(options?: { migrated?: boolean }): Promise<Database>;
  /** For a whole core (`startTestCore`): a fresh database's URL, or none for PGlite in memory. */
  databaseUrl(): Promise<string | undefined>;
}

let databases = 0;

/** PGlite (in memory) and PostgreSQL (from the testbed): store tests run on both. */
export function backends(testbed: Testbed): Backend[] {
  // One PostgreSQL per test file, started on first use; a new database per open().
  let postgres: Promise<PostgresHandle> | undefined;
  const createDatabase = async () => {
    postgres ??= testbed.postgres();
    return (await postgres).createDatabase(`store_${process.pid}_${++databases}`);
  };
  return [
    {
      name: 'pglite',
      open: async (options = {}) => {
        const db = await openDatabase({ dataDir: 'memory://' });
        if (options.migrated !== false) await migrate(db);
        return db;
      },
      databaseUrl: async () => undefined,
    },
    {
      name: 'postgres',
      open: async (options = {}) => {
        const db = await openDatabase({ url: await createDatabase(), dataDir: 'unused' });
        if (options.migrated !== false) await migrate(db);
        return db;
      },
      databaseUrl: createDatabase,
    },
  ];
}

/** Services on a database, with a test clock. */
export function servicesOn(db: Database, clock = new TestClock()): Services {
  return createServices({
    db,
    clock: clock.clock,
    logger: pino({ level: 'silent' }),
    sessionTtlMs: 3_600_000,
  });
}

/** A user made straight in the store (no password check needed), as a caller. */
export async function callerIn(db: Database, username: string, admin = false): Promise<Caller> {
  const row = await insertUser(db, {
    username,
    displayName: username,
    email: null,
    passwordHash: 'not-a-hash',
    admin,
    at: new Date('2025-03-01T08:00:00Z'),
  });
  return { userId: row.id, username: row.username, admin, via: 'token' };
}
