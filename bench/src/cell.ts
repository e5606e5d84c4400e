// bench/cell: warm cell start (to a Ready real node), Deployment -> 10 pods Ready on the
// real kubelet (the image already pulled by an uncounted round on that node), scheduling
// throughput with KWOK nodes, and (with --cold) the cold build of the Kubernetes binaries.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { type CellHandle, FAKE_NODE_TAINT, Testbed } from '@leengine/testbed';
import { figure, isQuick, quantile } from './stats.ts';

const quick = isQuick();
const root = join(import.meta.dirname, '..', '..');

if (process.argv.includes('--cold')) {
  // A cold build: empty Go build and module caches, a fresh output dir.
  const scratch = mkdtempSync(join(tmpdir(), 'leengine-kube-cold-'));
  const started = performance.now();
  const run = spawnSync('bash', [join(root, 'tools/kube/build.sh'), '--force'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      GOCACHE: join(scratch, 'gocache'),
      GOMODCACHE: join(scratch, 'gomod'),
      LEENGINE_CACHE: join(scratch, 'cache'),
    },
  });
  spawnSync('chmod', ['-R', 'u+w', scratch]);
  rmSync(scratch, { recursive: true, force: true });
  if (run.status !== 0) process.exit(1);
  figure('kube_build_cold', Math.round((performance.now() - started) / 1000), 's');
}

const testbed = new Testbed();
try {
  const [etcd, registry] = await Promise.all([testbed.etcd(), testbed.registry()]);
  // Warm-up: images pushed, binaries in the page cache.
  await (await testbed.cell({ name: 'warmup', etcd, registry })).stop();

  const starts: number[] = [];
  let cell: CellHandle | undefined;
  for (let i = 0; i < (quick ? 1 : 3); i++) {
    await cell?.stop();
    const t = performance.now();
    cell = await testbed.cell({ name: `warm-${i}`, etcd, registry });
    starts.push(performance.now() - t);
  }
  figure('cell_start_warm', Number((quantile(starts, 0.5) / 1000).toFixed(1)), 's');

  if (cell) {
    // Each cell's node has its own containerd: images pulled by other cells are not on
    // this one. An uncounted first round pulls httpbox and pause into it, so the measured
    // rounds start with the image present, as the pod-startup SLO assumes.
    await tenPodsReady(cell, 'bench-pull');
    const latencies: number[] = [];
    for (let round = 0; round < (quick ? 1 : 5); round++)
      latencies.push(...(await tenPodsReady(cell, `bench-${round}`)));
    figure('pods10_ready_p50', Math.round(quantile(latencies, 0.5)), 'ms');
    figure('pods10_ready_p99', Math.round(quantile(latencies, 0.99)), 'ms');
    await cell.stop();
  }

  const fake = await testbed.cell({ name: 'sched', etcd, nodes: 0, fakeNodes: quick ? 50 : 200 });
  figure('fake_sched_rate', Math.round(await scheduleRate(fake, quick ? 500 : 3000)), 'pods/s');
} finally {
  await testbed.stop();
}

/** A 10-replica Deployment in a new namespace; each pod's creation -> Ready latency (ms). */
async function tenPodsReady(cell: CellHandle, namespace: string): Promise<number[]> {
  const config = cell.kubeConfig();
  const core = config.makeApiClient(CoreV1Api);
  const apps = config.makeApiClient(AppsV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const created = Date.now();
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: 'ten' },
      spec: {
        replicas: 10,
        selector: { matchLabels: { app: 'ten' } },
        template: {
          metadata: { labels: { app: 'ten' } },
          spec: {
            terminationGracePeriodSeconds: 0,
            containers: [
              {
                name: 'httpbox',
                image: cell.images?.httpbox,
                readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 },
              },
            ],
          },
        },
      },
    },
  });
  const readyAt = new Map<string, number>();
  const deadline = Date.now() + 120_000;
  while (readyAt.size < 10 && Date.now() < deadline) {
    const pods = (await core.listNamespacedPod({ namespace })).items;
    for (const pod of pods) {
      const name = pod.metadata?.name ?? '';
      if (!readyAt.has(name) && ready(pod)) readyAt.set(name, Date.now());
    }
    await sleep(50);
  }
  if (readyAt.size < 10) throw new Error(`only ${readyAt.size}/10 pods Ready after 120 s`);
  await core.deleteNamespace({ name: namespace });
  return [...readyAt.values()].map((t) => t - created);
}

function ready(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Pods bound to fake nodes per second, from Deployment create to the last binding. */
async function scheduleRate(cell: CellHandle, pods: number): Promise<number> {
  const config = cell.kubeConfig();
  const core = config.makeApiClient(CoreV1Api);
  const started = performance.now();
  await config.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace: 'default',
    body: {
      metadata: { name: 'sched' },
      spec: {
        replicas: pods,
        selector: { matchLabels: { app: 'sched' } },
        template: {
          metadata: { labels: { app: 'sched' } },
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
  for (;;) {
    const list = (await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=sched' })).items;
    const bound = list.filter((p) => p.spec?.nodeName).length;
    if (bound >= pods) return pods / ((performance.now() - started) / 1000);
    if (Date.now() > deadline) throw new Error(`only ${bound}/${pods} pods scheduled in 600 s`);
    await sleep(200);
  }
}
