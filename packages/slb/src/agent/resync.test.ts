import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DomainConfigSchema, type Upstream } from '@leengine/common';
import { useTestbed } from '@leengine/testbed';
import { pino } from 'pino';
import { SlbStore } from '../etcd/slbStore.ts';
import { type Backend, httpGet, startBackend } from '../testing/http.ts';
import { startSlbNginx } from '../testing/slbHost.ts';
import { SlbAgent } from './slbAgent.ts';

const testbed = useTestbed();
const log = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

const peer = (b: Backend): Upstream => ({
  ip: '127.0.0.1',
  port: b.port,
  weight: 1,
  cell: 'local',
  version: 'v1',
});

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function answers(port: number, host: string, body: string): Promise<boolean> {
  return (await httpGet(port, host)).body === body;
}

test('the agent process killed with SIGKILL and started again resyncs what changed meanwhile', async () => {
  const etcd = await testbed.etcd();
  const client = etcd.client();
  cleanup.push(() => client.close());
  const store = SlbStore.create({ client });
  await store.putGroup({ name: 'public', description: '', hosts: [] });
  const nginx = await startSlbNginx(testbed, { settings: { leaseTtlSeconds: 2 } });
  const [k1, k2] = await Promise.all([startBackend('k1'), startBackend('k2')]);
  cleanup.push(
    () => k1.close(),
    () => k2.close(),
  );
  const configDir = mkdtempSync(join(tmpdir(), 'slb-agent-config-'));
  cleanup.push(() => rmSync(configDir, { recursive: true, force: true }));
  const configFile = join(configDir, 'agent.json');
  writeFileSync(configFile, JSON.stringify(nginx.settings));
  const startAgent = (): ChildProcess => {
    const child = spawn(
      process.execPath,
      [
        join(import.meta.dirname, 'main.ts'),
        '--config',
        configFile,
        '--etcd',
        etcd.url,
        '--log-level',
        'warn',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    cleanup.push(() => child.kill('SIGKILL'));
    return child;
  };

  const domain = DomainConfigSchema.parse({ domain: 'k.example.com', group: 'public', application: 'k' });
  await store.createDomain(domain);
  await store.putUpstreams('public', 'k.example.com', [peer(k1)]);
  const first = startAgent();
  await until('k1 served', () => answers(nginx.httpPort, 'k.example.com', 'k1'));
  await until('the agent reports under its key', async () => (await store.agents('public')).length === 1);

  first.kill('SIGKILL');
  await new Promise((resolve) => first.once('exit', resolve));
  await until(
    'the dead agent key expires with its lease',
    async () => (await store.agents('public')).length === 0,
  );
  // While no agent runs: nginx keeps serving what it had; etcd moves on.
  assert.equal((await httpGet(nginx.httpPort, 'k.example.com')).body, 'k1');
  await store.putUpstreams('public', 'k.example.com', [peer(k2)]);
  await store.updateDomain({
    ...domain,
    headers: { request: [], response: [{ name: 'X-After', value: 'restart' }] },
  });

  startAgent();
  await until('k2 served with the new header', async () => {
    const reply = await httpGet(nginx.httpPort, 'k.example.com');
    return reply.body === 'k2' && reply.headers['x-after'] === 'restart';
  });
  await until('the new agent reports', async () => (await store.agents('public'))[0]?.revision !== undefined);
});

test('etcd restarted: the agent resumes its watch and its lease-bound report', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slb-etcd-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  let etcd = await testbed.etcd({ dir });
  const port = etcd.port;
  const client = etcd.client();
  cleanup.push(() => client.close());
  const store = SlbStore.create({ client });
  await store.putGroup({ name: 'public', description: '', hosts: [] });
  const nginx = await startSlbNginx(testbed);
  const agent = await SlbAgent.start({ settings: nginx.settings, client, log });
  cleanup.push(() => agent.stop());
  const [e1, e2] = await Promise.all([startBackend('e1'), startBackend('e2')]);
  cleanup.push(
    () => e1.close(),
    () => e2.close(),
  );
  await store.createDomain(
    DomainConfigSchema.parse({ domain: 'e.example.com', group: 'public', application: 'e' }),
  );
  await agent.waitForRevision(await store.putUpstreams('public', 'e.example.com', [peer(e1)]));
  assert.equal((await httpGet(nginx.httpPort, 'e.example.com')).body, 'e1');

  await etcd.stop();
  await sleep(500);
  assert.equal(
    (await httpGet(nginx.httpPort, 'e.example.com')).body,
    'e1',
    'nginx serves on while etcd is down',
  );
  etcd = await testbed.etcd({ dir, port });

  const revision = await until2(() => store.putUpstreams('public', 'e.example.com', [peer(e2)]));
  await agent.waitForRevision(revision, 30_000);
  assert.equal((await httpGet(nginx.httpPort, 'e.example.com')).body, 'e2');
  await store.waitForAgents('public', revision, 30_000);
});

/** Retries a call while the restarted etcd elects itself. */
async function until2<T>(call: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(100);
    }
  }
}

test('a restarted agent resumes from its applied revision without listing; after a compaction it lists again', async () => {
  const etcd = await testbed.etcd();
  const client = etcd.client();
  cleanup.push(() => client.close());
  const store = SlbStore.create({ client });
  await store.putGroup({ name: 'public', description: '', hosts: [] });
  const nginx = await startSlbNginx(testbed);
  const [r1, r2, r3] = await Promise.all([startBackend('r1'), startBackend('r2'), startBackend('r3')]);
  cleanup.push(
    () => r1.close(),
    () => r2.close(),
    () => r3.close(),
  );
  const domain = DomainConfigSchema.parse({ domain: 'r.example.com', group: 'public', application: 'r' });
  await store.createDomain(domain);
  const first = await SlbAgent.start({ settings: nginx.settings, client, log });
  await first.waitForRevision(await store.putUpstreams('public', 'r.example.com', [peer(r1)]));
  assert.equal(first.lists, 1, 'a fresh agent lists the group');
  assert.equal((await httpGet(nginx.httpPort, 'r.example.com')).body, 'r1');
  await first.stop();

  // Stopped: a config change (needs a reload) and an upstream change (Lua) meanwhile.
  await store.updateDomain({
    ...domain,
    headers: { request: [], response: [{ name: 'X-Resumed', value: 'yes' }] },
  });
  const changed = await store.putUpstreams('public', 'r.example.com', [peer(r2)]);
  const second = await SlbAgent.start({ settings: nginx.settings, client, log });
  cleanup.push(() => second.stop());
  await second.waitForRevision(changed);
  const resumed = await httpGet(nginx.httpPort, 'r.example.com');
  assert.equal(resumed.body, 'r2');
  assert.equal(resumed.headers['x-resumed'], 'yes');
  assert.equal(second.lists, 0, 'it watched from its revision instead of listing');
  await second.stop();

  // Stopped again, and etcd compacts past the applied revision: the agent lists.
  await store.updateDomain({
    ...domain,
    headers: { request: [], response: [{ name: 'X-Resumed', value: 'after-compaction' }] },
  });
  const latest = await store.putUpstreams('public', 'r.example.com', [peer(r3)]);
  await client.kv.compact({ revision: String(latest), physical: true });
  const third = await SlbAgent.start({ settings: nginx.settings, client, log });
  cleanup.push(() => third.stop());
  await third.waitForRevision(latest);
  await until('r3 served with the new header', async () => {
    const reply = await httpGet(nginx.httpPort, 'r.example.com');
    return reply.body === 'r3' && reply.headers['x-resumed'] === 'after-compaction';
  });
  assert.equal(third.lists, 1, 'the compacted revision made it list the group');
});
