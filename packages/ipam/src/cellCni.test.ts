import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { useTestbed } from '@leengine/testbed';
import { leengineCellCni } from './cellCni.ts';
import { KubePodLister } from './cnictl/kubePodLister.ts';
import { checkLeaks } from './cnictl/leakCheck.ts';
import { Ipam } from './ipam.ts';
import { type AgentProcess, startAgentProcess } from './testing/agentProcess.ts';

const testbed = useTestbed();
const work = mkdtempSync(join(tmpdir(), 'leengine-ipam-cell-'));
let agent: AgentProcess | undefined;
after(async () => {
  await agent?.proc.stop();
  rmSync(work, { recursive: true, force: true });
});

function ready(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

test("a cell's real kubelet gives pods addresses through leengine-cni and its agent, and frees them", async () => {
  const [etcd, registry] = await Promise.all([testbed.etcd(), testbed.registry()]);
  agent = await startAgentProcess({ node: 'ipamnet-node', dir: work, logLevel: 'info' });
  const cni = leengineCellCni({
    etcdEndpoints: [etcd.url],
    binDir: join(work, 'cni-bin'),
    agentPort: agent.port,
    agentTokenFile: agent.tokenFile,
  });
  const cell = await testbed.cell({ name: 'ipamnet', etcd, registry, cni, timeoutMs: 120_000 });
  const subnet = cell.podSubnet?.cidr ?? '';
  const core = cell.kubeConfig().makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'web' } } });
  for (const name of ['httpbox-1', 'httpbox-2']) {
    await core.createNamespacedPod({
      namespace: 'web',
      body: {
        metadata: { name },
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
    });
  }
  let pods: V1Pod[] = [];
  for (const deadline = Date.now() + 120_000; ; await sleep(250)) {
    pods = (await core.listNamespacedPod({ namespace: 'web' })).items;
    if (pods.length === 2 && pods.every(ready)) break;
    assert.ok(Date.now() < deadline, `pods not ready: ${JSON.stringify(pods.map((p) => p.status))}`);
  }

  const client = etcd.client();
  const ipam = Ipam.create({ client, cell: 'ipamnet' });
  assert.deepEqual(
    (await ipam.listSegments()).map((s) => s.cidr),
    [subnet],
    "the cell's subnet is its segment",
  );
  for (const pod of pods) {
    const ip = pod.status?.podIP ?? '';
    const allocation = await ipam.getAllocation(ip);
    assert.ok(allocation, `${ip} of ${pod.metadata?.name} is in the IPAM`);
    assert.deepEqual(
      [allocation.value.namespace, allocation.value.pod, allocation.value.podUid, allocation.value.node],
      ['web', pod.metadata?.name, pod.metadata?.uid, 'ipamnet-node'],
    );
    // the kubelet's readiness probe already went host -> pod; the host answers too
    const body = await (await fetch(`http://${ip}:8080/`)).text();
    assert.equal(body.trim(), pod.metadata?.name);
  }
  const lister = KubePodLister.fromKubeconfig(cell.kubeconfig);
  assert.deepEqual((await checkLeaks(ipam, lister, { graceMs: 0 })).leaks, []);

  // deleting a pod makes the kubelet call DEL: the address goes back
  const gone = pods[0] as V1Pod;
  await core.deleteNamespacedPod({ namespace: 'web', name: gone.metadata?.name ?? '' });
  for (const deadline = Date.now() + 60_000; ; await sleep(250)) {
    if (!(await ipam.getAllocation(gone.status?.podIP ?? ''))) break;
    assert.ok(Date.now() < deadline, 'the address of the deleted pod is released');
  }
  assert.equal((await ipam.listAllocations()).items.length, 1);
  // The last pod too, before the cell stops: a stopped node leaves its pods' namespaces.
  await core.deleteNamespacedPod({ namespace: 'web', name: (pods[1] as V1Pod).metadata?.name ?? '' });
  for (const deadline = Date.now() + 60_000; ; await sleep(250)) {
    if ((await ipam.listAllocations()).items.length === 0) break;
    assert.ok(Date.now() < deadline, 'the address of the last pod is released');
  }
  const agentLog = agent.proc.tail(500);
  assert.match(agentLog, /"op":"ADD"/, 'the runtime reached the plugin through the agent');
  assert.match(agentLog, /"op":"DEL"/);
  assert.doesNotMatch(agentLog, /cni call failed/, agentLog);
  client.close();
});
