import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { httpGet } from '@leengine/slb/testing';
import { ApiClient, type Json } from '../testing/apiClient.ts';
import { finished, until } from '../testing/cellRegion.ts';
import { signInFrom } from '../testing/signInFrom.ts';
import type { RegionEndpoints } from './localRegion.ts';

// One region for the whole file (its cells take a while to start); the tests run in
// order on it and the last one stops it with Ctrl-C.
const main = new URL('./main.ts', import.meta.url).pathname;
const stateDir = mkdtempSync(join(tmpdir(), 'leengine-region-'));
let child: ChildProcess;
let exited: Promise<number | null>;
const output: string[] = [];
let stderr = '';
let endpoints: RegionEndpoints;
let admin: { username: string; password: string };

before(async () => {
  child = spawn(process.execPath, [main], {
    env: { ...process.env, LEENGINE_STATE_DIR: stateDir, LEENGINE_PORT: '0', DATABASE_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  for await (const line of createInterface({ input: child.stdout as NodeJS.ReadableStream })) {
    output.push(line);
    if (line.startsWith('Press Ctrl-C')) break;
  }
  assert.ok(
    output.some((l) => l.startsWith('LeEngine local region is up')),
    `no banner; stderr: ${stderr}`,
  );
  endpoints = JSON.parse(readFileSync(join(stateDir, 'region.json'), 'utf8')) as RegionEndpoints;
  const field = (name: string) =>
    output
      .find((l) => l.trim().startsWith(name))
      ?.trim()
      .split(/\s+/)[1] ?? '';
  admin = { username: field('username'), password: field('password') };
});
after(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGINT');
    await exited;
  }
  rmSync(stateDir, { recursive: true, force: true });
});

/** The first admin, signed in with a session cookie (through core's front door). */
async function adminClient(): Promise<ApiClient> {
  const signIn = await new ApiClient(endpoints.slb)
    .withHeaders({ 'x-leengine-client': 'test' })
    .post('/api/v1/session', admin);
  assert.equal(signIn.status, 200, JSON.stringify(signIn.body));
  return new ApiClient(endpoints.core).withCookie(
    (signIn.headers.get('set-cookie') ?? '').split(';')[0] ?? '',
  );
}

test('the local-region command starts everything and answers /healthz', async () => {
  const health = await fetch(`${endpoints.core}/healthz`);
  assert.deepEqual(await health.json(), { status: 'ok' });
  const ready = (await (await fetch(`${endpoints.core}/readyz`)).json()) as {
    checks: Record<string, unknown>;
  };
  assert.deepEqual(Object.keys(ready.checks).sort(), ['database', 'etcd']);
  const throughNginx = await fetch(`${endpoints.slb}/healthz`);
  assert.equal(throughNginx.status, 200, 'the front-door nginx proxies to core');
  // The registry sends clients to core for tokens.
  const challenge = await fetch(`${endpoints.registry}/v2/`);
  assert.equal(challenge.status, 401);
  assert.equal(
    challenge.headers.get('www-authenticate'),
    `Bearer realm="${endpoints.core}/v2/token",service="leengine-registry"`,
  );
  assert.match(endpoints.database, /^PGlite in /);
  // The banner names the SLB group's listener and the processes' logs.
  assert.ok(output.some((l) => l.includes(endpoints.slbGroup.http)));
  assert.ok(output.some((l) => l.includes(endpoints.slbGroup.logs.agent)));
});

test('the first admin is printed once and signs in through the front door', async () => {
  assert.equal(admin.username, 'admin', `no first admin in: ${output.join('\n')}`);
  const api = await adminClient();
  assert.equal((await api.get('/api/v1/user')).body.admin, true);

  // The cells are registered as region `local` (kubeconfigs sealed with a key made once, 0600).
  assert.equal(statSync(join(stateDir, 'secret.key')).mode & 0o777, 0o600);
  let cells: { name: string; health: { state: string } }[] = [];
  for (let i = 0; i < 100; i++) {
    const regions = (await api.get('/api/v1/regions')).body as {
      items: { name: string; cells: typeof cells }[];
    };
    assert.deepEqual(
      regions.items.map((r) => r.name),
      ['local'],
    );
    cells = regions.items[0]?.cells ?? [];
    if (cells.every((c) => c.health.state === 'healthy')) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.deepEqual(
    cells.map((c) => [c.name, c.health.state]),
    [
      ['local-1', 'healthy'],
      ['local-2', 'healthy'],
    ],
  );

  // The cells' pause image went in through core's token auth and is public: an anonymous
  // token reads it; the admin's password gets push on a new repository of it.
  const anonymous = (await (
    await fetch(`${endpoints.core}/v2/token?service=leengine-registry&scope=repository:leengine/pause:pull`)
  ).json()) as { token: string };
  const pause = await fetch(`${endpoints.registry}/v2/leengine/pause/manifests/1`, {
    headers: {
      authorization: `Bearer ${anonymous.token}`,
      accept: 'application/vnd.oci.image.manifest.v1+json',
    },
  });
  assert.equal(pause.status, 200);
  const basic = Buffer.from(`${admin.username}:${admin.password}`).toString('base64');
  const adminToken = await fetch(
    `${endpoints.core}/v2/token?service=leengine-registry&scope=repository:leengine/pause:pull,push`,
    { headers: { authorization: `Basic ${basic}` } },
  );
  assert.equal(adminToken.status, 200);
});

test("the region's registry is collected through core: read-only and back on its port, the pause image still there", async () => {
  const api = await adminClient();
  const started = await api.post('/api/v1/registry/garbage-collections', { dryRun: false });
  assert.equal(started.status, 202, JSON.stringify(started.body));
  let gc = started.body;
  for (let i = 0; i < 300 && gc.state === 'running'; i++) {
    await new Promise((r) => setTimeout(r, 100));
    gc = (await api.get(`/api/v1/registry/garbage-collections/${gc.id}`)).body;
  }
  assert.equal(gc.state, 'succeeded', JSON.stringify(gc));
  assert.deepEqual(
    gc.steps.map((s: { name: string }) => s.name),
    ['read-only', 'collect', 'read-write'],
  );
  assert.ok(gc.report.markedBlobs > 0, 'the cell images are kept');
  // The same address, token auth and images as before.
  const challenge = await fetch(`${endpoints.registry}/v2/`);
  assert.equal(challenge.status, 401);
  const anonymous = (await (
    await fetch(`${endpoints.core}/v2/token?service=leengine-registry&scope=repository:leengine/pause:pull`)
  ).json()) as { token: string };
  const pause = await fetch(`${endpoints.registry}/v2/leengine/pause/manifests/1`, {
    headers: {
      authorization: `Bearer ${anonymous.token}`,
      accept: 'application/vnd.oci.image.manifest.v1+json',
    },
  });
  assert.equal(pause.status, 200);
});

test('the SLB group `local` is ensured with its host, VIP and CNAME, and its agent reports', async () => {
  const api = await adminClient();
  const groups = (await api.get('/api/v1/slb/groups')).body as Json[];
  const local = groups.find((g) => g.name === 'local');
  assert.deepEqual(
    { hosts: local?.hosts, vip: local?.vip, cname: local?.cname },
    { hosts: ['slb-local-1'], vip: '127.0.0.1', cname: 'local.slb.leengine.test' },
  );
  const agents = (await api.get('/api/v1/slb/groups/local/agents')).body as Json[];
  assert.deepEqual(
    agents.map((a) => [a.host, a.error]),
    [['slb-local-1', null]],
  );
  // A name no domain claims: the group's catch-all server.
  const port = Number(new URL(endpoints.slbGroup.http).port);
  assert.equal((await httpGet(port, 'nobody.local.test')).status, 404);
});

test('a deployed application answers through the SLB group by its domain; scaling and upgrades follow without a reload', async () => {
  const api = await adminClient();
  const port = Number(new URL(endpoints.slbGroup.http).port);
  const domain = 'hello.local.test';
  const configLoads = async () => {
    const text = await (await fetch(`${endpoints.slbGroup.metrics}/metrics`)).text();
    const match = /^leengine_slb_config_loads_total (\d+)$/m.exec(text);
    assert.ok(match, text);
    return Number(match[1]);
  };
  const agentReloads = async () =>
    ((await api.get('/api/v1/slb/groups/local/agents')).body as Json[])[0]?.reloads as number;
  const podsOf = async (version: string) =>
    ((await api.get('/api/v1/applications/hello/containers')).body.items as Json[])
      .filter((c) => c.version === version)
      .map((c) => c.name as string)
      .sort();
  /** Distinct answers of `n` requests through the group's nginx (each must be a 200). */
  const answers = async (n: number) => {
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const reply = await httpGet(port, domain);
      assert.equal(reply.status, 200, reply.body);
      seen.add(reply.body.trim());
    }
    return [...seen].sort();
  };

  assert.equal((await api.post('/api/v1/applications', { name: 'hello' })).status, 201);
  const version = {
    image: { repository: 'leengine/httpbox', tag: '1' },
    instances: 1,
    port: 8080,
    cpu: { requestMillicores: 20, limitMillicores: 200 },
    memory: { requestMib: 16, limitMib: 64 },
    healthCheck: { path: '/healthz', periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 1 },
    terminationGracePeriodSeconds: 1,
  };
  const v1 = await api.post('/api/v1/applications/hello/versions', version);
  assert.equal(v1.status, 202, JSON.stringify(v1.body));
  assert.equal((await finished(api, 'hello', v1.body.id)).state, 'succeeded');
  const bind = await api.post('/api/v1/applications/hello/domains', { domain, group: 'local' });
  assert.equal(bind.status, 201, JSON.stringify(bind.body));

  // A new domain is a config change (one reload); then nginx answers with a pod's name.
  const v1Pods = await podsOf('v1');
  assert.equal(v1Pods.length, 2, 'one instance in each cell');
  const first = await until('the domain to answer', async () => {
    const reply = await httpGet(port, domain);
    return reply.status === 200 ? reply.body.trim() : undefined;
  });
  assert.ok(v1Pods.includes(first), `${first} is not one of ${v1Pods.join(', ')}`);
  await until('both pods to answer', async () => (await answers(20)).join() === v1Pods.join());
  const loads = await configLoads();
  const reloads = await agentReloads();

  // Scale up: the new pods join the upstreams; nginx loads no config.
  const up = await api.post('/api/v1/applications/hello/versions/v1/scale', { instances: 4 });
  assert.equal(up.status, 202, JSON.stringify(up.body));
  assert.equal((await finished(api, 'hello', up.body.id)).state, 'succeeded');
  const scaled = await podsOf('v1');
  assert.equal(scaled.length, 4);
  await until('all four pods to answer', async () => (await answers(40)).join() === scaled.join());

  // Upgrade: v2 serves, v1 is drained and gone; still no config load.
  const v2 = await api.post('/api/v1/applications/hello/versions', { ...version, instances: 1 });
  assert.equal(v2.status, 202, JSON.stringify(v2.body));
  const upgrade = await finished(api, 'hello', v2.body.id);
  assert.equal(upgrade.state, 'succeeded', JSON.stringify(upgrade));
  const v2Pods = await podsOf('v2');
  assert.equal(v2Pods.length, 2);
  // The gate confirmed the drain before v1 stopped: every answer is already v2's.
  assert.deepEqual(await answers(20), v2Pods);

  assert.equal(await configLoads(), loads, 'no nginx config load for upstream-only changes');
  assert.equal(await agentReloads(), reloads, 'no agent reload for upstream-only changes');
  const view = (await api.get(`/api/v1/applications/hello/domains/${domain}`)).body;
  assert.deepEqual(
    (view.upstreams as Json[]).map((u) => u.version),
    ['v2', 'v2'],
  );
  assert.deepEqual(
    (view.agents as Json[]).map((a) => [a.host, a.applied, a.error]),
    [['slb-local-1', true, null]],
  );
});

test('behind the front door, clients are rate-limited by their own address, and a direct client cannot spoof one', async () => {
  const bad = { username: admin.username, password: 'not the password' };
  for (let i = 0; i < 5; i++) assert.equal(await signInFrom(endpoints.slb, '127.0.0.11', bad), 401);
  assert.equal(await signInFrom(endpoints.slb, '127.0.0.11', admin), 429, 'client 1 is limited');
  assert.equal(await signInFrom(endpoints.slb, '127.0.0.12', admin), 200, 'client 2 behind nginx is not');
  for (let i = 0; i < 5; i++) {
    const status = await signInFrom(endpoints.core, '127.0.0.13', bad, { 'x-forwarded-for': `10.9.9.${i}` });
    assert.equal(status, 401);
  }
  const spoofed = await signInFrom(endpoints.core, '127.0.0.13', admin, { 'x-forwarded-for': '10.9.9.99' });
  assert.equal(spoofed, 429, 'a direct client is known by its connection, not its header');
});

test('Ctrl-C stops the region cleanly, etcd and the SLB group with it', async () => {
  child.kill('SIGINT');
  assert.equal(await exited, 0);
  await assert.rejects(fetch(`${endpoints.etcd}/health`), 'etcd is stopped with the region');
  await assert.rejects(fetch(`${endpoints.slbGroup.metrics}/metrics`), "the group's nginx is stopped");
});
