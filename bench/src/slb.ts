// bench/slb: the SLB's figures on real components (etcd, nginx + Lua, Kubernetes cells).
//   propagate_p50/p99        pod Ready (seen by a watch) -> the first request through nginx
//                            that the new pod answers (a 1,000 req/s keep-alive probe stream)
//   reload_N_domains         SIGHUP -> new workers serving, old ones no longer accepting
//   apply_N_domains          one domain's config change in etcd -> live in nginx (render,
//                            stage, nginx -t on the full config, swap, reload), agent-confirmed
//   lua_vs_static_rps_ratio  wrk through the Lua balancer vs a static upstream, same backends
//   failed_requests_during_upgrade  steady stream through nginx to a real cell's pods during
//                            a gray upgrade and a scale-down in the platform's order
//   discovery_rss_5000_pods  the discovery process's RSS with 5,000 KWOK pods on 500 fake nodes
// --quick: fewer rounds, smaller sizes (smoke run).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AppsV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  type KubeConfig,
  type V1Pod,
  Watch,
} from '@kubernetes/client-node';
import { Discovery, drainAndConfirm, removeDrain } from '@leengine/discovery';
import { deploymentManifest, namespaceManifest, serviceManifest } from '@leengine/kube';
import {
  type DomainConfig,
  DomainConfigSchema,
  renderDomain,
  SlbAgent,
  SlbStore,
  slbKeys,
} from '@leengine/slb';
import { startSlbNginx, steadyLoad } from '@leengine/slb/testing';
import { type CellHandle, type EtcdHandle, FAKE_NODE_TAINT, freePorts, Testbed } from '@leengine/testbed';
import type { Etcd3 } from 'etcd3';
import { pino } from 'pino';
import { figure, isQuick, quantile } from './stats.ts';

const quick = isQuick();
const log = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
const root = join(import.meta.dirname, '..', '..');
const testbed = new Testbed();
/** `--only reload,rps,cell,discovery` runs some sections (all by default). */
const only = process.argv
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const wanted = (section: string) => !only || only.includes(section);

function domainConfig(domain: string, group: string, application: string): DomainConfig {
  return DomainConfigSchema.parse({ domain, group, application });
}

try {
  const [etcd, registry] = await Promise.all([testbed.etcd(), testbed.registry()]);
  const client = etcd.client();

  if (wanted('reload')) await reloadAndApply(client, quick ? [100, 1000] : [100, 1000, 5000]);
  if (wanted('rps')) await luaVsStatic(client);
  if (wanted('cell')) {
    const cell = await testbed.cell({ name: 'slb-bench', etcd, registry });
    await propagationAndUpgrade(client, cell);
    await cell.stop();
  }
  if (wanted('discovery')) await discoveryAtScale(etcd, client);
  client.close();
} finally {
  await testbed.stop();
}

/** reload_N_domains and apply_N_domains for each size, in one group per size. */
async function reloadAndApply(client: Etcd3, sizes: number[]): Promise<void> {
  for (const size of sizes) {
    const group = `scale-${size}`;
    const store = SlbStore.create({ client });
    await store.putGroup({ name: group, description: '', hosts: ['slb-1'] });
    const nginx = await startSlbNginx(testbed, { group, settings: { reloadMinIntervalMs: 0 } });
    const agent = await SlbAgent.start({ settings: nginx.settings, client, log });
    // Write the domains in transactions of 100 (etcd's default limit is 128 operations).
    let revision = 0;
    for (let i = 0; i < size; i += 100) {
      const ops = [];
      for (let j = i; j < Math.min(size, i + 100); j++) {
        const d = domainConfig(`d${j}.scale.example.com`, group, `app${j % 50}`);
        ops.push(client.put(slbKeys.config(group, d.domain)).value(JSON.stringify(d)));
      }
      const result = await client
        .if(slbKeys.meta(group), 'Create', '>', 0)
        .then(...ops)
        .commit();
      revision = Number(result.header.revision);
    }
    await agent.waitForRevision(revision, 300_000);
    const reloads: number[] = [];
    const applies: number[] = [];
    for (let round = 0; round < (quick ? 2 : 5); round++) {
      const d = {
        ...domainConfig(`d0.scale.example.com`, group, 'app0'),
        proxy: { ...domainConfig('x.example.com', 'g', 'a').proxy, readTimeoutSeconds: 10 + round },
      };
      const started = performance.now();
      const rev = await store.updateDomain(d);
      await agent.waitForRevision(rev, 300_000);
      applies.push(performance.now() - started);
      reloads.push(agent.lastApply?.reloadMs ?? Number.NaN);
    }
    figure(`reload_${size}_domains`, Math.round(quantile(reloads, 0.5)), 'ms');
    figure(`apply_${size}_domains`, Math.round(quantile(applies, 0.5)), 'ms');
    await agent.stop();
    await nginx.stop();
  }
}

/** wrk through the Lua balancer and through a static upstream, same backends, alternating. */
async function luaVsStatic(client: Etcd3): Promise<void> {
  if (spawnSync('wrk', ['--version']).error) throw new Error('bench/slb needs wrk (apt-get install wrk)');
  const backendPorts = await freePorts(4);
  const backend = await testbed.nginx({ workerProcesses: 1 });
  await backend.configure({
    'backend.conf': backendPorts
      .map(
        (p) =>
          `server { listen 127.0.0.1:${p}; access_log off; keepalive_requests 100000; location / { return 200 "ok\\n"; } }`,
      )
      .join('\n'),
  });
  // The anchor: the same server block the agent renders, with a static upstream instead
  // of the Lua balancer (and no Lua metrics), in an nginx with the same worker count.
  const upstream = backendPorts.map((p) => `server 127.0.0.1:${p};`).join(' ');
  const staticNginx = await testbed.nginx({ workerProcesses: 1 });
  const server = renderDomain(domainConfig('rps.example.com', 'rps', 'rps'), {
    http: [`127.0.0.1:${staticNginx.port}`],
    https: [],
    certDir: '/nonexistent',
  })
    .replaceAll('http://leengine_dynamic', 'http://static_backends')
    .replace('server {', 'server {\n    access_log off;');
  await staticNginx.configure({
    'static.conf': `upstream static_backends { ${upstream} keepalive 256; }\n${server}`,
  });
  const store = SlbStore.create({ client });
  await store.putGroup({ name: 'rps', description: '', hosts: ['slb-1'] });
  const lua = await startSlbNginx(testbed, { group: 'rps', workerProcesses: 1 });
  const agent = await SlbAgent.start({ settings: lua.settings, client, log });
  await store.createDomain(domainConfig('rps.example.com', 'rps', 'rps'));
  await agent.waitForRevision(
    await store.putUpstreams(
      'rps',
      'rps.example.com',
      backendPorts.map((port) => ({ ip: '127.0.0.1', port, weight: 1, cell: 'local', version: 'v1' })),
    ),
  );
  const seconds = quick ? 2 : 5;
  const wrk = (port: number) => {
    const run = spawnSync(
      'wrk',
      ['-t1', '-c32', `-d${seconds}s`, '-H', 'Host: rps.example.com', `http://127.0.0.1:${port}/`],
      { encoding: 'utf8' },
    );
    const rps = /Requests\/sec:\s+([\d.]+)/.exec(run.stdout)?.[1];
    const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(run.stdout)?.[1];
    if (!rps || non2xx) throw new Error(`wrk failed: ${run.stdout}${run.stderr}`);
    return Number(rps);
  };
  wrk(staticNginx.port);
  wrk(lua.httpPort); // warm-up: keep-alive pools filled, Lua code compiled
  const ratios: number[] = [];
  const luaRps: number[] = [];
  const staticRps: number[] = [];
  for (let round = 0; round < (quick ? 1 : 3); round++) {
    const s = wrk(staticNginx.port);
    const l = wrk(lua.httpPort);
    staticRps.push(s);
    luaRps.push(l);
    ratios.push(l / s);
  }
  figure('lua_rps', Math.round(quantile(luaRps, 0.5)), 'req/s');
  figure('static_rps', Math.round(quantile(staticRps, 0.5)), 'req/s');
  figure('lua_vs_static_rps_ratio', Number(quantile(ratios, 0.5).toFixed(2)), 'x');
  await agent.stop();
  await Promise.all([lua.stop(), staticNginx.stop(), backend.stop()]);
}

/** propagate_p50/p99 and failed_requests_during_upgrade on a real cell. */
async function propagationAndUpgrade(client: Etcd3, cell: CellHandle): Promise<void> {
  const app = 'bench';
  const domain = 'bench.example.com';
  const kube = cell.kubeConfig();
  const core = kube.makeApiClient(CoreV1Api);
  const apps = kube.makeApiClient(AppsV1Api);
  const store = SlbStore.create({ client });
  await store.putGroup({ name: 'public', description: '', hosts: ['slb-1'] });
  await store.createDomain(domainConfig(domain, 'public', app));
  const nginx = await startSlbNginx(testbed, { group: 'public', workerProcesses: 1 });
  const agent = await SlbAgent.start({ settings: nginx.settings, client, log });
  await core.createNamespace({ body: namespaceManifest(app) });
  await core.createNamespacedService({ namespace: app, body: serviceManifest(app, 8080) });
  const discovery = Discovery.start({ client, cells: [{ name: cell.name, kubeConfig: kube }], log });
  const version = (name: string, replicas: number) =>
    deploymentManifest({
      application: app,
      version: name,
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

  // Ready -> routable through nginx, per pod, over rounds of 5 new pods: a steady probe
  // stream through nginx notes when each pod (httpbox answers its pod name) first answers.
  // Round robin reaches a new peer within one turn of the peers, so the figure may be
  // late by up to (peers / 1,000 req/s): 30 ms at the last round's 30 pods.
  const firstAnswer = new Map<string, number>();
  const stopProbe = new AbortController();
  const probe = steadyLoad({
    port: nginx.httpPort,
    host: domain,
    rate: 1000,
    total: Number.MAX_SAFE_INTEGER,
    maxInFlight: 16,
    signal: stopProbe.signal,
    onAnswer: (pod, at) => {
      if (!firstAnswer.has(pod)) firstAnswer.set(pod, at);
    },
  });
  const readyAt = new Map<string, { ip: string; at: number }>();
  const abort = await new Watch(kube).watch(
    `/api/v1/namespaces/${app}/pods`,
    {},
    (_phase: string, pod: V1Pod) => {
      const name = pod.metadata?.name ?? '';
      const ip = pod.status?.podIP;
      if (ip && !readyAt.has(name) && isReady(pod)) readyAt.set(name, { ip, at: performance.now() });
    },
    () => {},
  );
  const samples: number[] = [];
  await apps.createNamespacedDeployment({ namespace: app, body: version('v1', 0) });
  const rounds = quick ? 1 : 6;
  const seen = new Set<string>();
  for (let round = 1; round <= rounds; round++) {
    await apps.patchNamespacedDeploymentScale({
      name: 'v1',
      namespace: app,
      body: [{ op: 'replace', path: '/spec/replicas', value: round * 5 }],
    });
    const deadline = Date.now() + 120_000;
    while (seen.size < readyAt.size || readyAt.size < round * 5) {
      if (Date.now() > deadline) throw new Error('pods did not become Ready and routable in 120 s');
      for (const [name, { at }] of readyAt) {
        const answered = firstAnswer.get(name);
        if (!seen.has(name) && answered !== undefined) {
          seen.add(name);
          // A pod can answer before the watch sees it Ready (kubelet's status lags): 0.
          samples.push(Math.max(0, answered - at));
        }
      }
      await sleep(5);
    }
  }
  abort.abort();
  // Its answers before the first pod are 502s (no peer yet): nothing to count.
  stopProbe.abort();
  await probe;
  figure('propagate_p50', Math.round(quantile(samples, 0.5)), 'ms');
  figure('propagate_p99', Math.round(quantile(samples, 0.99)), 'ms');
  figure('propagate_samples', samples.length, 'pods');

  // Gray upgrade v1 -> v2 and a scale-down, under a steady stream through nginx.
  await apps.patchNamespacedDeploymentScale({
    name: 'v1',
    namespace: app,
    body: [{ op: 'replace', path: '/spec/replicas', value: 2 }],
  });
  await until(
    async () => (await readyPods(core, app, 'v1')).length === 2 && (await podCount(core, app, 'v1')) === 2,
  );
  const total = quick ? 4000 : 20_000;
  const load = steadyLoad({
    port: nginx.httpPort,
    host: domain,
    rate: quick ? 400 : 500,
    total,
    maxInFlight: 32,
  });
  await sleep(1000);
  await apps.createNamespacedDeployment({ namespace: app, body: version('v2', 3) });
  await until(async () => {
    const ready = await readyPods(core, app, 'v2');
    const current = (await store.getUpstreams('public', domain))?.value ?? [];
    return ready.length === 3 && ready.every((p) => current.some((u) => u.pod === p));
  });
  await drainAndConfirm({ client, application: app, versions: ['v1'] });
  await apps.deleteNamespacedDeployment({ name: 'v1', namespace: app });
  await until(async () => (await podCount(core, app, 'v1')) === 0);
  await removeDrain(client, app, { versions: ['v1'] });
  const victim = (await readyPods(core, app, 'v2'))[0] ?? '';
  await core.patchNamespacedPod({
    name: victim,
    namespace: app,
    body: [
      {
        op: 'add',
        path: '/metadata/annotations',
        value: { 'controller.kubernetes.io/pod-deletion-cost': '-1000' },
      },
    ],
  });
  await drainAndConfirm({ client, application: app, pods: [victim] });
  await apps.patchNamespacedDeploymentScale({
    name: 'v2',
    namespace: app,
    body: [{ op: 'replace', path: '/spec/replicas', value: 2 }],
  });
  const result = await load;
  figure('failed_requests_during_upgrade', result.failed, 'requests');
  figure('upgrade_requests_sent', result.sent, 'requests');
  if (result.failed > 0) process.stderr.write(`failures: ${JSON.stringify(result.failures)}\n`);
  await discovery.stop();
  await agent.stop();
  await nginx.stop();
}

/** discovery_rss_5000_pods: the discovery executable against a KWOK cell. */
async function discoveryAtScale(etcd: EtcdHandle, client: Etcd3): Promise<void> {
  const pods = quick ? 500 : 5000;
  const cell = await testbed.cell({ name: 'slb-scale', etcd, nodes: 0, fakeNodes: quick ? 50 : 500 });
  const etcdUrl = etcd.url;
  const app = 'fleet';
  const domain = 'fleet.example.com';
  const kube: KubeConfig = cell.kubeConfig();
  const core = kube.makeApiClient(CoreV1Api);
  const store = SlbStore.create({ client });
  await store.putGroup({ name: 'fleet', description: '', hosts: [] });
  await store.createDomain(domainConfig(domain, 'fleet', app));
  await core.createNamespace({ body: namespaceManifest(app) });
  await core.createNamespacedService({ namespace: app, body: serviceManifest(app, 8080) });
  const manifest = deploymentManifest({
    application: app,
    version: 'v1',
    image: 'fake',
    replicas: pods,
    port: 8080,
    cpu: { requestMillis: 1, limitMillis: 10 },
    memory: { requestMiB: 1, limitMiB: 8 },
    env: [],
  });
  const spec = manifest.spec?.template.spec;
  if (spec) {
    spec.nodeSelector = { type: 'kwok' };
    spec.tolerations = [{ key: FAKE_NODE_TAINT.key, operator: 'Exists', effect: 'NoSchedule' }];
  }
  const kubeconfigFile = join(cell.dir, 'discovery.kubeconfig');
  writeFileSync(kubeconfigFile, readFileSync(cell.kubeconfig));
  const child = spawn(
    process.execPath,
    [
      join(root, 'packages/discovery/src/main.ts'),
      '--etcd',
      etcdUrl,
      '--cell',
      `${cell.name}=${kubeconfigFile}`,
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  try {
    const rssMb = () =>
      Math.round(
        Number(
          /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? Number.NaN,
        ) / 1024,
      );
    await sleep(3000);
    figure('discovery_rss_idle', rssMb(), 'MB');
    const created = performance.now();
    await kube.makeApiClient(AppsV1Api).createNamespacedDeployment({ namespace: app, body: manifest });
    // Memory: once every pod exists with its address and every slice lists it (Ready or
    // not: discovery holds both), and discovery had a few seconds to take the last events.
    await until(async () => {
      const list = await kube.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({ namespace: app });
      return list.items.reduce((n, slice) => n + (slice.endpoints?.length ?? 0), 0) >= pods;
    }, 900_000);
    await sleep(5000);
    figure(quick ? 'discovery_rss_500_pods' : 'discovery_rss_5000_pods', rssMb(), 'MB');
    // Propagation at scale: every pod Ready -> all of them in the domain's upstreams.
    // Cells with fake nodes give them a 5 min node grace (docs/cells.md) so a loaded
    // KWOK's late heartbeats do not make the pods not Ready; measured only if they are.
    let allReadyAt = 0;
    const deadline = Date.now() + 300_000;
    while (Date.now() < deadline) {
      if ((await readyPods(core, app, 'v1')).length >= pods) {
        allReadyAt = performance.now();
        break;
      }
      await sleep(1000);
    }
    if (!allReadyAt) {
      process.stderr.write(`bench/slb: the ${pods} KWOK pods did not all become Ready; no sync figure\n`);
      return;
    }
    await until(
      async () => ((await store.getUpstreams('fleet', domain))?.value.length ?? 0) >= pods,
      300_000,
    );
    figure(
      quick ? 'discovery_sync_500_pods' : 'discovery_sync_5000_pods',
      Math.round(performance.now() - allReadyAt),
      'ms',
    );
    figure('fleet_ready_s', Math.round((allReadyAt - created) / 1000), 's');
  } finally {
    child.kill('SIGTERM');
    await cell.stop();
  }
}

function isReady(pod: V1Pod): boolean {
  return (
    !pod.metadata?.deletionTimestamp &&
    (pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false)
  );
}

async function readyPods(core: CoreV1Api, namespace: string, version: string): Promise<string[]> {
  const list = await core.listNamespacedPod({ namespace, labelSelector: `leengine.io/version=${version}` });
  return list.items.filter(isReady).map((p) => p.metadata?.name ?? '');
}

async function podCount(core: CoreV1Api, namespace: string, version: string): Promise<number> {
  return (await core.listNamespacedPod({ namespace, labelSelector: `leengine.io/version=${version}` })).items
    .length;
}

async function until(probe: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('bench/slb: timed out');
    await sleep(100);
  }
}
