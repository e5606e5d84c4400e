// bench/api: leengine-core as its own process on PostgreSQL (testbed), seeded with 1,000
// users, 10,000 applications and 50,000 memberships, every application placed in a
// region's cells; measured over real HTTP on loopback
// with keep-alive connections and bounded request counts.
//   list_apps_p50/p99   GET /api/v1/applications (first page of 50), one request at a time
//   list_apps_rps       the same with CONCURRENCY requests in flight
//   list_apps_core_cpu  CPU time the core process spent per request during that run
//   token_check_p50/p99 GET /api/v1/user: bearer token lookup + the smallest answer
//   login_p50           POST /api/v1/session: scrypt verification + a session row
import { readFileSync } from 'node:fs';
import { CLIENT_HEADER, hashPassword, openDatabase } from '@leengine/core';
import { freePort, type ManagedProcess, makeWorkDir, Testbed } from '@leengine/testbed';
import { keepAliveClient, startCoreProcess } from './coreProcess.ts';
import { figure, isQuick, quantile } from './stats.ts';

const quick = isQuick();
const USERS = 1000;
const APPLICATIONS = 10_000;
const MEMBERSHIPS = 50_000;
const PASSWORD = 'bench password 1234';
const CONCURRENCY = 8;
const SEQUENTIAL = quick ? 300 : 2000;
const CONCURRENT = quick ? 1000 : 6000;
const TOKEN_USERS = 20;

const { call, destroy } = keepAliveClient(CONCURRENCY);

async function timedCall(port: number, path: string, token: string, expectStatus = 200): Promise<number> {
  const started = performance.now();
  const answer = await call(port, 'GET', path, { authorization: `Bearer ${token}` });
  const ms = performance.now() - started;
  if (answer.status !== expectStatus)
    throw new Error(`GET ${path}: ${answer.status} ${answer.body.slice(0, 200)}`);
  return ms;
}

/** User + system CPU time of a process so far, from /proc (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const testbed = new Testbed();
const workDir = makeWorkDir('bench-core');
let core: ManagedProcess | undefined;
try {
  const postgres = await testbed.postgres();
  const url = await postgres.createDatabase('bench_api');
  const port = await freePort();
  core = await startCoreProcess({
    port,
    dir: workDir.path,
    env: { DATABASE_URL: url },
    nodeOptions: process.env.CORE_NODE_OPTIONS?.split(' ').filter(Boolean),
  });
  const started = core;

  // Seed in SQL (core applied the migrations at start). One scrypt hash for everyone:
  // hashing 1,000 passwords would only time scrypt.
  const db = await openDatabase({ url, dataDir: 'unused' });
  const seedStart = performance.now();
  const hash = await hashPassword(PASSWORD);
  await db.query(
    `insert into users (username, display_name, password_hash, created_at, updated_at)
     select 'user' || lpad(i::text, 4, '0'), 'User ' || i, $1, now(), now() from generate_series(1, $2) i`,
    [hash, USERS],
  );
  await db.query(
    `insert into applications (name, description, created_by, created_at, updated_at)
     select 'app-' || lpad(i::text, 5, '0'), 'application number ' || i, 1 + (i % $2),
            timestamptz '2025-01-01' + i * interval '1 minute', timestamptz '2025-01-01' + i * interval '1 minute'
     from generate_series(1, $1) i`,
    [APPLICATIONS, USERS],
  );
  // One region with two cells: every application is placed there, in one cell or, one in
  // ten, in both (moving out of one), so lists carry a region and cells as in production.
  // The kubeconfigs are not real: core has no key to open them, so it never connects.
  await db.query(`insert into regions (name, created_at, updated_at) values ('bench', now(), now())`);
  await db.query(
    `insert into cells (region_id, name, kubeconfig_sealed, server, created_at, updated_at)
     select r.id, c, 'not-sealed', 'https://127.0.0.1:1', now(), now()
     from regions r cross join unnest(array['bench-a', 'bench-b']) c`,
  );
  await db.query(`update applications set region_id = (select id from regions where name = 'bench')`);
  await db.query(
    `insert into application_cells (application_id, cell_id, state, created_at)
     select a.id, c.id, case when a.id % 10 = 0 and c.name = 'bench-a' then 'leaving' else 'active' end, now()
     from applications a join cells c on c.name = case when a.id % 2 = 0 then 'bench-a' else 'bench-b' end
       or (a.id % 10 = 0 and c.name = 'bench-b')`,
  );
  // Every creator is Owner of theirs; the rest of the memberships are spread evenly over
  // users with mixed roles (deterministic, so runs compare).
  await db.query(
    `insert into application_members (application_id, user_id, role, created_at)
     select id, created_by, 'owner', created_at from applications`,
  );
  await db.query(
    `insert into application_members (application_id, user_id, role, created_at)
     select application_id, user_id, role, now() from (
       select distinct on (a.id, m.u) a.id as application_id, m.u as user_id,
              (array['master', 'developer', 'reporter', 'guest'])[1 + (a.id + k) % 4] as role
       from applications a cross join generate_series(1, 6) k
       cross join lateral (select 1 + ((a.id * 7919 + k * 104729) % $1) as u) m
       where m.u <> a.created_by
     ) candidates order by (application_id * 31 + user_id) % 97, application_id, user_id limit $2`,
    [USERS, MEMBERSHIPS - APPLICATIONS],
  );
  await db.exec('analyze');
  const [counts] = await db.query<{ users: number; apps: number; members: number; placements: number }>(
    `select (select count(*)::int from users) as users, (select count(*)::int from applications) as apps,
            (select count(*)::int from application_members) as members,
            (select count(*)::int from application_cells) as placements`,
  );
  if (
    counts?.users !== USERS ||
    counts.apps !== APPLICATIONS ||
    counts.members !== MEMBERSHIPS ||
    counts.placements !== APPLICATIONS * 1.1
  ) {
    throw new Error(`seeding made ${JSON.stringify(counts)}`);
  }
  const [spread] = await db.query<{ avg: number; max: number }>(
    `select round(avg(n))::int as avg, max(n)::int as max from (select count(*) as n from application_members group by user_id) t`,
  );
  await db.close();
  process.stderr.write(
    `seeded ${USERS} users, ${APPLICATIONS} applications, ${MEMBERSHIPS} memberships (${spread?.avg} per user on average, at most ${spread?.max}) in ${Math.round(performance.now() - seedStart)} ms\n`,
  );

  // Sign in as TOKEN_USERS users (timing the logins) and make each a token.
  const logins: number[] = [];
  const tokens: string[] = [];
  for (let i = 1; i <= TOKEN_USERS; i++) {
    const username = `user${String(i * 37).padStart(4, '0')}`;
    const t = performance.now();
    const session = await call(
      port,
      'POST',
      '/api/v1/session',
      { [CLIENT_HEADER]: 'bench' },
      JSON.stringify({ username, password: PASSWORD }),
    );
    logins.push(performance.now() - t);
    if (session.status !== 200) throw new Error(`login ${username}: ${session.status} ${session.body}`);
    const cookie = String(session.headers['set-cookie']).split(';')[0] ?? '';
    const token = await call(
      port,
      'POST',
      '/api/v1/user/tokens',
      { cookie, [CLIENT_HEADER]: 'bench' },
      JSON.stringify({ name: 'bench' }),
    );
    if (token.status !== 201) throw new Error(`token for ${username}: ${token.status} ${token.body}`);
    tokens.push((JSON.parse(token.body) as { token: string }).token);
  }
  const tokenOf = (i: number) => tokens[i % tokens.length] as string;
  const LIST = '/api/v1/applications?limit=50';
  const first = JSON.parse(
    (await call(port, 'GET', LIST, { authorization: `Bearer ${tokenOf(0)}` })).body,
  ) as {
    items: { region: string | null; cells: unknown[] }[];
  };
  if (first.items.length !== 50)
    throw new Error(`a full first page was expected, got ${first.items.length} items`);
  if (first.items.some((a) => a.region !== 'bench' || a.cells.length === 0))
    throw new Error('every listed application should carry its region and cells');

  // Warm-up: JIT, plan cache, connection pool.
  for (let i = 0; i < 200; i++) await timedCall(port, LIST, tokenOf(i));

  const list: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) list.push(await timedCall(port, LIST, tokenOf(i)));
  const check: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) check.push(await timedCall(port, '/api/v1/user', tokenOf(i)));

  let next = 0;
  const cpuBefore = cpuMs(started.pid);
  const throughputStart = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < CONCURRENT) await timedCall(port, LIST, tokenOf(next++));
    }),
  );
  const seconds = (performance.now() - throughputStart) / 1000;
  const coreCpu = cpuMs(started.pid) - cpuBefore;

  figure('list_apps_p50', Number(quantile(list, 0.5).toFixed(2)), 'ms');
  figure('list_apps_p99', Number(quantile(list, 0.99).toFixed(2)), 'ms');
  figure('list_apps_rps', Math.round(CONCURRENT / seconds), 'req/s');
  // How much of one core the core process used for it: the rest went to PostgreSQL, the
  // client and whatever else runs on the machine.
  figure('list_apps_core_cpu', Number((coreCpu / CONCURRENT).toFixed(2)), 'ms/req');
  figure('token_check_p50', Number(quantile(check, 0.5).toFixed(2)), 'ms');
  figure('token_check_p99', Number(quantile(check, 0.99).toFixed(2)), 'ms');
  figure('login_p50', Math.round(quantile(logins, 0.5)), 'ms');
} catch (error) {
  process.stderr.write(
    `bench/api: could not measure: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  if (core) process.stderr.write(`core log:\n${core.tail(30)}\n`);
  process.exitCode = 1;
} finally {
  destroy();
  await core?.stop();
  await testbed.stop();
  workDir.remove();
}
