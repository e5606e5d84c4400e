import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { type CellHandle, type EtcdHandle, useTestbed } from '@leengine/testbed';
import type { Etcd3 } from 'etcd3';
import { Ipam } from '../ipam.ts';
import { CNICTL } from '../testing/cniCall.ts';
import { runCnictl } from './cnictl.ts';
import { KubePodLister } from './kubePodLister.ts';
import { checkLeaks, verdict } from './leakCheck.ts';
import type { PodLister } from './podLister.ts';

const testbed = useTestbed();
let etcd: EtcdHandle;
let client: Etcd3;
let cell: CellHandle;
let core: CoreV1Api;
let lister: KubePodLister;

before(async () => {
  etcd = await testbed.etcd();
  client = etcd.client();
  cell = await testbed.cell({ name: 'ipamck', etcd, nodes: 0 });
  core = cell.kubeConfig().makeApiClient(CoreV1Api);
  // small pages, so the lists run through several continue tokens
  lister = KubePodLister.fromKubeconfig(cell.kubeconfig, { pageSize: 7 });
  for (const namespace of ['leak', 'race', 'rel'])
    await core.createNamespace({ body: { metadata: { name: namespace } } });
});
after(() => client?.close());

/** cnictl in-process against the test etcd and the cell's apiserver; returns exit code and output. */
async function cnictl(ipamCell: string, ...args: string[]) {
  let out = '';
  let err = '';
  const code = await runCnictl(
    ['--etcd', etcd.url, '--cell', ipamCell, '--kubeconfig', cell.kubeconfig, ...args],
    { env: {}, out: (t) => (out += t), err: (t) => (err += t) },
  );
  return { code, out, err, json: () => JSON.parse(out) as Record<string, unknown> };
}

async function createPod(namespace: string, name: string): Promise<V1Pod> {
  return core.createNamespacedPod({
    namespace,
    body: { metadata: { name }, spec: { containers: [{ name: 'c', image: 'pause' }] } },
  });
}

/** What the kubelet does once the sandbox has its address: the pod runs with that IP. */
async function markRunning(pod: V1Pod, ip: string): Promise<void> {
  const namespace = pod.metadata?.namespace as string;
  const name = pod.metadata?.name as string;
  const fresh = await core.readNamespacedPod({ namespace, name });
  await core.replaceNamespacedPodStatus({
    namespace,
    name,
    body: { ...fresh, status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] } },
  });
}

/** The allocation the plugin would make for the pod's sandbox (the CNI ADD's IPAM part). */
function allocateFor(ipam: Ipam, pod: V1Pod, containerId: string, node = 'node-a') {
  return ipam.allocate({
    attachment: { containerId, ifname: 'eth0' },
    pod: { namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid },
    node,
  });
}

test('the verdict: gone, replaced and stale-sandbox are leaks; a live pod, one starting, or a second interface are not', () => {
  const a = {
    ip: '10.0.0.5',
    block: '10.0.0.0/28',
    containerId: 'c1',
    ifname: 'eth0',
    namespace: 'n',
    pod: 'p',
    podUid: 'u1',
    node: 'x',
    createdAt: '2026-01-01T00:00:00Z',
  };
  const pod = { namespace: 'n', name: 'p', uid: 'u1', phase: 'Running', ips: ['10.0.0.5'], node: 'x' };
  assert.equal(verdict(a, undefined), 'pod-gone');
  assert.equal(verdict(a, { ...pod, uid: 'u2' }), 'pod-replaced');
  assert.equal(verdict(a, { ...pod, ips: ['10.0.0.6'] }), 'stale-sandbox');
  assert.equal(verdict(a, pod), undefined);
  assert.equal(verdict(a, { ...pod, phase: 'Pending', ips: [] }), undefined);
  assert.equal(verdict(a, { ...pod, phase: 'Pending', ips: ['10.0.0.6'] }), undefined);
  assert.equal(verdict({ ...a, ifname: 'net1' }, { ...pod, ips: ['10.0.0.6'] }), undefined);
  assert.equal(verdict({ ...a, podUid: undefined }, { ...pod, uid: 'u2' }), undefined);
});

describe('check, release and gc against a real apiserver', () => {
  const ipamCell = 'leaks';
  const ipam = () => Ipam.create({ client, cell: ipamCell });
  const expected = new Map<string, string>(); // leaked ip -> reason
  let live: string[] = [];
  let young = '';
  let ghostBlock = '';

  before(async () => {
    await ipam().addSegment({ cidr: '10.244.120.0/24' });
    const past = Ipam.create({ client, cell: ipamCell, now: () => new Date(Date.now() - 3600_000) });
    // a live pod
    const alive = await createPod('leak', 'alive');
    const aliveIp = (await allocateFor(past, alive, 'c-alive')).allocation.value.ip;
    // a pod deleted without DEL (node crash)
    const gone = await createPod('leak', 'gone');
    const goneIp = (await allocateFor(past, gone, 'c-gone')).allocation.value.ip;
    await core.deleteNamespacedPod({ namespace: 'leak', name: 'gone', gracePeriodSeconds: 0 });
    // a pod replaced by one of the same name (a StatefulSet pod, say)
    const old = await createPod('leak', 'same-name');
    const oldIp = (await allocateFor(past, old, 'c-old')).allocation.value.ip;
    await core.deleteNamespacedPod({ namespace: 'leak', name: 'same-name', gracePeriodSeconds: 0 });
    const renewed = await createPod('leak', 'same-name');
    const renewedIp = (await allocateFor(ipam(), renewed, 'c-renewed')).allocation.value.ip;
    // a pod whose first sandbox died with the runtime: the kubelet made a second one
    const restarted = await createPod('leak', 'restarted');
    const staleIp = (await allocateFor(past, restarted, 'c-sandbox-1')).allocation.value.ip;
    const currentIp = (await allocateFor(past, restarted, 'c-sandbox-2')).allocation.value.ip;
    await markRunning(restarted, currentIp);
    // a pod gone a moment ago: within the grace period
    const recent = await createPod('leak', 'recent');
    young = (await allocateFor(ipam(), recent, 'c-recent')).allocation.value.ip;
    await core.deleteNamespacedPod({ namespace: 'leak', name: 'recent', gracePeriodSeconds: 0 });
    // an address taken outside Kubernetes (no pod name): never judged
    await past.allocate({
      attachment: { containerId: 'manual', ifname: 'eth0' },
      pod: { namespace: '', name: '' },
      node: 'x',
    });

    // a node that went away after its last pod: an empty block of a node without pods
    await past.allocate({
      attachment: { containerId: 'ghost', ifname: 'eth0' },
      pod: { namespace: 'leak', name: 'ghost' },
      node: 'ghost',
    });
    await past.releaseAttachment({ containerId: 'ghost', ifname: 'eth0' });
    ghostBlock = (await past.listBlocks()).find((b) => b.node === 'ghost')?.cidr ?? '';

    expected.set(goneIp, 'pod-gone');
    expected.set(oldIp, 'pod-replaced');
    expected.set(staleIp, 'stale-sandbox');
    live = [aliveIp, renewedIp, currentIp];
  });

  test('check reports exactly the leaked addresses, with why, and exits 3', async () => {
    const result = await cnictl(ipamCell, 'check', '-o', 'json');
    assert.equal(result.code, 3, result.err);
    const report = result.json() as {
      leaks: { ip: string; reason: string }[];
      young: number;
      unattributed: number;
    };
    assert.deepEqual(
      new Map(report.leaks.map((l) => [l.ip, l.reason])),
      expected,
      `live pods' addresses: ${live.join(', ')}`,
    );
    assert.equal(report.young, 2, 'the renewed pod and the recent one are younger than the grace period');
    assert.equal(report.unattributed, 1);
    const text = await cnictl(ipamCell, 'check');
    assert.match(text.out, /IP +REASON +POD/);
    assert.match(text.out, /3 leaked/);
    // with no grace period the recently deleted pod's address counts too
    const noGrace = (await cnictl(ipamCell, 'check', '--grace', '0', '-o', 'json')).json() as {
      leaks: { ip: string }[];
    };
    assert.ok(noGrace.leaks.some((l) => l.ip === young));
    assert.ok(noGrace.leaks.every((l) => !live.includes(l.ip)));
  });

  test("release refuses a live pod's address; --dry-run changes nothing; a leaked address is freed", async () => {
    const refused = await cnictl(ipamCell, 'release', live[0] as string);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /belongs to pod leak\/alive .* which exists: not releasing/);
    const leaked = [...expected].find(([, reason]) => reason === 'pod-gone')?.[0] as string;
    const dry = await cnictl(ipamCell, 'release', leaked, '--dry-run');
    assert.equal(dry.code, 0, dry.err);
    assert.match(dry.out, /would release/);
    assert.ok(await ipam().getAllocation(leaked));
    const released = await cnictl(ipamCell, 'release', leaked);
    assert.equal(released.code, 0, released.err);
    assert.match(released.out, /released \S+ \(leak\/gone on node-a/);
    assert.equal(await ipam().getAllocation(leaked), undefined);
    expected.delete(leaked);
    const missing = await cnictl(ipamCell, 'release', leaked);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /not allocated/);
  });

  test('gc releases what check finds and empty blocks of nodes without pods; check is then clean', async () => {
    const dry = await cnictl(ipamCell, 'gc', '--dry-run', '-o', 'json');
    assert.equal((dry.json().released as string[]).length, 0);
    assert.equal((await ipam().listAllocations()).items.length, 7);
    const gc = await cnictl(ipamCell, 'gc', '-o', 'json');
    assert.equal(gc.code, 0, gc.err);
    assert.deepEqual(new Set(gc.json().released as string[]), new Set(expected.keys()));
    assert.deepEqual(gc.json().blocks, [ghostBlock], 'only the empty block of the gone node');
    assert.ok((await ipam().listBlocks()).every((b) => b.node !== 'ghost'));
    const after = await cnictl(ipamCell, 'check', '-o', 'json');
    assert.equal(after.code, 0, after.out);
    for (const ip of live) assert.ok(await ipam().getAllocation(ip), `${ip} kept`);
  });
});

describe('the leak check and pods being created while it runs', () => {
  test('a pod missing from the (old) pod list but present when read fresh is never reported', async () => {
    const ipam = Ipam.create({ client, cell: 'race1' });
    await ipam.addSegment({ cidr: '10.244.121.0/24' });
    // The list is a snapshot taken before these pods existed, as an informer cache or a
    // slow paginated list can be; the fresh read must clear them.
    const snapshot = await lister.listPods();
    const stale: PodLister = {
      listPods: async () => snapshot,
      getPod: (ns, name) => lister.getPod(ns, name),
    };
    for (let i = 0; i < 5; i++) await allocateFor(ipam, await createPod('race', `early-${i}`), `early-${i}`);
    const report = await checkLeaks(ipam, stale, { graceMs: 0 });
    assert.equal(report.allocations, 5);
    assert.equal(report.dismissed, 5, 'all five were candidates and all were cleared');
    assert.deepEqual(report.leaks, []);
  });

  test('checks running while pods are created never report one of them', async () => {
    const ipam = Ipam.create({ client, cell: 'race2' });
    await ipam.addSegment({ cidr: '10.244.122.0/24' });
    let creating = true;
    const creator = (async () => {
      try {
        // the kubelet's order: the pod object exists, then its sandbox gets an address
        for (let i = 0; i < 60; i++) {
          await allocateFor(ipam, await createPod('race', `pod-${i}`), `race-${i}`, `node-${i % 3}`);
        }
      } finally {
        creating = false;
      }
    })();
    let checks = 0;
    while (creating) {
      const report = await checkLeaks(ipam, lister, { graceMs: 0 });
      assert.deepEqual(report.leaks, [], `check ${checks} reported live pods`);
      checks++;
    }
    await creator;
    assert.ok(checks >= 3, `only ${checks} checks ran during the creation`);
    const final = await checkLeaks(ipam, lister, { graceMs: 0 });
    assert.equal(final.allocations, 60);
    assert.deepEqual(final.leaks, []);
  });
});

test('the cnictl executable manages segments and shows usage as a table and as JSON', async () => {
  const run = promisify(execFile);
  const base = ['--etcd', etcd.url, '--cell', 'exe'];
  await run(CNICTL, [
    ...base,
    'segment',
    'add',
    '10.244.123.0/24',
    '--vlan',
    '7',
    '--exclude',
    '10.244.123.2-10.244.123.9',
  ]);
  const ipam = Ipam.create({ client, cell: 'exe' });
  await ipam.allocate({
    attachment: { containerId: 'x', ifname: 'eth0' },
    pod: { namespace: 'a', name: 'b' },
    node: 'n1',
  });
  const list = await run(CNICTL, [...base, 'segment', 'list']);
  assert.match(
    list.stdout,
    /^CIDR +GATEWAY +VLAN +EXCLUDED +STATE +ADDED\n10\.244\.123\.0\/24 +10\.244\.123\.1 +7 +10\.244\.123\.2-10\.244\.123\.9 +active/,
  );
  const usage = JSON.parse((await run(CNICTL, [...base, 'usage', '-o', 'json'])).stdout) as {
    segments: { usable: number; allocated: number }[];
    nodes: { node: string; blocks: number }[];
  };
  assert.deepEqual(
    usage.segments.map((s) => [s.usable, s.allocated]),
    [[245, 1]],
  );
  assert.deepEqual(
    usage.nodes.map((n) => [n.node, n.blocks]),
    [['n1', 1]],
  );
  const removeBusy = await run(CNICTL, [...base, 'segment', 'remove', '10.244.123.0/24']).catch(
    (e: { code: number; stderr: string }) => e,
  );
  assert.equal((removeBusy as { code: number }).code, 1);
  assert.match((removeBusy as { stderr: string }).stderr, /still has 1 allocated/);
  const usageError = await run(CNICTL, ['segment', 'list']).catch((e: { code: number; stderr: string }) => e);
  assert.equal((usageError as { code: number }).code, 2);
});
