import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { Ipam } from '@leengine/ipam';
import { Etcd3 } from 'etcd3';
import pino from 'pino';
import { LocalRegion } from './localRegion.ts';

const stateDir = mkdtempSync(join(tmpdir(), 'leengine-region-net-'));
let region: LocalRegion | undefined;
after(async () => {
  await region?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

const env = { LEENGINE_PORT: '0', DATABASE_URL: '', LEENGINE_LOCAL_CELLS: '1' };
const start = () => LocalRegion.start({ stateDir, env, logger: pino({ level: 'silent' }) });

function ready(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

async function readyPod(core: CoreV1Api, name: string): Promise<V1Pod> {
  for (const deadline = Date.now() + 180_000; ; await sleep(250)) {
    const pod = await core.readNamespacedPod({ namespace: 'net', name }).catch(() => undefined);
    if (pod && ready(pod)) return pod;
    assert.ok(Date.now() < deadline, `pod not ready: ${JSON.stringify(pod?.status)}`);
  }
}

function httpbox(name: string, registryHost: string): V1Pod {
  return {
    metadata: { name },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'httpbox',
          image: `${registryHost}/leengine/httpbox:1`,
          ports: [{ containerPort: 8080 }],
          readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 },
        },
      ],
    },
  };
}

/** GET from the host; retried while the container of a new sandbox starts. */
async function httpText(url: string): Promise<string> {
  for (const deadline = Date.now() + 30_000; ; await sleep(250)) {
    try {
      return (await (await fetch(url, { signal: AbortSignal.timeout(2000) })).text()).trim();
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
  }
}

function inCidr(ip: string, cidr: string): boolean {
  const [base = '', prefix = '32'] = cidr.split('/');
  const n = (a: string) => a.split('.').reduce((v, o) => v * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(prefix));
  return Math.floor(n(ip) / size) === Math.floor(n(base) / size);
}

test("the local region's cells give pods addresses from their IPAM segment, the same segment after a restart", async () => {
  region = await start();
  const cell = region.endpoints.cells[0];
  assert.equal(cell?.name, 'local-1');
  const kc = new KubeConfig();
  kc.loadFromFile(cell.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'net' } } });
  const registryHost = new URL(region.endpoints.registry).host;
  await core.createNamespacedPod({ namespace: 'net', body: httpbox('httpbox', registryHost) });
  const pod = await readyPod(core, 'httpbox');
  const ip = pod.status?.podIP ?? '';

  let client = new Etcd3({ hosts: region.endpoints.etcd });
  try {
    let ipam = Ipam.create({ client, cell: 'local-1' });
    const segments = (await ipam.listSegments()).map((s) => s.cidr);
    assert.equal(segments.length, 1);
    const segment = segments[0] as string;
    assert.match(
      segment,
      /^10\.88\.\d+\.0\/24$/,
      'the segment is a local cell range (10.88/16, routed locally)',
    );
    assert.ok(inCidr(ip, segment), `${ip} is in ${segment}`);
    const allocation = await ipam.getAllocation(ip);
    assert.deepEqual(
      [allocation?.value.namespace, allocation?.value.pod, allocation?.value.node],
      ['net', 'httpbox', 'local-1-node'],
    );
    const usage = await ipam.usage();
    assert.deepEqual(
      usage.nodes.map((n) => [n.node, n.allocated]),
      [['local-1-node', 1]],
    );
    assert.equal(await httpText(`http://${ip}:8080/`), 'httpbox');

    // A restart: new processes, new apiserver port, the node's runtime from nothing.
    await region.stop();
    region = undefined;
    region = await start();
    const again = new KubeConfig();
    again.loadFromFile(region.endpoints.cells[0]?.kubeconfig ?? '');
    const core2 = again.makeApiClient(CoreV1Api);
    // etcd too listens on a new port.
    client.close();
    client = new Etcd3({ hosts: region.endpoints.etcd });
    ipam = Ipam.create({ client, cell: 'local-1' });
    // The kubelet of this run made a new sandbox for the pod: the previous run's
    // allocation was released before the kubelet started, so the new sandbox took the
    // lowest free address of the node's block again, the same.
    const before = allocation?.value.containerId;
    for (const deadline = Date.now() + 120_000; ; await sleep(250)) {
      const items = (await ipam.listAllocations()).items.map((a) => a.value);
      if (items.length === 1 && items[0]?.containerId !== before) {
        assert.deepEqual(
          [items[0]?.ip, items[0]?.namespace, items[0]?.pod],
          [ip, 'net', 'httpbox'],
          'the recreated pod has its address again',
        );
        break;
      }
      assert.ok(items.length <= 1, `one allocation, not ${JSON.stringify(items)}`);
      assert.ok(Date.now() < deadline, `the new sandbox holds the only allocation: ${JSON.stringify(items)}`);
    }
    assert.deepEqual(
      (await ipam.listSegments()).map((s) => s.cidr),
      [segment],
      'the same segment after the restart',
    );
    // The registry kept its port, so the pod's image reference still resolves: the pod of
    // the previous run runs again, on its address, and answers.
    assert.equal(new URL(region.endpoints.registry).host, registryHost, 'the registry kept its port');
    assert.equal((await readyPod(core2, 'httpbox')).status?.podIP, ip);
    assert.equal(await httpText(`http://${ip}:8080/`), 'httpbox');
    // A pod of this run answers from the host, with an address of the same segment.
    await core2.createNamespacedPod({ namespace: 'net', body: httpbox('httpbox-2', registryHost) });
    const pod2 = await readyPod(core2, 'httpbox-2');
    const ip2 = pod2.status?.podIP ?? '';
    assert.ok(inCidr(ip2, segment), `${ip2} is in ${segment}`);
    assert.notEqual(ip2, ip);
    assert.equal(await httpText(`http://${ip2}:8080/`), 'httpbox-2');
    assert.equal((await ipam.getAllocation(ip2))?.value.pod, 'httpbox-2');
  } finally {
    client.close();
  }
});
