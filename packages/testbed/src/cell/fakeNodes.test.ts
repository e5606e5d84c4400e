import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { useTestbed } from '../nodeTest.ts';
import { FAKE_NODE_TAINT } from './fakeNodes.ts';

const testbed = useTestbed();

test('a cell with 500 KWOK nodes schedules 5,000 pods, all Running and Ready', async () => {
  const etcd = await testbed.etcd();
  const cell = await testbed.cell({ name: 'scale', etcd, nodes: 0, fakeNodes: 500, timeoutMs: 180_000 });
  assert.equal(cell.fakeNodes.length, 500);
  const config = cell.kubeConfig();
  const core = config.makeApiClient(CoreV1Api);
  const nodes = await core.listNode({ labelSelector: 'type=kwok' });
  assert.equal(nodes.items.length, 500);
  assert.ok(nodes.items.every((n) => n.spec?.taints?.some((t) => t.key === FAKE_NODE_TAINT.key)));

  await config.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace: 'default',
    body: {
      metadata: { name: 'many' },
      spec: {
        replicas: 5000,
        selector: { matchLabels: { app: 'many' } },
        template: {
          metadata: { labels: { app: 'many' } },
          spec: {
            nodeSelector: { type: 'kwok' },
            tolerations: [{ key: FAKE_NODE_TAINT.key, operator: 'Exists', effect: 'NoSchedule' }],
            containers: [{ name: 'app', image: 'fake' }],
          },
        },
      },
    },
  });

  const deadline = Date.now() + 600_000;
  let running = 0;
  let ips = new Set<string>();
  while (Date.now() < deadline) {
    const pods = (await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=many' })).items;
    // Ready too: it goes False if the node controller gives up on a fake node's heartbeats.
    const runningPods = pods.filter(
      (p) =>
        p.status?.phase === 'Running' &&
        p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    );
    running = runningPods.length;
    ips = new Set(runningPods.map((p) => p.status?.podIP ?? ''));
    if (running === 5000) break;
    await sleep(2000);
  }
  assert.equal(running, 5000, 'all 5,000 pods Running and Ready');
  assert.equal(ips.size, 5000, 'every pod has its own IP');
  assert.ok(
    [...ips].every((ip) => ip.startsWith('10.11') || ip.startsWith('10.12')),
    'pod IPs in the fake range',
  );
});
