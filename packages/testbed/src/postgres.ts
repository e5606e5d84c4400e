import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import pg from 'pg';
import { findBinary, postgresBinDirs } from './binaries.ts';
import { cacheDir } from './cacheDir.ts';
import { baseHandle, type ComponentHandle, retryOnPortClash, startedOrCleanedUp } from './component.ts';
import { ComponentError } from './componentError.ts';
import { ManagedProcess } from './managedProcess.ts';
import { freePort } from './ports.ts';
import { waitUntilReady } from './waitUntil.ts';
import { makeWorkDir } from './workDir.ts';

/** PostgreSQL refuses to run as root; as root we run it as this user (Debian creates it). */
const SERVER_USER = 'postgres';

export interface PostgresOptions {
  /** Listen on this port instead of a free one (no retry if it is taken). */
  port?: number;
  /** Path of the executable, instead of looking it up. */
  binary?: string;
  timeoutMs?: number;
}

export interface PostgresHandle extends ComponentHandle {
  readonly port: number;
  /** URL of the `postgres` database as superuser `postgres` (trust auth on loopback). */
  readonly url: string;
  /** A new, not yet connected client for `database` (default `postgres`). */
  client(database?: string): pg.Client;
  /** Creates an empty database and returns its URL: one per test keeps tests apart. */
  createDatabase(name: string): Promise<string>;
}

/** Starts PostgreSQL from a cached initdb template (Debian postgresql). */
export function startPostgres(options: PostgresOptions = {}): Promise<PostgresHandle> {
  return options.port ? startPostgresOnce(options) : retryOnPortClash(() => startPostgresOnce(options));
}

async function startPostgresOnce(options: PostgresOptions): Promise<PostgresHandle> {
  // Debian's versioned bin dir first: initdb and postgres must be of one version, and
  // the version names the cached template.
  const newest = postgresBinDirs()[0];
  const server = findBinary('postgres', options.binary ?? (newest ? join(newest, 'postgres') : 'postgres'));
  const initdb = findBinary('postgres', join(dirname(server), 'initdb'));
  const asRoot = process.getuid?.() === 0;
  const workDir = makeWorkDir('postgres');
  const dataDir = join(workDir.path, 'data');
  const socketDir = join(workDir.path, 'socket');
  try {
    const template = ensureTemplate(initdb, asRoot);
    copyTree(template, dataDir);
    mkdirSync(socketDir);
    if (asRoot) {
      chownTo(SERVER_USER, workDir.path, socketDir);
      assertReachable(SERVER_USER, workDir.path);
    }
  } catch (error) {
    workDir.remove();
    throw error;
  }

  const port = options.port ?? (await freePort());
  const startedAt = performance.now();
  const proc = ManagedProcess.start({
    component: 'postgres',
    argv: [
      server,
      '-D',
      dataDir,
      '-p',
      String(port),
      '-k',
      socketDir,
      '-c',
      'listen_addresses=127.0.0.1',
      // Test data is disposable: durability settings only cost time here.
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=200',
    ],
    cwd: workDir.path,
    logFile: join(workDir.path, 'postgres.log'),
    user: asRoot ? SERVER_USER : undefined,
    stopSignal: 'SIGINT',
  });
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const client = (database = 'postgres') =>
    new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database, connectionTimeoutMillis: 2000 });
  await startedOrCleanedUp(proc, workDir, () =>
    waitUntilReady(
      proc,
      async () => {
        const c = client();
        try {
          await c.connect();
          await c.query('select 1');
          return true;
        } finally {
          await c.end().catch(() => {});
        }
      },
      { timeoutMs: options.timeoutMs ?? 20_000, what: `SELECT 1 on 127.0.0.1:${port}` },
    ),
  );
  return {
    ...baseHandle(proc, workDir, startedAt),
    port,
    url,
    client,
    createDatabase: async (name) => {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`invalid database name: ${name}`);
      const c = client();
      await c.connect();
      try {
        await c.query(`create database "${name}"`);
      } finally {
        await c.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
  };
}

/** initdb takes seconds; it runs once per PostgreSQL version and the result is copied. */
function ensureTemplate(initdb: string, asRoot: boolean): string {
  const version = basename(dirname(dirname(initdb)));
  const template = cacheDir('testbed', `pg-template-${version}`);
  if (existsSync(join(template, 'PG_VERSION'))) return template;
  mkdirSync(dirname(template), { recursive: true });
  // initdb runs as the server user, who cannot enter root's cache dir: it writes to a
  // temp dir that is then copied into the cache and renamed into place atomically.
  const scratch = makeWorkDir('initdb');
  const staging = `${template}.tmp-${process.pid}`;
  try {
    if (asRoot) chownTo(SERVER_USER, scratch.path);
    const data = join(scratch.path, 'data');
    const argv = [
      initdb,
      '-D',
      data,
      '-U',
      'postgres',
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ];
    const run = asRoot
      ? spawnSync(
          'setpriv',
          [`--reuid=${SERVER_USER}`, `--regid=${SERVER_USER}`, '--init-groups', '--', ...argv],
          {
            encoding: 'utf8',
            cwd: '/',
          },
        )
      : spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8' });
    if (run.status !== 0) {
      throw new ComponentError(
        'postgres',
        `initdb failed (exit ${run.status})`,
        `${run.stdout}\n${run.stderr}`,
      );
    }
    rmSync(staging, { recursive: true, force: true });
    copyTree(data, staging);
    try {
      renameSync(staging, template);
    } catch {
      // another process made the template first: use theirs
      rmSync(staging, { recursive: true, force: true });
    }
    return template;
  } finally {
    scratch.remove();
  }
}

function copyTree(from: string, to: string): void {
  const run = spawnSync('cp', ['-a', from, to], { encoding: 'utf8' });
  if (run.status !== 0)
    throw new ComponentError('postgres', `copying the initdb template failed`, run.stderr);
}

function chownTo(user: string, ...paths: string[]): void {
  const ids = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  const gids = spawnSync('id', ['-g', user], { encoding: 'utf8' });
  if (ids.status !== 0) {
    throw new ComponentError('postgres', `user '${user}' does not exist (install the postgresql package)`);
  }
  for (const path of paths) chownSync(path, Number(ids.stdout.trim()), Number(gids.stdout.trim()));
}

/** The server user must traverse every parent of its data dir (a 0700 temp base blocks it). */
function assertReachable(user: string, dir: string): void {
  const run = spawnSync('setpriv', [
    `--reuid=${user}`,
    `--regid=${user}`,
    '--init-groups',
    '--',
    'test',
    '-x',
    dir,
  ]);
  if (run.status !== 0) {
    throw new ComponentError(
      'postgres',
      `user '${user}' cannot reach ${dir}: a parent directory is private; let others traverse it (chmod o+x) or set LEENGINE_TESTBED_DIR elsewhere`,
    );
  }
}
