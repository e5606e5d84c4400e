import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { type CellHandle, type EtcdHandle, useTestbed } from '@leengine/testbed';
import type { Etcd3, IKeyValue } from 'etcd3';
import { runCnictl } from './cnictl/cnictl.ts';
import { Ipam } from './ipam.ts';
import { callPlugin, PLUGIN, resultIp } from './testing/cniCall.ts';
import { inNetns, NetFixture } from './testing/netFixture.ts';

// Kills the plugin (run directly, one process per ADD as without the agent) at random
// points, many times: before it allocates, right after it claims a block, right after
// its allocation is written (while it sets up the interface). The "kubelet" then
// retries the pod with a new sandbox, as it does after a failed ADD.

const testbed = useTestbed();
const net = NetFixture.create('crash', ['10.244.124.0/24']);
const bridge = net.bridge();
const RUNS = 30;
let etcd: EtcdHandle;
let client: Etcd3;
let cell: CellHandle;
let core: CoreV1Api;

before(async () => {
  etcd = await testbed.etcd();
  client = etcd.client();
  cell = await testbed.cell({ name: 'ipamcrash', etcd, nodes: 0 });
  core = cell.kubeConfig().makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'crash' } } });
  await Ipam.create({ client, cell: 'crash' }).addSegment({ cidr: '10.244.124.0/24' });
});
after(() => {
  client?.close();
  net.cleanup();
});

const config = (node: string) => ({
  cniVersion: '1.0.0',
  name: 'leengine',
  type: 'leengine-cni',
  cell: 'crash',
  nodeName: node,
  etcd: { endpoints: [etcd.url] },
  bridge,
  gatewayOnBridge: true,
});

async function createPod(name: string): Promise<V1Pod> {
  return core.createNamespacedPod({
    namespace: 'crash',
    body: { metadata: { name }, spec: { containers: [{ name: 'c', image: 'pause' }] } },
  });
}

async function markRunning(name: string, ip: string): Promise<void> {
  const pod = await core.readNamespacedPod({ namespace: 'crash', name });
  await core.replaceNamespacedPodStatus({
    namespace: 'crash',
    name,
    body: { ...pod, status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] } },
  });
}

type KillPoint = 'random' | 'after-claim' | 'after-write';

/** An ADD that is killed at `point`; resolves with its result if it finished first. */
function addAndKill(
  point: KillPoint,
  run: { containerId: string; netns: string; node: string; pod: V1Pod },
  typicalMs: number,
  events: { on(listener: (kv: IKeyValue) => void): () => void },
): Promise<{ killed: boolean; code: number | null; stdout: string }> {
  const args = `K8S_POD_NAMESPACE=crash;K8S_POD_NAME=${run.pod.metadata?.name};K8S_POD_UID=${run.pod.metadata?.uid}`;
  const child = spawn(PLUGIN, [], {
    env: {
      CNI_COMMAND: 'ADD',
      CNI_CONTAINERID: run.containerId,
      CNI_NETNS: run.netns,
      CNI_IFNAME: 'eth0',
      CNI_PATH: '/usr/lib/cni',
      CNI_ARGS: args,
    },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const kill = (afterMs: number) => setTimeout(() => child.kill('SIGKILL'), afterMs);
  let stop = () => {};
  if (point === 'random') kill(Math.random() * typicalMs * 1.2);
  else {
    stop = events.on((kv) => {
      const key = kv.key.toString();
      const value = JSON.parse(kv.value.toString()) as { node?: string; containerId?: string };
      // the address is written a few milliseconds after the claim: kill at once
      if (point === 'after-claim' && key.includes('/blocks/') && value.node === run.node)
        child.kill('SIGKILL');
      if (point === 'after-write' && key.includes('/allocations/') && value.containerId === run.containerId) {
        kill(Math.random() * 60);
      }
    });
  }
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stdin.end(JSON.stringify(config(run.node)));
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      stop();
      resolve({ killed: signal === 'SIGKILL', code, stdout });
    });
  });
}

test('a plugin killed at random points leaves no duplicate, and check finds exactly the leaked addresses', async (t) => {
  const listeners = new Set<(kv: IKeyValue) => void>();
  const watcher = await client.watch().prefix('/leengine/ipam/crash/').create();
  watcher.on('put', (kv) => {
    for (const l of listeners) l(kv);
  });
  const events = {
    on(listener: (kv: IKeyValue) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };

  // A pod that starts normally, which also tells how long an ADD takes here.
  const warm = await createPod('warm');
  const warmNs = net.netns();
  const started = performance.now();
  const warmAdd = await callPlugin({
    command: 'ADD',
    containerId: 'warm',
    netns: warmNs,
    args: `K8S_POD_NAMESPACE=crash;K8S_POD_NAME=warm;K8S_POD_UID=${warm.metadata?.uid}`,
    config: config('crash-node'),
  });
  const typicalMs = performance.now() - started;
  assert.equal(warmAdd.code, 0, warmAdd.stdout);
  await markRunning('warm', resultIp(warmAdd));

  const live = new Map<string, { containerId: string; netns: string }>([
    ['warm', { containerId: 'warm', netns: warmNs }],
  ]);
  const killedAttempts = new Set<string>();
  const ipamView = Ipam.create({ client, cell: 'crash' });
  let claimedNotWritten = 0;
  const points: KillPoint[] = ['random', 'after-claim', 'after-write'];
  for (let i = 0; i < RUNS; i++) {
    const point = points[i % points.length] as KillPoint;
    const name = `pod-${i}`;
    const pod = await createPod(name);
    const containerId = `sandbox-${i}`;
    const netns = net.netns();
    // a fresh node name makes the ADD claim a block, so "after-claim" has a moment to hit
    const node = point === 'after-claim' ? `fresh-${i}` : 'crash-node';
    const first = await addAndKill(point, { containerId, netns, node, pod }, typicalMs, events);
    if (!first.killed) {
      assert.equal(first.code, 0, `${name}: ${first.stdout}`);
      await markRunning(
        name,
        resultIp({ code: 0, stdout: first.stdout, stderr: '', json: JSON.parse(first.stdout) }),
      );
      live.set(name, { containerId, netns });
      continue;
    }
    killedAttempts.add(containerId);
    const wrote = await ipamView.getAttachment({ containerId, ifname: 'eth0' });
    const claimed = point === 'after-claim' && (await ipamView.listBlocks()).some((b) => b.node === node);
    if (!wrote && claimed) claimedNotWritten++;
    net.deleteNetns(netns); // the runtime removes the failed sandbox
    const retryNs = net.netns();
    const retry = await callPlugin({
      command: 'ADD',
      containerId: `${containerId}-retry`,
      netns: retryNs,
      args: `K8S_POD_NAMESPACE=crash;K8S_POD_NAME=${name};K8S_POD_UID=${pod.metadata?.uid}`,
      config: config(node),
    });
    assert.equal(retry.code, 0, `retry of ${name}: ${retry.stdout}`);
    await markRunning(name, resultIp(retry));
    live.set(name, { containerId: `${containerId}-retry`, netns: retryNs });
  }
  await watcher.cancel();

  const ipam = Ipam.create({ client, cell: 'crash' });
  const { items } = await ipam.listAllocations();
  const ips = items.map((a) => a.value.ip);
  assert.equal(new Set(ips).size, ips.length, 'no address has two owners');
  const liveContainers = new Set([...live.values()].map((l) => l.containerId));
  for (const a of items) {
    assert.ok(
      liveContainers.has(a.value.containerId) || killedAttempts.has(a.value.containerId),
      `${a.value.ip} belongs to ${a.value.containerId}, which is neither live nor a killed attempt`,
    );
  }
  for (const { containerId, netns } of live.values()) {
    const allocation = items.find((a) => a.value.containerId === containerId);
    assert.ok(allocation, `live pod ${containerId} holds an address`);
    const shown = inNetns(netns, ['ip', '-br', '-4', 'addr', 'show', 'dev', 'eth0']).stdout;
    assert.match(
      shown,
      new RegExp(`${allocation.value.ip.replaceAll('.', '\\.')}/24`),
      `${containerId}'s eth0`,
    );
  }
  const leaked = items.filter((a) => killedAttempts.has(a.value.containerId)).map((a) => a.value.ip);
  // the kills must have hit on both sides of the write, or the test proved little
  assert.ok(leaked.length >= 1, `no killed ADD had written its allocation (${killedAttempts.size} killed)`);
  assert.ok(leaked.length < killedAttempts.size, 'every killed ADD had already written its allocation');
  t.diagnostic(
    `${RUNS} runs: ${killedAttempts.size} killed (${leaked.length} after writing their address, ${killedAttempts.size - leaked.length} before, ${claimedNotWritten} of them between claiming a block and writing), ${live.size - 1 - killedAttempts.size} finished first`,
  );
  assert.ok(claimedNotWritten >= 1, 'no ADD was killed between claiming a block and writing its address');

  let out = '';
  const code = await runCnictl(
    [
      '--etcd',
      etcd.url,
      '--cell',
      'crash',
      '--kubeconfig',
      cell.kubeconfig,
      '--grace',
      '0',
      '-o',
      'json',
      'check',
    ],
    { env: {}, out: (t) => (out += t), err: (t) => (out += t) },
  );
  assert.equal(code, 3, out);
  const report = JSON.parse(out) as { leaks: { ip: string; reason: string }[] };
  assert.deepEqual(report.leaks.map((l) => l.ip).sort(), [...leaked].sort());
  assert.ok(report.leaks.every((l) => l.reason === 'stale-sandbox'));
});
