import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { AppsV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { mountsUnder } from '../mounts.ts';
import { useTestbed } from '../nodeTest.ts';
import { pidsMentioning } from '../procfs.ts';
import type { CellHandle } from './cell.ts';
import { podNamespacesIn } from './podNetwork.ts';

const testbed = useTestbed();

function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

async function readyPods(
  cell: CellHandle,
  namespace: string,
  count: number,
  timeoutMs = 90_000,
): Promise<V1Pod[]> {
  const core = cell.kubeConfig().makeApiClient(CoreV1Api);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pods = (await core.listNamespacedPod({ namespace, labelSelector: 'app=httpbox' })).items;
    const ready = pods.filter((p) => isReady(p) && !p.metadata?.deletionTimestamp);
    if (ready.length === count) return ready;
    if (Date.now() > deadline) {
      assert.fail(
        `${cell.name}: ${ready.length}/${count} pods ready: ${JSON.stringify(pods.map((p) => p.status))}`,
      );
    }
    await sleep(250);
  }
}

async function deployHttpbox(cell: CellHandle, namespace: string, replicas: number): Promise<void> {
  const config = cell.kubeConfig();
  await config.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
  await config.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: 'httpbox' },
      spec: {
        replicas,
        selector: { matchLabels: { app: 'httpbox' } },
        template: {
          metadata: { labels: { app: 'httpbox' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [
              {
                name: 'httpbox',
                image: cell.images?.httpbox,
                ports: [{ containerPort: 8080 }],
                readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 },
              },
            ],
          },
        },
      },
    },
  });
}

test('two cells run real pods: Ready on the real kubelet, reachable by pod IP, replaced when deleted', async () => {
  const [etcd, registry] = await Promise.all([testbed.etcd(), testbed.registry()]);
  const cells = await Promise.all([
    testbed.cell({ name: 'cell-a', etcd, registry }),
    testbed.cell({ name: 'cell-b', etcd, registry }),
  ]);
  assert.notEqual(cells[0].podSubnet?.cidr, cells[1].podSubnet?.cidr, 'each cell has its own pod subnet');

  await Promise.all(cells.map((cell) => deployHttpbox(cell, 'web', 2)));
  for (const cell of cells) {
    const pods = await readyPods(cell, 'web', 2);
    for (const pod of pods) {
      assert.equal(pod.spec?.nodeName, `${cell.name}-node`);
      const ip = pod.status?.podIP ?? '';
      assert.ok(
        ip.startsWith(cell.podSubnet?.cidr.replace('.0/24', '.') ?? '-'),
        `${ip} is in the cell's subnet`,
      );
      const body = await (await fetch(`http://${ip}:8080/`)).text();
      assert.equal(body.trim(), pod.metadata?.name, 'each pod answers with its own name');
    }
  }

  const [cellA] = cells;
  const core = cellA.kubeConfig().makeApiClient(CoreV1Api);
  const before = await readyPods(cellA, 'web', 2);
  const victim = before[0]?.metadata?.name ?? '';
  await core.deleteNamespacedPod({ namespace: 'web', name: victim });
  const deadline = Date.now() + 90_000;
  for (;;) {
    const now = await readyPods(cellA, 'web', 2).catch(() => []);
    const names = now.map((p) => p.metadata?.name);
    if (now.length === 2 && !names.includes(victim)) break;
    assert.ok(Date.now() < deadline, 'the ReplicaSet replaces the deleted pod');
    await sleep(250);
  }

  // Stopping a cell with running pods leaves no process, mount, dir or bridge behind.
  for (const cell of cells) {
    const bridge = cell.podSubnet?.bridge ?? '';
    await cell.stop();
    assert.deepEqual(pidsMentioning(cell.dir), []);
    assert.deepEqual(mountsUnder(cell.dir), []);
    assert.equal(existsSync(cell.dir), false);
    assert.equal(existsSync(`/sys/class/net/${bridge}`), false);
    assert.equal(podNamespacesIn(cell.podSubnet?.cidr ?? ''), 0, 'no pod network namespace is left');
    assert.equal(cell.cgroups.length, 2);
    assert.deepEqual(cell.cgroups.flatMap(cgroupsNamed), [], 'no cgroup is left, the unified one included');
  }
});

/** Cgroup dirs of this name, in every hierarchy (the hybrid unified one too). */
function cgroupsNamed(name: string): string[] {
  const root = '/sys/fs/cgroup';
  const hierarchies = existsSync(join(root, 'cgroup.controllers'))
    ? [root]
    : readdirSync(root).map((d) => join(root, d));
  return hierarchies.flatMap((h) =>
    (existsSync(h) && statSync(h).isDirectory() ? readdirSync(h) : [])
      .filter((d) => d === name)
      .map((d) => join(h, d)),
  );
}

test('kubectl works with the written kubeconfig: nodes, pods, apply of a Deployment', async () => {
  // The `kubectl` on PATH, as scripts/setup.sh guarantees one (Debian's kubernetes-client
  // 1.20 when none is there; see docs/cells.md for the versions checked).
  const kubectl = async (...args: string[]) =>
    (await promisify(execFile)('kubectl', ['--kubeconfig', cell.kubeconfig, ...args])).stdout;
  const [etcd, registry] = await Promise.all([testbed.etcd(), testbed.registry()]);
  const cell = await testbed.cell({ name: 'kubectl', etcd, registry });
  const namespaces = await kubectl('get', 'namespaces', '-o', 'jsonpath={.items[*].metadata.name}');
  assert.deepEqual(namespaces.split(' ').sort(), [
    'default',
    'kube-node-lease',
    'kube-public',
    'kube-system',
  ]);
  assert.match(await kubectl('get', 'nodes', '--no-headers'), /^kubectl-node\s+Ready\s/);

  const manifest = join(cell.dir, 'web.yaml');
  writeFileSync(
    manifest,
    `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: httpbox, image: ${JSON.stringify(cell.images?.httpbox)}}
`,
  );
  assert.match(await kubectl('apply', '-f', manifest), /deployment\.apps\/web created/);
  await kubectl('rollout', 'status', 'deployment/web', '--timeout=90s');
  const pods = (await kubectl('get', 'pods', '-A', '--no-headers')).trim().split('\n');
  assert.equal(pods.length, 2, pods.join('\n'));
  for (const line of pods) assert.match(line, /^default\s+web-\S+\s+1\/1\s+Running\s/);

  const version = JSON.parse((await cell.request('/version')).body) as { gitVersion: string };
  assert.match(version.gitVersion, /^v1\.\d+\.\d+$/, 'the apiserver reports its real release version');
});
