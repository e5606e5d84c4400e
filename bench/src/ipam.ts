// bench/ipam: a full CNI ADD (process start, address from etcd, veth + bridge + address
// + route in a fresh netns) through leengine-cni, side by side in the same run with
// Debian's reference chain doing the same job (bridge + host-local); the plugin run
// directly (no agent) and through a Node thin client, for the design record; the
// allocation rate of 100 simulated nodes; and `cnictl check` over 10,000 pods.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { checkLeaks, Ipam } from '@leengine/ipam';
import { CNICTL, callPlugin, NetFixture, startAgentProcess } from '@leengine/ipam/testing';
import { Testbed } from '@leengine/testbed';
import { figure, isQuick, quantile, timed } from './stats.ts';

const quick = isQuick();
const ROUNDS = quick ? 15 : 200;
const DIRECT_ROUNDS = quick ? 3 : 30;
const THIN_ROUNDS = quick ? 5 : 60;
const CHECK_PODS = quick ? 1_000 : 10_000;
const root = resolve(import.meta.dirname, '../..');
const node = join(root, 'node_modules/.bin/node');

const testbed = new Testbed();
const work = mkdtempSync(join(tmpdir(), 'leengine-bench-ipam-'));
const net = NetFixture.create('bench', ['10.244.160.0/20', '10.244.176.0/20', '10.246.0.0/16']);
try {
  const etcd = await testbed.etcd();
  const client = etcd.client();
  await Ipam.create({ client, cell: 'bench' }).addSegment({ cidr: '10.244.160.0/20' });
  const agent = await startAgentProcess({ node: 'bench-node', dir: work });

  const leengine = {
    cniVersion: '1.0.0',
    name: 'leengine',
    type: 'leengine-cni',
    cell: 'bench',
    nodeName: 'bench-node',
    etcd: { endpoints: [etcd.url] },
    bridge: net.bridge('l'),
    gatewayOnBridge: true,
    agentPort: agent.port,
    agentTokenFile: agent.tokenFile,
  };
  const reference = {
    cniVersion: '1.0.0',
    name: 'reference',
    type: 'bridge',
    bridge: net.bridge('r'),
    isGateway: true,
    ipam: {
      type: 'host-local',
      ranges: [[{ subnet: '10.244.176.0/20' }]],
      dataDir: join(work, 'host-local'),
    },
  };

  /** One timed ADD into a fresh netns, then (untimed) DEL and the netns removed. */
  async function timedAdd(run: (netns: string, id: string) => Promise<number>, id: string): Promise<number> {
    const netns = net.netns();
    try {
      return await run(netns, id);
    } finally {
      net.deleteNetns(netns);
    }
  }
  const viaWrapper =
    (config: Record<string, unknown>, plugin?: string) => async (netns: string, id: string) => {
      let code: number | null = null;
      let out = '';
      const ms = await timed(async () => {
        const r = await callPlugin({
          command: 'ADD',
          containerId: id,
          netns,
          config,
          ...(plugin ? { plugin } : {}),
        });
        code = r.code;
        out = r.stdout;
      });
      if (code !== 0) throw new Error(`ADD ${id} failed: ${out}`);
      await callPlugin({ command: 'DEL', containerId: id, netns, config, ...(plugin ? { plugin } : {}) });
      return ms;
    };
  const refAdd = viaWrapper(reference, '/usr/lib/cni/bridge');
  const ourAdd = viaWrapper(leengine);
  const directAdd = viaWrapper({ ...leengine, agentPort: undefined });
  const thinAdd = async (netns: string, id: string) => {
    const ms = await timed(() =>
      runThinClient(agent.port, readFileSync(agent.tokenFile, 'utf8').trim(), netns, id, leengine),
    );
    await callPlugin({ command: 'DEL', containerId: id, netns, config: leengine });
    return ms;
  };

  // Warm-up: page cache, the agent's etcd connection, Node's compile cache.
  for (let i = 0; i < 5; i++) {
    await timedAdd(ourAdd, `warm-l-${i}`);
    await timedAdd(refAdd, `warm-r-${i}`);
  }
  await timedAdd(directAdd, 'warm-d');
  await timedAdd(thinAdd, 'warm-t');

  const ours: number[] = [];
  const refs: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    // alternate which goes first, so both see the same noise
    if (i % 2) {
      ours.push(await timedAdd(ourAdd, `l-${i}`));
      refs.push(await timedAdd(refAdd, `r-${i}`));
    } else {
      refs.push(await timedAdd(refAdd, `r-${i}`));
      ours.push(await timedAdd(ourAdd, `l-${i}`));
    }
  }
  const direct: number[] = [];
  for (let i = 0; i < DIRECT_ROUNDS; i++) direct.push(await timedAdd(directAdd, `d-${i}`));
  const thin: number[] = [];
  for (let i = 0; i < THIN_ROUNDS; i++) thin.push(await timedAdd(thinAdd, `t-${i}`));
  await agent.proc.stop();

  const ms = (v: number) => Math.round(v * 10) / 10;
  figure('add_p50', ms(quantile(ours, 0.5)), 'ms');
  figure('add_p99', ms(quantile(ours, 0.99)), 'ms');
  figure('ref_add_p50', ms(quantile(refs, 0.5)), 'ms');
  figure('ref_add_p99', ms(quantile(refs, 0.99)), 'ms');
  figure('add_vs_ref_p99_ratio', Math.round((quantile(ours, 0.99) / quantile(refs, 0.99)) * 100) / 100, 'x');
  figure('direct_add_p50', ms(quantile(direct, 0.5)), 'ms');
  figure('direct_add_p99', ms(quantile(direct, 0.99)), 'ms');
  figure('node_thin_add_p50', ms(quantile(thin, 0.5)), 'ms');
  figure('node_thin_add_p99', ms(quantile(thin, 0.99)), 'ms');

  figure('alloc_rate', Math.round(await allocRate(etcd.url)), 'allocs/s');

  const { wall, inProcess } = await checkTime(testbed, etcd, client);
  figure(quick ? 'check_1k_pods' : 'check_10k_pods', Math.round(wall), 'ms');
  figure(quick ? 'check_1k_pods_inproc' : 'check_10k_pods_inproc', Math.round(inProcess), 'ms');
  client.close();
} finally {
  await testbed.stop();
  net.cleanup();
  rmSync(work, { recursive: true, force: true });
}

/** A thin client written in Node: what the wrapper would cost if it started Node to reach the agent. */
function runThinClient(
  port: number,
  token: string,
  netns: string,
  id: string,
  config: unknown,
): Promise<void> {
  const script = `
    const http = require('node:http');
    const body = process.argv[2];
    const req = http.request({ host: '127.0.0.1', port: Number(process.argv[1]), path: '/cni', method: 'POST',
      headers: { 'x-leengine-token': process.argv[5], 'x-cni-command': 'ADD', 'x-cni-containerid': process.argv[3],
      'x-cni-netns': process.argv[4], 'x-cni-ifname': 'eth0', 'x-cni-path': '/usr/lib/cni' } }, (res) => {
      res.pipe(process.stdout); res.on('end', () => process.exit(res.statusCode === 200 ? 0 : 1)); });
    req.end(body);`;
  return new Promise((done, fail) => {
    const child = spawn(node, ['-e', script, String(port), JSON.stringify(config), id, netns, token], {
      stdio: 'ignore',
    });
    child.on('error', fail);
    child.on('close', (code) =>
      code === 0 ? done() : fail(new Error(`thin client ADD ${id} exited ${code}`)),
    );
  });
}

/** Allocations per second: 100 simulated nodes in 4 processes, 20 ADDs each, started together. */
async function allocRate(etcdUrl: string): Promise<number> {
  const cell = 'rate';
  const { Etcd3 } = await import('etcd3');
  const admin = new Etcd3({ hosts: etcdUrl });
  const ipam = Ipam.create({ client: admin, cell });
  for (let i = 0; i < 4; i++) await ipam.addSegment({ cidr: `10.246.${i * 4}.0/22` });
  admin.close();
  const worker = join(root, 'packages/ipam/src/testing/allocWorker.ts');
  const nodes = Array.from({ length: 100 }, (_, i) => `rate-${i}`);
  const children = [0, 1, 2, 3].map((p) =>
    spawn(node, [worker, etcdUrl, cell, 'r', '20', '1', ...nodes.filter((_, i) => i % 4 === p)], {
      env: { ...process.env, ALLOC_WORKER_BARRIER: '1' },
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  );
  const lines = children.map((child) => {
    const seen: string[] = [];
    let buffer = '';
    const waiters: { word: string; resolve: () => void }[] = [];
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buffer += d;
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      for (const line of parts) {
        seen.push(line);
        for (const w of waiters.filter((x) => x.word === line)) w.resolve();
      }
    });
    return {
      seen,
      until: (word: string) =>
        seen.includes(word)
          ? Promise.resolve()
          : new Promise<void>((r) => waiters.push({ word, resolve: r })),
    };
  });
  await Promise.all(lines.map((l) => l.until('ready')));
  const started = performance.now();
  for (const child of children) child.stdin.write('go\n');
  await Promise.all(lines.map((l) => l.until('done')));
  const seconds = (performance.now() - started) / 1000;
  const failed = lines.flatMap((l) => l.seen.filter((s) => s.includes('"error"')));
  if (failed.length > 0) throw new Error(`alloc_rate: ${failed.length} ADDs failed: ${failed[0]}`);
  return 2000 / seconds;
}

/**
 * `cnictl check` over CHECK_PODS pods of a real apiserver (control plane only: the pods
 * are objects, Pending) with an allocation each, plus 1% allocations whose pod is gone.
 */
async function checkTime(
  bed: Testbed,
  etcd: Awaited<ReturnType<Testbed['etcd']>>,
  client: ReturnType<Awaited<ReturnType<Testbed['etcd']>>['client']>,
): Promise<{ wall: number; inProcess: number }> {
  const cell = await bed.cell({ name: 'ipambench', etcd, nodes: 0, timeoutMs: 120_000 });
  const core = cell.kubeConfig().makeApiClient(CoreV1Api);
  const namespaces = Array.from({ length: 10 }, (_, i) => `app-${i}`);
  for (const namespace of namespaces) await core.createNamespace({ body: { metadata: { name: namespace } } });
  // allocations made an hour ago: past the grace period, so every one is judged
  const ipam = Ipam.create({ client, cell: 'checkbench', now: () => new Date(Date.now() - 3_600_000) });
  await ipam.addSegment({ cidr: '10.246.64.0/18' });
  let next = 0;
  const make = async () => {
    while (next < CHECK_PODS) {
      const i = next++;
      const namespace = namespaces[i % namespaces.length] as string;
      const pod = await core.createNamespacedPod({
        namespace,
        body: { metadata: { name: `pod-${i}` }, spec: { containers: [{ name: 'c', image: 'pause' }] } },
      });
      await ipam.allocate({
        attachment: { containerId: `c-${i}`, ifname: 'eth0' },
        pod: { namespace, name: `pod-${i}`, uid: pod.metadata?.uid },
        node: `node-${i % 100}`,
      });
    }
  };
  await Promise.all(Array.from({ length: 32 }, make));
  const leaked = CHECK_PODS / 100;
  for (let i = 0; i < leaked; i++) {
    await ipam.allocate({
      attachment: { containerId: `gone-${i}`, ifname: 'eth0' },
      pod: { namespace: 'app-0', name: `gone-${i}`, uid: `uid-gone-${i}` },
      node: 'node-0',
    });
  }
  const args = [
    '--etcd',
    etcd.url,
    '--cell',
    'checkbench',
    '--kubeconfig',
    cell.kubeconfig,
    '-o',
    'json',
    'check',
  ];
  const walls: number[] = [];
  for (let i = 0; i < (quick ? 1 : 3); i++) {
    let reported = -1;
    walls.push(
      await timed(async () => {
        const out = await runCnictl(args);
        reported = (JSON.parse(out) as { leaks: unknown[] }).leaks.length;
      }),
    );
    if (reported !== leaked) throw new Error(`check reported ${reported} leaks, expected ${leaked}`);
  }
  const { KubePodLister } = await import('@leengine/ipam/kube');
  const lister = KubePodLister.fromKubeconfig(cell.kubeconfig);
  const view = Ipam.create({ client, cell: 'checkbench' });
  const inProcess: number[] = [];
  for (let i = 0; i < (quick ? 1 : 3); i++) {
    inProcess.push(await timed(() => checkLeaks(view, lister, { graceMs: 600_000 })));
  }
  return { wall: quantile(walls, 0.5), inProcess: quantile(inProcess, 0.5) };
}

function runCnictl(args: string[]): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(CNICTL, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.on('error', fail);
    child.on('close', (code) =>
      code === 0 || code === 3 ? done(out) : fail(new Error(`cnictl exited ${code}`)),
    );
  });
}
