import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type DomainConfigInput, DomainConfigSchema, type Upstream } from '@leengine/common';
import { freePorts, useTestbed } from '@leengine/testbed';
import type { Etcd3 } from 'etcd3';
import { pino } from 'pino';
import { SlbStore } from '../etcd/slbStore.ts';
import { type Backend, httpGet, startBackend } from '../testing/http.ts';
import { type SlbNginxHandle, startSlbNginx } from '../testing/slbHost.ts';
import { SlbAgent } from './slbAgent.ts';

const testbed = useTestbed();
const log = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
const closers: (() => Promise<unknown> | unknown)[] = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

function domain(input: Omit<DomainConfigInput, 'group'> & { group?: string }) {
  return DomainConfigSchema.parse({ group: 'public', ...input });
}

function peer(backend: Backend, version = 'v1', weight = 1): Upstream {
  return { ip: '127.0.0.1', port: backend.port, weight, cell: 'local', version };
}

async function setup(options: { workerProcesses?: number } = {}): Promise<{
  client: Etcd3;
  store: SlbStore;
  nginx: SlbNginxHandle;
  agent: SlbAgent;
}> {
  const etcd = await testbed.etcd();
  const client = etcd.client();
  closers.push(() => client.close());
  const store = SlbStore.create({ client });
  await store.putGroup({ name: 'public', description: '', hosts: ['slb-1'] });
  const nginx = await startSlbNginx(testbed, options);
  const agent = await SlbAgent.start({ settings: nginx.settings, client, log });
  closers.push(() => agent.stop());
  return { client, store, nginx, agent };
}

async function backends(...names: string[]): Promise<Backend[]> {
  const started = await Promise.all(names.map((n) => startBackend(n)));
  for (const b of started) closers.push(() => b.close());
  return started;
}

function configLoads(metrics: string): number {
  const match = /^leengine_slb_config_loads_total (\d+)$/m.exec(metrics);
  assert.ok(match, 'config loads metric present');
  return Number(match[1]);
}

test('routes by Host header; an upstream change applies with no reload, a location change reloads once', async () => {
  const { store, nginx, agent } = await setup({ workerProcesses: 2 });
  const [a1, a2, b1] = await backends('a1', 'a2', 'b1');
  assert.ok(a1 && a2 && b1);
  await store.createDomain(domain({ domain: 'a.example.com', application: 'a' }));
  await store.createDomain(domain({ domain: 'b.example.com', application: 'b' }));
  await store.putUpstreams('public', 'a.example.com', [peer(a1)]);
  await agent.waitForRevision(await store.putUpstreams('public', 'b.example.com', [peer(b1)]));

  assert.equal((await httpGet(nginx.httpPort, 'a.example.com')).body, 'a1');
  assert.equal((await httpGet(nginx.httpPort, 'b.example.com')).body, 'b1');
  assert.equal((await httpGet(nginx.httpPort, 'unknown.example.com')).status, 404);

  const master = nginx.process.pid;
  const workers = nginx.workerPids().sort();
  const loads = configLoads(await nginx.metrics());
  const reloads = agent.reloads;
  await agent.waitForRevision(await store.putUpstreams('public', 'a.example.com', [peer(a2)]));
  for (let i = 0; i < 6; i++) assert.equal((await httpGet(nginx.httpPort, 'a.example.com')).body, 'a2');
  assert.equal(nginx.process.pid, master);
  assert.deepEqual(newWorkers(nginx, workers), [], 'no new workers: no reload');
  assert.equal(configLoads(await nginx.metrics()), loads, 'nginx loaded no config');
  assert.equal(agent.reloads, reloads);

  // Both peers, equal weight: round robin over them.
  await agent.waitForRevision(await store.putUpstreams('public', 'a.example.com', [peer(a1), peer(a2)]));
  const seen = new Set<string>();
  for (let i = 0; i < 6; i++) seen.add((await httpGet(nginx.httpPort, 'a.example.com')).body);
  assert.deepEqual([...seen].sort(), ['a1', 'a2']);
  assert.deepEqual(newWorkers(nginx, workers), []);

  const current = await store.getDomain('public', 'a.example.com');
  assert.ok(current);
  await agent.waitForRevision(
    await store.updateDomain({
      ...current.value,
      locations: [
        { path: '/', match: 'prefix' },
        { path: '/exact', match: 'exact', proxy: { readTimeoutSeconds: 5 } },
      ],
      headers: { request: [], response: [{ name: 'X-Served-By', value: 'leengine' }] },
    }),
  );
  assert.equal(agent.reloads, reloads + 1, 'one reload');
  assert.equal(configLoads(await nginx.metrics()), loads + 1, 'nginx loaded one config');
  assert.equal(nginx.process.pid, master, 'same master');
  assert.ok(
    nginx.workerPids().every((pid) => !workers.includes(pid)),
    'new workers',
  );
  const reply = await httpGet(nginx.httpPort, 'a.example.com', '/exact');
  assert.equal(reply.headers['x-served-by'], 'leengine');
  assert.equal(reply.headers['x-path'], '/exact');

  const status = (await store.agents('public'))[0];
  assert.equal(status?.host, 'slb-1');
  assert.ok((status?.revision ?? 0) >= agent.status.revision - 1);
  assert.deepEqual(status?.domainErrors, {});
});

test('a change nginx -t refuses keeps the last good config live, is reported, and does not hold back others', async () => {
  const { store, nginx, agent } = await setup();
  const [a1, b1] = await backends('a1', 'b1');
  assert.ok(a1 && b1);
  const a = domain({
    domain: 'a.example.com',
    application: 'a',
    headers: { response: [{ name: 'X-Version', value: 'good' }] },
  });
  await store.createDomain(a);
  await store.createDomain(domain({ domain: 'b.example.com', application: 'b' }));
  await store.putUpstreams('public', 'a.example.com', [peer(a1)]);
  await agent.waitForRevision(await store.putUpstreams('public', 'b.example.com', [peer(b1)]));
  assert.equal((await httpGet(nginx.httpPort, 'a.example.com')).headers['x-version'], 'good');

  // Each value is in bounds; together they break nginx's buffer rule (only nginx -t sees it).
  await store.updateDomain({
    ...a,
    headers: { request: [], response: [{ name: 'X-Version', value: 'bad' }] },
    special: { proxyBuffers: { count: 2, sizeKb: 4 }, proxyBusyBuffersSizeKb: 64 },
  });
  const b = await store.getDomain('public', 'b.example.com');
  assert.ok(b);
  const revision = await store.updateDomain({
    ...b.value,
    headers: { request: [], response: [{ name: 'X-B', value: 'new' }] },
  });
  // What slb-core does: wait until every agent of the group has applied the revision.
  await store.waitForAgents('public', revision);

  assert.match(agent.status.domainErrors['a.example.com'] ?? '', /proxy_busy_buffers_size/);
  const reported = (await store.agents('public'))[0];
  assert.match(
    reported?.domainErrors['a.example.com'] ?? '',
    /proxy_busy_buffers_size/,
    'reported through etcd',
  );
  assert.equal(
    (await httpGet(nginx.httpPort, 'a.example.com')).headers['x-version'],
    'good',
    'a keeps its good config',
  );
  assert.equal((await httpGet(nginx.httpPort, 'b.example.com')).headers['x-b'], 'new', 'b went ahead');

  // Upstream changes of the refused domain still apply (no reload needed for them).
  const [a2] = await backends('a2');
  assert.ok(a2);
  await agent.waitForRevision(await store.putUpstreams('public', 'a.example.com', [peer(a2)]));
  assert.equal((await httpGet(nginx.httpPort, 'a.example.com')).body, 'a2');

  // Fixing the config clears the error.
  await agent.waitForRevision(
    await store.updateDomain({
      ...a,
      headers: { request: [], response: [{ name: 'X-Version', value: 'fixed' }] },
    }),
  );
  assert.deepEqual(agent.status.domainErrors, {});
  assert.equal((await httpGet(nginx.httpPort, 'a.example.com')).headers['x-version'], 'fixed');
});

test('a reload that fails after the swap (the master does not answer) is reported and retried; the old config serves meanwhile, the new one once nginx reloads', async () => {
  const { store, nginx, agent } = await setup();
  const [a1] = await backends('a1');
  assert.ok(a1);
  const a = domain({
    domain: 'a.example.com',
    application: 'a',
    headers: { response: [{ name: 'X-Version', value: 'old' }] },
  });
  await store.createDomain(a);
  await agent.waitForRevision(await store.putUpstreams('public', 'a.example.com', [peer(a1)]));
  const before = nginx.runtime.liveGeneration()?.id;

  // A stopped master takes no SIGHUP: the agent stages, tests and swaps `live`, then
  // waits for workers of the new generation that do not come.
  process.kill(nginx.process.pid, 'SIGSTOP');
  let resumed = false;
  try {
    await store.updateDomain({
      ...a,
      headers: { request: [], response: [{ name: 'X-Version', value: 'new' }] },
    });
    const failed = Date.now() + 30_000;
    while (!/did not serve generation/.test(agent.status.error ?? '')) {
      assert.ok(
        Date.now() < failed,
        `the failed reload is reported (status: ${JSON.stringify(agent.status)})`,
      );
      await sleep(100);
    }
    assert.notEqual(nginx.runtime.liveGeneration()?.id, before, '`live` already points at a new generation');
    const reported = (await store.agents('public'))[0];
    assert.match(reported?.error ?? '', /did not serve generation/, 'reported through etcd');
    // The old workers still serve, with the config they have.
    assert.equal((await httpGet(nginx.httpPort, 'a.example.com')).headers['x-version'], 'old');
    process.kill(nginx.process.pid, 'SIGCONT');
    resumed = true;

    // The agent retries; nginx ends up on the generation `live` points at, with the new config.
    const recovered = Date.now() + 30_000;
    for (;;) {
      const served = await nginx.runtime.control.generation().catch(() => '');
      if (agent.status.error === null && served === nginx.runtime.liveGeneration()?.id) break;
      assert.ok(Date.now() < recovered, `recovered (status: ${JSON.stringify(agent.status)})`);
      await sleep(100);
    }
    assert.equal((await httpGet(nginx.httpPort, 'a.example.com')).headers['x-version'], 'new');
  } finally {
    if (!resumed) process.kill(nginx.process.pid, 'SIGCONT');
  }
});

/**
 * Worker processes that were not running before: a reload starts a new generation. Workers of
 * an earlier generation may still be draining when `before` is taken and exit later, so "the
 * same set" would be a race; "nothing new" is what proves that nginx did not reload.
 */
function newWorkers(nginx: { workerPids(): number[] }, before: number[]): number[] {
  return nginx.workerPids().filter((pid) => !before.includes(pid));
}

test('canary: header beats cookie beats weight, changed with no reload', async () => {
  const { store, nginx, agent } = await setup();
  const [stable, canary] = await backends('stable', 'canary');
  assert.ok(stable && canary);
  const base = domain({ domain: 'c.example.com', application: 'c' });
  await store.createDomain(base);
  await agent.waitForRevision(
    await store.putUpstreams('public', 'c.example.com', [peer(stable, 'v1'), peer(canary, 'v2')]),
  );
  const reloads = agent.reloads;
  const workers = nginx.workerPids();

  await agent.waitForRevision(
    await store.updateDomain({
      ...base,
      canary: {
        version: 'v2',
        weight: 0,
        header: { name: 'X-Canary', value: 'yes' },
        cookie: { name: 'beta', value: 'on' },
      },
    }),
  );
  const get = (headers: Record<string, string> = {}) =>
    httpGet(nginx.httpPort, 'c.example.com', '/', headers);
  for (let i = 0; i < 5; i++) assert.equal((await get()).body, 'stable', 'weight 0: no canary traffic');
  for (let i = 0; i < 5; i++) assert.equal((await get({ 'x-canary': 'yes' })).body, 'canary');
  for (let i = 0; i < 5; i++) assert.equal((await get({ cookie: 'a=b; beta=on' })).body, 'canary');
  assert.equal((await get({ 'x-canary': 'no' })).body, 'stable');
  assert.equal((await get({ cookie: 'beta=off' })).body, 'stable');
  // Header and cookie only select the canary; the header is checked first: a matching
  // header wins over a non-matching cookie, and a non-matching header vetoes nothing.
  for (let i = 0; i < 5; i++)
    assert.equal((await get({ 'x-canary': 'yes', cookie: 'beta=off' })).body, 'canary', 'header wins');
  for (let i = 0; i < 5; i++)
    assert.equal((await get({ 'x-canary': 'no', cookie: 'beta=on' })).body, 'canary', 'then the cookie');

  await agent.waitForRevision(await store.updateDomain({ ...base, canary: { version: 'v2', weight: 30 } }));
  let toCanary = 0;
  for (let i = 0; i < 200; i++) if ((await get()).body === 'canary') toCanary++;
  assert.ok(toCanary > 20 && toCanary < 110, `about 30% to the canary, got ${toCanary}/200`);

  await agent.waitForRevision(await store.updateDomain({ ...base, canary: { version: 'v2', weight: 100 } }));
  for (let i = 0; i < 5; i++) assert.equal((await get()).body, 'canary');
  // With only a weight, a header or cookie of the old rule no longer routes anything.
  assert.equal((await get({ 'x-canary': 'no', cookie: 'beta=off' })).body, 'canary');
  assert.equal(agent.reloads, reloads, 'canary changes never reload');
  assert.deepEqual(newWorkers(nginx, workers), [], 'no new workers: no reload');
});

test('a burst of config changes is coalesced into few reloads', async () => {
  const { store, agent } = await setup();
  const [a1] = await backends('a1');
  assert.ok(a1);
  const base = domain({ domain: 'burst.example.com', application: 'burst' });
  await store.createDomain(base);
  await agent.waitForRevision(await store.putUpstreams('public', 'burst.example.com', [peer(a1)]));
  const reloads = agent.reloads;
  let revision = 0;
  for (let i = 0; i < 20; i++) {
    revision = await store.updateDomain({ ...base, proxy: { ...base.proxy, readTimeoutSeconds: 10 + i } });
  }
  await agent.waitForRevision(revision);
  const done = agent.reloads - reloads;
  assert.ok(done >= 1 && done <= 4, `20 changes took ${done} reloads`);
});

test('metrics: per-domain request counts by status class and a latency histogram', async () => {
  const { store, nginx, agent } = await setup();
  const [m1] = await backends('m1');
  assert.ok(m1);
  await store.createDomain(domain({ domain: 'm.example.com', application: 'm' }));
  await store.createDomain(domain({ domain: 'empty.example.com', application: 'empty' }));
  await agent.waitForRevision(await store.putUpstreams('public', 'm.example.com', [peer(m1)]));
  for (let i = 0; i < 7; i++) await httpGet(nginx.httpPort, 'm.example.com');
  assert.equal((await httpGet(nginx.httpPort, 'empty.example.com')).status, 502, 'no peers: 502');
  // Workers add their counts to the shared dict every second.
  await sleep(1100);
  const metrics = await nginx.metrics();
  assert.match(metrics, /^leengine_slb_requests_total\{domain="m\.example\.com",class="2xx"\} 7$/m);
  assert.match(metrics, /^leengine_slb_requests_total\{domain="empty\.example\.com",class="5xx"\} 1$/m);
  assert.match(metrics, /^leengine_slb_request_duration_seconds_count\{domain="m\.example\.com"\} 7$/m);
  assert.match(
    metrics,
    /^leengine_slb_request_duration_seconds_bucket\{domain="m\.example\.com",le="\+Inf"\} 7$/m,
  );
});

test('values with ; { } # $ reach the client literally through real nginx', async () => {
  const { store, nginx, agent } = await setup();
  const [x1] = await backends('x1');
  assert.ok(x1);
  // biome-ignore lint/suspicious/noTemplateCurlyInString: an nginx variable, on purpose
  const value = "a;b {c} #d $host 'e' ${remote_addr}";
  await store.createDomain(
    domain({
      domain: 'x.example.com',
      application: 'x',
      headers: { request: [], response: [{ name: 'X-Literal', value }] },
    }),
  );
  await agent.waitForRevision(await store.putUpstreams('public', 'x.example.com', [peer(x1)]));
  assert.deepEqual(agent.status.domainErrors, {});
  assert.equal((await httpGet(nginx.httpPort, 'x.example.com')).headers['x-literal'], value);
});

test('a removed domain stops being served; its peers leave the shared dict', async () => {
  const { store, nginx, agent } = await setup();
  const [d1] = await backends('d1');
  assert.ok(d1);
  await store.createDomain(domain({ domain: 'gone.example.com', application: 'gone' }));
  await agent.waitForRevision(await store.putUpstreams('public', 'gone.example.com', [peer(d1)]));
  assert.equal((await httpGet(nginx.httpPort, 'gone.example.com')).body, 'd1');
  await agent.waitForRevision(await store.deleteDomain('public', 'gone.example.com'));
  assert.equal((await httpGet(nginx.httpPort, 'gone.example.com')).status, 404);
  await sleep(50);
  assert.equal(await nginx.runtime.control.state('gone.example.com'), undefined);
});

test('a peer that refuses connections is retried on another peer: no failed request', async () => {
  const { store, nginx, agent } = await setup();
  const [live] = await backends('live');
  assert.ok(live);
  const [closedPort] = await freePorts(1);
  assert.ok(closedPort);
  await store.createDomain(domain({ domain: 'r.example.com', application: 'r' }));
  await agent.waitForRevision(
    await store.putUpstreams('public', 'r.example.com', [
      { ip: '127.0.0.1', port: closedPort, weight: 1, cell: 'local', version: 'v1' },
      peer(live),
    ]),
  );
  for (let i = 0; i < 20; i++) assert.equal((await httpGet(nginx.httpPort, 'r.example.com')).body, 'live');
});

test('upstream changes reach nginx while a long reload of many domains is still running', async () => {
  const { client, store, nginx, agent } = await setup();
  const [f1, f2] = await backends('f1', 'f2');
  assert.ok(f1 && f2);
  // Enough domains that a reload takes a while (nginx parses every server block).
  let revision = 0;
  for (let i = 0; i < 1500; i += 100) {
    const ops = [];
    for (let j = i; j < i + 100; j++) {
      const d = domain({ domain: `s${j}.example.com`, application: 's' });
      ops.push(client.put(`/slb/public/domains/${d.domain}/config`).value(JSON.stringify(d)));
    }
    revision = Number(
      (
        await client
          .if('/slb/public/meta', 'Create', '>', 0)
          .then(...ops)
          .commit()
      ).header.revision,
    );
  }
  await store.createDomain(domain({ domain: 'fast.example.com', application: 'fast' }));
  revision = await store.putUpstreams('public', 'fast.example.com', [peer(f1)]);
  await agent.waitForRevision(revision, 120_000);
  assert.equal((await httpGet(nginx.httpPort, 'fast.example.com')).body, 'f1');

  const s0 = await store.getDomain('public', 's0.example.com');
  assert.ok(s0);
  const configRevision = await store.updateDomain({
    ...s0.value,
    proxy: { ...s0.value.proxy, readTimeoutSeconds: 9 },
  });
  await sleep(20); // the reconcile (render, nginx -t, reload) is under way
  await store.putUpstreams('public', 'fast.example.com', [peer(f2)]);
  for (;;) {
    if ((await httpGet(nginx.httpPort, 'fast.example.com')).body === 'f2') break;
    await sleep(5);
  }
  assert.ok(agent.status.revision < configRevision, 'f2 was served before the reload was done');
  await agent.waitForRevision(configRevision, 120_000);
  assert.equal((await httpGet(nginx.httpPort, 'fast.example.com')).body, 'f2', 'and stays after it');
});

test('only root reaches the control socket (nginx makes it 0666; its dir is 0700)', async () => {
  assert.equal(process.getuid?.(), 0, 'runs as root, as the agent does');
  const { nginx } = await setup();
  assert.ok(await nginx.runtime.control.generation(), 'root reaches it');
  const asNobody = spawnSync(
    'setpriv',
    [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      'curl',
      '-s',
      '-m',
      '2',
      '--unix-socket',
      nginx.runtime.controlSocket,
      'http://x/generation',
    ],
    { encoding: 'utf8' },
  );
  assert.notEqual(asNobody.status, 0, `nobody connected: ${asNobody.stdout}`);
  assert.equal(asNobody.stdout, '');
});

test('a request body larger than the memory buffer goes through (workers reach their temp dir)', async () => {
  const { store, nginx, agent } = await setup();
  const [b1] = await backends('b1');
  assert.ok(b1);
  await store.createDomain(domain({ domain: 'body.example.com', application: 'body' }));
  await agent.waitForRevision(await store.putUpstreams('public', 'body.example.com', [peer(b1)]));
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: nginx.httpPort,
        method: 'POST',
        path: '/',
        headers: { host: 'body.example.com' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(Buffer.alloc(200_000, 'x'));
  });
  assert.equal(status, 200);
});

test('waiting for the agents counts every declared host: one without a live report is behind', async () => {
  const { store, agent } = await setup();
  await store.putGroup({ name: 'public', description: '', hosts: ['slb-1', 'slb-2'] });
  await store.createDomain(domain({ domain: 'w.example.com', application: 'w' }));
  const revision = await store.putUpstreams('public', 'w.example.com', []);
  await agent.waitForRevision(revision);
  await assert.rejects(store.waitForAgents('public', revision, 1500), /slb-2 \(no live report\)/);
  await store.putGroup({ name: 'public', description: '', hosts: ['slb-1'] });
  await store.waitForAgents('public', revision, 10_000);
});
