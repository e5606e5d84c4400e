import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { deploymentManifest, namespaceManifest, serviceManifest } from '@leengine/kube';
import { SlbAgent, SlbStore, type Upstream } from '@leengine/slb';
import { httpGet, type SlbNginxHandle, startSlbNginx, steadyLoad } from '@leengine/slb/testing';
import { type CellHandle, useTestbed } from '@leengine/testbed';
import type { Etcd3 } from 'etcd3';
import { pino } from 'pino';
import { CellsDirWatch } from './cellsDir.ts';
import { Discovery } from './discovery.ts';
import { drainAndConfirm, removeDrain } from './drains.ts';
import { SlbTrafficGate } from './trafficGate.ts';

const testbed = useTestbed();
const log = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
const APP = 'shop';
const DOMAIN = 'shop.example.com';

let cell: CellHandle;
let kube: KubeConfig;
let client: Etcd3;
let store: SlbStore;
let nginx: SlbNginxHandle;
let agent: SlbAgent;
let discovery: Discovery;

before(async () => {
  const [etcd, registry] = await Promise.all([testbed.etcd(), testbed.registry()]);
  cell = await testbed.cell({ name: 'disc-a', etcd, registry });
  kube = cell.kubeConfig();
  client = etcd.client();
  store = SlbStore.create({ client });
  await store.putGroup({ name: 'public', description: '', hosts: ['slb-1'] });
  await store.createDomain({
    domain: DOMAIN,
    group: 'public',
    application: APP,
    locations: [{ path: '/', match: 'prefix' }],
    proxy: {
      connectTimeoutSeconds: 2,
      readTimeoutSeconds: 10,
      sendTimeoutSeconds: 10,
      clientMaxBodySizeMb: 1,
      websocket: false,
      buffering: true,
    },
    headers: { request: [], response: [] },
    special: {},
  });
  nginx = await startSlbNginx(testbed, { workerProcesses: 1 });
  agent = await SlbAgent.start({ settings: nginx.settings, client, log });
  const core = kube.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: namespaceManifest(APP) });
  await core.createNamespacedService({ namespace: APP, body: serviceManifest(APP, 8080) });
});

after(async () => {
  await discovery?.stop();
  await agent?.stop();
  client?.close();
});

function deployment(version: string, replicas: number) {
  return deploymentManifest({
    application: APP,
    version,
    image: cell.images?.httpbox ?? '',
    replicas,
    port: 8080,
    cpu: { requestMillis: 10, limitMillis: 200 },
    memory: { requestMiB: 16, limitMiB: 64 },
    env: [],
    healthCheck: {
      path: '/healthz',
      port: 8080,
      initialDelaySeconds: 0,
      periodSeconds: 1,
      timeoutSeconds: 1,
      failureThreshold: 3,
      liveness: false,
    },
    terminationGracePeriodSeconds: 5,
  });
}

async function upstreams(): Promise<Upstream[]> {
  return (await store.getUpstreams('public', DOMAIN))?.value ?? [];
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function readyPods(version: string): Promise<string[]> {
  const pods = await kube
    .makeApiClient(CoreV1Api)
    .listNamespacedPod({ namespace: APP, labelSelector: `leengine.io/version=${version}` });
  return pods.items
    .filter(
      (p) =>
        !p.metadata?.deletionTimestamp &&
        p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    )
    .map((p) => p.metadata?.name ?? '');
}

test('discovery writes the ready addresses with cell and version, and nginx routes to them', async () => {
  await kube
    .makeApiClient(AppsV1Api)
    .createNamespacedDeployment({ namespace: APP, body: deployment('v1', 2) });
  discovery = Discovery.start({ client, cells: [{ name: cell.name, kubeConfig: kube }], log });
  const pods = await until('two ready v1 pods', async () => {
    const ready = await readyPods('v1');
    return ready.length === 2 ? ready : undefined;
  });
  const written = await until('both pods in the upstreams', async () => {
    const current = await upstreams();
    return current.length === 2 ? current : undefined;
  });
  assert.deepEqual(written.map((u) => u.pod).sort(), [...pods].sort());
  for (const u of written) {
    assert.equal(u.cell, 'disc-a');
    assert.equal(u.version, 'v1');
    assert.equal(u.port, 8080);
    assert.match(u.ip, /^10\.88\./);
  }
  const revision = (await store.getUpstreams('public', DOMAIN))?.modRevision ?? 0;
  await store.waitForAgents('public', revision);
  const answered = new Set<string>();
  for (let i = 0; i < 10; i++) answered.add((await httpGet(nginx.httpPort, DOMAIN)).body.trim());
  assert.deepEqual([...answered].sort(), [...pods].sort(), 'nginx round-robins over both pods');
});

test('a restarted discovery resyncs from scratch and writes nothing when nothing changed', async () => {
  await discovery.stop();
  const before = await store.getUpstreams('public', DOMAIN);
  discovery = Discovery.start({ client, cells: [{ name: cell.name, kubeConfig: kube }], log });
  await discovery.synced();
  assert.equal(discovery.writes, 0);
  assert.equal((await store.getUpstreams('public', DOMAIN))?.modRevision, before?.modRevision);
});

test('cells follow a cells directory: a file adds its cell, a broken one keeps the last good, a changed one reconnects, a removed one takes its addresses out', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'disc-cells-'));
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, `.${name}.tmp`), text);
    renameSync(join(dir, `.${name}.tmp`), join(dir, name));
  };
  const kubeconfigText = readFileSync(cell.kubeconfig, 'utf8');
  write('disc-a.kubeconfig', kubeconfigText);
  write('README.txt', 'not a cell');
  write('Not_A_Label.kubeconfig', kubeconfigText);
  const before = await upstreams();
  assert.equal(before.length, 2);
  await discovery.stop();
  discovery = Discovery.start({ client, cells: [], log });
  const watch = await CellsDirWatch.start({ dir, apply: (cells) => discovery.setCells(cells), log });
  try {
    assert.deepEqual(discovery.cells, ['disc-a'], 'only <DNS label>.kubeconfig files are cells');
    await discovery.synced();
    assert.deepEqual(await upstreams(), before, 'the same addresses');

    write('disc-a.kubeconfig', 'this is not a kubeconfig');
    await watch.rescan();
    assert.deepEqual(discovery.cells, ['disc-a'], 'a broken file keeps the cell on its last good kubeconfig');

    rmSync(join(dir, 'disc-a.kubeconfig'));
    await until('the removed cell out of the upstreams', async () =>
      (await upstreams()).length === 0 ? true : undefined,
    );
    assert.deepEqual(discovery.cells, []);

    // Back, from the file event alone (no rescan asked for).
    write('disc-a.kubeconfig', kubeconfigText);
    const back = await until('the cell back in the upstreams', async () => {
      const current = await upstreams();
      return current.length === 2 ? current : undefined;
    });
    assert.deepEqual(back, before);
    assert.deepEqual(discovery.cells, ['disc-a']);

    // Changed credentials reconnect the cell; its addresses stay meanwhile: nothing is written.
    await discovery.synced();
    const writes = discovery.writes;
    write('disc-a.kubeconfig', `${kubeconfigText}\n# rotated\n`);
    await watch.rescan();
    await discovery.synced();
    assert.equal(discovery.writes, writes, 'no write: the reconnected cell has the same addresses');
    assert.deepEqual(await upstreams(), before);
  } finally {
    await watch.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('zero failed requests out of 20,000 through nginx during a gray upgrade (2 -> 3 pods) and a scale-down (3 -> 2)', async () => {
  const apps = kube.makeApiClient(AppsV1Api);
  const core = kube.makeApiClient(CoreV1Api);
  const load = steadyLoad({ port: nginx.httpPort, host: DOMAIN, rate: 500, total: 20_000, maxInFlight: 32 });

  // Gray upgrade, in the platform's order: v2 Ready and routable, v1 out of the
  // upstreams and confirmed by every agent, then v1 deleted.
  await sleep(2000);
  await apps.createNamespacedDeployment({ namespace: APP, body: deployment('v2', 3) });
  const v2 = await until('three ready v2 pods', async () => {
    const ready = await readyPods('v2');
    return ready.length === 3 ? ready : undefined;
  });
  await until('v2 in the upstreams', async () => {
    const current = await upstreams();
    return v2.every((p) => current.some((u) => u.pod === p)) ? true : undefined;
  });
  await drainAndConfirm({ client, application: APP, versions: ['v1'] });
  assert.ok((await upstreams()).every((u) => u.version === 'v2'));
  await apps.deleteNamespacedDeployment({ name: 'v1', namespace: APP });
  await until('v1 pods gone', async () => ((await readyPods('v1')).length === 0 ? true : undefined));
  await removeDrain(client, APP, { versions: ['v1'] });

  // Scale-down: the victim leaves the upstreams first, then the ReplicaSet removes it
  // (its deletion cost makes it the one removed).
  await sleep(2000);
  const victim = v2[0] ?? '';
  await core.patchNamespacedPod({
    name: victim,
    namespace: APP,
    body: [
      {
        op: 'add',
        path: '/metadata/annotations',
        value: { 'controller.kubernetes.io/pod-deletion-cost': '-1000' },
      },
    ],
  });
  await drainAndConfirm({ client, application: APP, pods: [victim] });
  await apps.patchNamespacedDeploymentScale({
    name: 'v2',
    namespace: APP,
    body: [{ op: 'replace', path: '/spec/replicas', value: 2 }],
  });
  await until('the victim gone', async () => ((await readyPods('v2')).includes(victim) ? undefined : true));
  await removeDrain(client, APP, { pods: [victim] });

  const result = await load;
  assert.equal(result.sent, 20_000);
  assert.deepEqual(result.failures, {}, `failed requests: ${JSON.stringify(result.failures)}`);
  assert.equal(result.ok, 20_000);
  // The stream really went through both versions.
  assert.ok(
    Object.keys(result.bodies).some((pod) => pod.startsWith('v1-')),
    'v1 served',
  );
  assert.ok(
    Object.keys(result.bodies).some((pod) => pod.startsWith('v2-')),
    'v2 served',
  );
  assert.deepEqual((await upstreams()).map((u) => u.pod).sort(), v2.filter((p) => p !== victim).sort());
});

test('the traffic gate: routable once every agent serves an endpoint, drained once none does', async () => {
  const gate = SlbTrafficGate.create({ client });
  const before = await upstreams();
  const [current] = before;
  assert.ok(current);
  const endpoint = { cell: current.cell, version: current.version, ip: current.ip, port: current.port };
  assert.equal(await gate.routable(APP, [endpoint]), true);
  assert.equal(
    await gate.routable(APP, [{ ...endpoint, ip: '10.88.255.254' }]),
    false,
    'an address no one routes to',
  );
  await until(
    'the endpoint drained and confirmed',
    async () => ((await gate.drain(APP, { versions: [], endpoints: [endpoint] })) ? true : undefined),
    20_000,
  );
  assert.deepEqual(
    (await upstreams()).map((u) => u.ip),
    before.filter((u) => u.ip !== current.ip).map((u) => u.ip),
  );
  for (let i = 0; i < 6; i++)
    assert.notEqual((await httpGet(nginx.httpPort, DOMAIN)).body.trim(), current.pod);
  await gate.release(APP, { versions: [], endpoints: [endpoint] });
  await until(
    'the endpoint back',
    async () => ((await gate.routable(APP, [endpoint])) ? true : undefined),
    20_000,
  );
});

test('a drained address whose pod is gone leaves the drain (its IP may come back on a new pod)', async () => {
  const gate = SlbTrafficGate.create({ client });
  const [current] = await upstreams();
  assert.ok(current?.pod);
  const endpoint = { cell: current.cell, version: current.version, ip: current.ip, port: current.port };
  await until(
    'drained',
    async () => ((await gate.drain(APP, { versions: [], endpoints: [endpoint] })) ? true : undefined),
    20_000,
  );
  await kube.makeApiClient(CoreV1Api).deleteNamespacedPod({ name: current.pod, namespace: APP });
  const address = `${endpoint.cell}/${endpoint.ip}:${endpoint.port}`;
  await until(
    'the address out of the drain',
    async () => {
      const raw = await client.get(`/leengine/discovery/drains/${APP}`).string();
      return raw === null || !raw.includes(address) ? true : undefined;
    },
    60_000,
  );
  // The ReplicaSet's replacement is routable again.
  await until('a replacement in the upstreams', async () =>
    (await upstreams()).length === 2 ? true : undefined,
  );
});
