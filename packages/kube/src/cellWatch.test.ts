import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Deployment } from '@kubernetes/client-node';
import { useTestbed } from '@leengine/testbed';
import { CellClient } from './cellClient.ts';
import { deploymentManifest, namespaceManifest, type VersionSpec } from './manifests.ts';
import { ResourceWatch } from './resourceWatch.ts';

const testbed = useTestbed();

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 90_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await sleep(200);
  }
}

// The 410 path (re-list) is covered with a scripted source in resourceWatch.test.ts: a
// real apiserver's watch cache replays old versions instead of refusing them until its
// window moves on (over 75 s and 100 events), which a test cannot wait for.
test('a deployment watch on a real cell lists, then sees changes, survives the apiserver going away, and resumes', async () => {
  const [etcd, registry] = await Promise.all([testbed.etcd(), testbed.registry()]);
  const cell = await testbed.cell({ name: 'watch', etcd, registry });
  const client = CellClient.fromKubeconfig(cell.name, readFileSync(cell.kubeconfig, 'utf8'));
  assert.match(await client.ping(), /^v1\./);
  const spec = (version: string): VersionSpec => ({
    application: 'shop',
    version,
    image: cell.images?.httpbox ?? '',
    replicas: 1,
    port: 8080,
    cpu: { requestMillis: 50, limitMillis: 100 },
    memory: { requestMiB: 16, limitMiB: 32 },
    env: [],
    terminationGracePeriodSeconds: 1,
  });
  await client.apply(namespaceManifest('shop'));
  await client.apply(deploymentManifest(spec('v1')));

  const seen: string[] = [];
  const errors: unknown[] = [];
  const watch = new ResourceWatch<V1Deployment>({
    name: 'deployments',
    source: client.deploymentSource(),
    onEvent: (type, d) => seen.push(`${type} ${d.metadata?.name}`),
    onError: (e) => errors.push(e),
    backoff: { baseMs: 100, maxMs: 500 },
  });
  watch.start();
  try {
    await until('the list', () => seen.includes('SYNC v1'));

    await client.apply(deploymentManifest(spec('v2')));
    await until('v2 added', () => seen.includes('ADDED v2'));
    const lists = watch.metrics.lists;

    await cell.stopApiserver();
    await until('a failed reconnect', () => errors.length > 0);
    await cell.startApiserver();
    await client.apply(deploymentManifest(spec('v3')));
    await until('v3 added after the restart', () => seen.includes('ADDED v3'));
    // A restarted apiserver's watch cache starts at etcd's current revision, which node
    // leases move every few seconds: it usually answers the resumed watch with 410, and
    // the watch re-lists exactly then, never otherwise.
    assert.equal(watch.metrics.lists, lists + watch.metrics.gone, 're-listed only when told 410');
  } finally {
    await watch.stop();
  }

  // The namespace's Deployments as LeEngine lists them, and the cell's capacity.
  const states = await client.deployments('shop');
  assert.deepEqual(states.map((s) => s.version).sort(), ['v1', 'v2', 'v3']);
  assert.ok(states.every((s) => s.specHash?.length === 16));
  await until('3 ready', async () => (await client.deployments('shop')).every((s) => s.ready === 1));
  const capacity = await client.capacity();
  const node = capacity.nodes.find((n) => n.name === 'watch-node');
  assert.ok(node?.ready && node.allocatable.cpuMillicores > 0 && node.allocatable.memoryMib > 0);
  assert.ok(node.requested.cpuMillicores >= 150, `3 pods x 50m requested: ${node.requested.cpuMillicores}`);
  assert.ok(node.pods >= 3);
  assert.deepEqual(capacity.total.requested, node.requested);

  // Deletion cost decides which pod a scale-down removes.
  const [victim] = await client.containers('shop');
  await client.setDeletionCost('shop', [victim?.name ?? ''], -100);
  const pod = await client.core.readNamespacedPod({ namespace: 'shop', name: victim?.name ?? '' });
  assert.equal(pod.metadata?.annotations?.['controller.kubernetes.io/pod-deletion-cost'], '-100');

  assert.equal(await client.namespace('shop'), 'active');
  assert.deepEqual(await client.managedNamespaces(), ['shop']);
  assert.equal(await client.namespace('nothing'), 'absent');
});

test('logs of a running container can be followed until the caller stops', async () => {
  const [etcd, registry] = await Promise.all([testbed.etcd(), testbed.registry()]);
  const cell = await testbed.cell({ name: 'logs', etcd, registry });
  const client = CellClient.fromKubeconfig(cell.name, readFileSync(cell.kubeconfig, 'utf8'));
  await client.apply(namespaceManifest('talk'));
  await client.core.createNamespacedPod({
    namespace: 'talk',
    body: {
      metadata: { name: 'talker' },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'app',
            image: cell.images?.httpbox ?? '',
            command: ['/bin/sh', '-c', 'i=0; while :; do echo "line $i"; i=$((i+1)); sleep 0.2; done'],
          },
        ],
      },
    },
  });
  await until('running', async () => {
    const pod = await client.core.readNamespacedPod({ namespace: 'talk', name: 'talker' });
    return pod.status?.phase === 'Running' ? true : undefined;
  });
  let text = '';
  const stream = await client.followLogs('talk', 'talker', 1);
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    text += chunk;
  });
  await until('several lines, streamed', () => (text.match(/line \d+/g)?.length ?? 0) >= 5);
  stream.destroy();
  await assert.rejects(
    client.followLogs('talk', 'nobody'),
    (e: { statusCode?: number }) => e.statusCode === 404,
  );
  const lines = text.slice(0, text.lastIndexOf('\n')).split('\n');
  const numbers = lines.map((l) => Number(l.replace('line ', '')));
  assert.deepEqual(
    numbers,
    numbers.map((_, i) => (numbers[0] ?? 0) + i),
    'consecutive lines, in order',
  );
  assert.match(await client.logs('talk', 'talker', 2), /^line \d+\nline \d+\n$/);
});
