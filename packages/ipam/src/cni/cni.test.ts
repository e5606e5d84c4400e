import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type EtcdHandle, useTestbed } from '@leengine/testbed';
import type { Etcd3 } from 'etcd3';
import { Ipam } from '../ipam.ts';
import { type AgentProcess, startAgentProcess } from '../testing/agentProcess.ts';
import { callPlugin, resultIp } from '../testing/cniCall.ts';
import { inNetns, NetFixture } from '../testing/netFixture.ts';
import { hostVethName, linkExists, linkMaster } from './podNetwork.ts';

const testbed = useTestbed();
// 10.244.101.0/24 for the direct plugin, .102 behind the agent, .103 for error cases,
// .104 for a VLAN segment, .105 for GC.
const net = NetFixture.create('cni', [
  '10.244.101.0/24',
  '10.244.102.0/24',
  '10.244.103.0/24',
  '10.244.104.0/24',
  '10.244.105.0/24',
]);
let etcd: EtcdHandle;
let client: Etcd3;
let agent: AgentProcess | undefined;
const workDir = mkdtempSync(join(tmpdir(), 'leengine-ipam-cni-'));

before(async () => {
  etcd = await testbed.etcd();
  client = etcd.client();
  await Ipam.create({ client, cell: 'direct' }).addSegment({ cidr: '10.244.101.0/24' });
  await Ipam.create({ client, cell: 'agent' }).addSegment({ cidr: '10.244.102.0/24' });
  await Ipam.create({ client, cell: 'errors' }).addSegment({ cidr: '10.244.103.0/24' });
  await Ipam.create({ client, cell: 'vlan' }).addSegment({ cidr: '10.244.104.0/24', vlan: 104 });
  await Ipam.create({ client, cell: 'gc' }).addSegment({ cidr: '10.244.105.0/24' });
  agent = await startAgent();
});

after(async () => {
  await agent?.proc.stop();
  client?.close();
  net.cleanup();
  rmSync(workDir, { recursive: true, force: true });
});

function startAgent(): Promise<AgentProcess> {
  return startAgentProcess({ node: 'node-a', dir: workDir });
}

const bridges = {
  direct: net.bridge('d'),
  agent: net.bridge('a'),
  errors: net.bridge('e'),
  vlan: net.bridge('v'),
  gc: net.bridge('g'),
};

function config(mode: keyof typeof bridges, extra: Record<string, unknown> = {}) {
  return {
    cniVersion: '1.0.0',
    name: 'leengine',
    type: 'leengine-cni',
    cell: mode,
    nodeName: 'node-a',
    etcd: { endpoints: [etcd.url] },
    bridge: bridges[mode],
    gatewayOnBridge: true,
    ...(mode === 'direct' || mode === 'errors'
      ? {}
      : { agentPort: agent?.port, agentTokenFile: agent?.tokenFile }),
    ...extra,
  };
}

function ping(from: string | undefined, ip: string): boolean {
  const argv = ['busybox', 'ping', '-c', '1', '-W', '2', ip];
  const r = from ? inNetns(from, argv) : spawnSync(argv[0] as string, argv.slice(1), { timeout: 20_000 });
  return r.status === 0;
}

/** busybox httpd in a namespace, serving one file. */
function serveHttp(netns: string, body: string): ChildProcess {
  const dir = mkdtempSync(join(workDir, 'www-'));
  writeFileSync(join(dir, 'index.html'), body);
  return spawn('nsenter', [`--net=${netns}`, 'busybox', 'httpd', '-f', '-p', '8080', '-h', dir], {
    stdio: 'ignore',
  });
}

function httpGet(from: string | undefined, url: string): string {
  const argv = ['curl', '-s', '-m', '5', url];
  const r = from
    ? inNetns(from, argv)
    : spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', timeout: 20_000 });
  return String(r.stdout);
}

async function retry<T>(fn: () => T, ok: (v: T) => boolean, attempts = 50): Promise<T> {
  let value = fn();
  for (let i = 0; i < attempts && !ok(value); i++) {
    await new Promise((r) => setTimeout(r, 100));
    value = fn();
  }
  return value;
}

for (const mode of ['direct', 'agent'] as const) {
  describe(`the plugin (${mode})`, () => {
    test('ADD gives eth0 its address and route; host, pods and HTTP reach it; CHECK passes; DEL removes all', async () => {
      const [a, b] = [net.netns(), net.netns()];
      const addA = await callPlugin({
        command: 'ADD',
        containerId: `${mode}-a`,
        netns: a,
        args: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=web;K8S_POD_NAME=web-a;K8S_POD_UID=uid-a',
        config: config(mode),
      });
      assert.equal(addA.code, 0, addA.stdout + addA.stderr);
      const addB = await callPlugin({
        command: 'ADD',
        containerId: `${mode}-b`,
        netns: b,
        config: config(mode),
      });
      assert.equal(addB.code, 0, addB.stdout + addB.stderr);
      const [ipA, ipB] = [resultIp(addA), resultIp(addB)];
      const prefix = mode === 'direct' ? '10.244.101.' : '10.244.102.';
      assert.ok(ipA.startsWith(prefix) && ipB.startsWith(prefix), `${ipA} ${ipB}`);
      assert.notEqual(ipA, ipB);

      // the result as the spec shapes it
      const result = addA.json as {
        cniVersion: string;
        interfaces: { name: string; mac: string; sandbox?: string }[];
        ips: { address: string; gateway: string; interface: number }[];
        routes: { dst: string; gw: string }[];
      };
      assert.equal(result.cniVersion, '1.0.0');
      const hostVeth = hostVethName(`${mode}-a`, 'eth0');
      assert.deepEqual(
        result.interfaces.map((i) => [i.name, i.sandbox]),
        [
          [bridges[mode], undefined],
          [hostVeth, undefined],
          ['eth0', a],
        ],
      );
      assert.equal(result.ips[0]?.interface, 2);
      assert.equal(result.ips[0]?.address, `${ipA}/24`);
      assert.equal(result.ips[0]?.gateway, `${prefix}1`);
      assert.deepEqual(result.routes, [{ dst: '0.0.0.0/0', gw: `${prefix}1` }]);

      // the kernel's view
      const link = JSON.parse(inNetns(a, ['ip', '-j', 'addr', 'show', 'dev', 'eth0']).stdout) as {
        address: string;
        operstate: string;
        addr_info: { family: string; local: string; prefixlen: number }[];
      }[];
      assert.equal(link[0]?.address, result.interfaces[2]?.mac);
      assert.ok(link[0]?.addr_info.some((x) => x.family === 'inet' && x.local === ipA && x.prefixlen === 24));
      assert.match(
        inNetns(a, ['ip', 'route', 'show', 'default']).stdout,
        new RegExp(`default via ${prefix}1 dev eth0`),
      );
      assert.equal(linkMaster(hostVeth), bridges[mode]);

      // host <-> pod, pod <-> pod, HTTP
      assert.ok(await retry(() => ping(undefined, ipA), Boolean), 'host -> pod a');
      assert.ok(ping(a, ipB), 'pod a -> pod b');
      assert.ok(ping(b, `${prefix}1`), 'pod b -> gateway (host)');
      const server = serveHttp(a, `hello from ${mode}-a\n`);
      try {
        const fromPod = await retry(
          () => httpGet(b, `http://${ipA}:8080/index.html`),
          (s) => s.includes('hello'),
        );
        assert.equal(fromPod, `hello from ${mode}-a\n`);
        assert.equal(httpGet(undefined, `http://${ipA}:8080/index.html`), `hello from ${mode}-a\n`);
      } finally {
        server.kill();
      }

      const checked = await callPlugin({
        command: 'CHECK',
        containerId: `${mode}-a`,
        netns: a,
        config: { ...config(mode), prevResult: addA.json },
      });
      assert.equal(checked.code, 0, checked.stdout + checked.stderr);

      const ipam = Ipam.create({ client, cell: mode });
      const stored = await ipam.getAllocation(ipA);
      assert.deepEqual(
        [stored?.value.namespace, stored?.value.pod, stored?.value.podUid, stored?.value.node],
        ['web', 'web-a', 'uid-a', 'node-a'],
      );

      const del = await callPlugin({
        command: 'DEL',
        containerId: `${mode}-a`,
        netns: a,
        config: config(mode),
      });
      assert.equal(del.code, 0, del.stdout + del.stderr);
      assert.equal(del.stdout, '');
      assert.equal(linkExists(hostVeth), false);
      assert.equal(inNetns(a, ['ip', 'link', 'show', 'eth0']).status, 1, 'eth0 is gone from the pod');
      assert.equal(await ipam.getAllocation(ipA), undefined);
      const again = await callPlugin({
        command: 'DEL',
        containerId: `${mode}-a`,
        netns: a,
        config: config(mode),
      });
      assert.equal(again.code, 0, 'DEL is idempotent');
      // DEL when the netns is already gone
      net.deleteNetns(b);
      const gone = await callPlugin({
        command: 'DEL',
        containerId: `${mode}-b`,
        netns: b,
        config: config(mode),
      });
      assert.equal(gone.code, 0, gone.stdout);
      assert.equal(await ipam.getAllocation(ipB), undefined);
    });

    test('CHECK reports an address removed from the pod, and a missing allocation', async () => {
      const ns = net.netns();
      const add = await callPlugin({
        command: 'ADD',
        containerId: `${mode}-chk`,
        netns: ns,
        config: config(mode),
      });
      assert.equal(add.code, 0, add.stdout);
      const ip = resultIp(add);
      assert.equal(inNetns(ns, ['ip', 'addr', 'del', `${ip}/24`, 'dev', 'eth0']).status, 0);
      const checked = await callPlugin({
        command: 'CHECK',
        containerId: `${mode}-chk`,
        netns: ns,
        config: { ...config(mode), prevResult: add.json },
      });
      assert.equal(checked.code, 1);
      assert.equal(checked.json?.code, 102);
      assert.match(
        String(checked.json?.msg),
        new RegExp(`eth0 does not have ${ip.replaceAll('.', '\\.')}/24`),
      );
      const unknown = await callPlugin({
        command: 'CHECK',
        containerId: `${mode}-never-added`,
        netns: ns,
        config: config(mode),
      });
      assert.equal(unknown.json?.code, 102);
      assert.match(String(unknown.json?.msg), /no address is allocated/);
      await callPlugin({ command: 'DEL', containerId: `${mode}-chk`, netns: ns, config: config(mode) });
    });

    test('a retried ADD for the same container returns the same address', async () => {
      const ns = net.netns();
      const first = await callPlugin({
        command: 'ADD',
        containerId: `${mode}-retry`,
        netns: ns,
        config: config(mode),
      });
      const second = await callPlugin({
        command: 'ADD',
        containerId: `${mode}-retry`,
        netns: ns,
        config: config(mode),
      });
      assert.equal(first.code, 0, first.stdout);
      assert.equal(second.code, 0, second.stdout);
      assert.equal(resultIp(second), resultIp(first));
      assert.equal(inNetns(ns, ['ip', '-br', 'addr', 'show', 'dev', 'eth0']).status, 0);
      await callPlugin({ command: 'DEL', containerId: `${mode}-retry`, netns: ns, config: config(mode) });
    });
  });
}

describe('spec errors: nothing is allocated and nothing is created', () => {
  // a real namespace, so that only the fault under test is wrong
  let errorsNetns = '';
  before(() => {
    errorsNetns = net.netns();
  });
  const cases: { name: string; call: () => Parameters<typeof callPlugin>[0]; code: number; msg: RegExp }[] = [
    {
      name: 'config is not JSON',
      call: () => ({ command: 'ADD', config: '{"cniVersion": ' }),
      code: 6,
      msg: /not JSON/,
    },
    {
      name: 'config misses etcd',
      call: () => ({ command: 'ADD', config: { ...config('errors'), etcd: undefined } }),
      code: 7,
      msg: /invalid network config/,
    },
    {
      name: 'config has a bad bridge name',
      call: () => ({ command: 'ADD', config: config('errors', { bridge: 'a bridge; rm -rf' }) }),
      code: 7,
      msg: /invalid network config/,
    },
    {
      name: 'unsupported cniVersion',
      call: () => ({ command: 'ADD', config: { ...config('errors'), cniVersion: '9.9.9' } }),
      code: 1,
      msg: /9\.9\.9 is not supported/,
    },
    {
      name: 'CNI_COMMAND missing',
      call: () => ({ config: config('errors'), env: { CNI_CONTAINERID: 'x', CNI_NETNS: '/run/netns/x' } }),
      code: 4,
      msg: /CNI_COMMAND is not set/,
    },
    {
      name: 'CNI_NETNS missing',
      call: () => ({ command: 'ADD', netns: '', config: config('errors') }),
      code: 4,
      msg: /CNI_NETNS is not set/,
    },
    {
      name: 'CNI_IFNAME malformed',
      call: () => ({ command: 'ADD', ifname: 'eth0 x', netns: '/run/netns/x', config: config('errors') }),
      code: 4,
      msg: /CNI_IFNAME/,
    },
    {
      name: 'netns path does not exist',
      call: () => ({
        command: 'ADD',
        netns: `/run/netns/lt-missing-${process.pid}`,
        config: config('errors'),
      }),
      code: 3,
      msg: /does not exist/,
    },
    {
      name: 'netns path is not a network namespace',
      call: () => ({ command: 'ADD', netns: '/etc/hostname', config: config('errors') }),
      code: 4,
      msg: /not a network namespace/,
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const result = await callPlugin({ containerId: 'err-1', netns: errorsNetns, ...c.call() });
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assert.equal(result.json?.code, c.code, result.stdout);
      assert.match(String(result.json?.msg), c.msg);
      assert.equal(typeof result.json?.cniVersion, 'string');
      assert.deepEqual((await Ipam.create({ client, cell: 'errors' }).listAllocations()).items, []);
      assert.equal(linkExists(hostVethName('err-1', 'eth0')), false);
    });
  }

  test('a failed interface setup releases the address (OvS asked for where there is none)', async () => {
    const ns = net.netns();
    const result = await callPlugin({
      command: 'ADD',
      containerId: 'err-ovs',
      netns: ns,
      config: config('errors', { bridgeKind: 'ovs', bridge: 'lb-no-ovs' }),
    });
    assert.equal(result.json?.code, 101, result.stdout);
    assert.match(String(result.json?.details), /ovs-vsctl/);
    assert.deepEqual((await Ipam.create({ client, cell: 'errors' }).listAllocations()).items, []);
    assert.equal(linkExists(hostVethName('err-ovs', 'eth0')), false);
  });
});

test('VERSION lists the supported versions in the config version', async () => {
  const result = await callPlugin({ command: 'VERSION', config: { cniVersion: '0.4.0' } });
  assert.equal(result.code, 0);
  assert.deepEqual(result.json, {
    cniVersion: '0.4.0',
    supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'],
  });
});

test('a 0.4.0 config gets a 0.4.0 result (ips carry version 4)', async () => {
  const ns = net.netns();
  const add = await callPlugin({
    command: 'ADD',
    containerId: 'v040',
    netns: ns,
    config: { ...config('agent'), cniVersion: '0.4.0' },
  });
  assert.equal(add.code, 0, add.stdout);
  assert.equal(add.json?.cniVersion, '0.4.0');
  assert.equal((add.json?.ips as { version: string }[] | undefined)?.[0]?.version, '4');
  await callPlugin({ command: 'DEL', containerId: 'v040', netns: ns, config: config('agent') });
});

test('with gratuitousArp a new pod announces its address: a neighbour pod corrects its ARP entry', async () => {
  // The neighbour keeps the bridge's carrier up (a bridge without ports flushes its
  // neighbour table) and is the one whose ARP cache the announcement must fix.
  const neighbour = net.netns();
  const n = await callPlugin({
    command: 'ADD',
    containerId: 'garp-n',
    netns: neighbour,
    config: config('agent'),
  });
  assert.equal(n.code, 0, n.stdout);
  const bogus = '02:00:00:00:00:01';
  const entry = (ip: string) => inNetns(neighbour, ['ip', 'neigh', 'show', ip, 'dev', 'eth0']).stdout;

  /** Frees an address, poisons the neighbour's entry for it, and hands it to a new pod. */
  async function reuse(
    tag: string,
    gratuitousArp: boolean,
  ): Promise<{ ip: string; mac: string; seen: string }> {
    const old = net.netns();
    const add = await callPlugin({
      command: 'ADD',
      containerId: `${tag}-old`,
      netns: old,
      config: config('agent'),
    });
    const ip = resultIp(add);
    await callPlugin({ command: 'DEL', containerId: `${tag}-old`, netns: old, config: config('agent') });
    inNetns(neighbour, ['ip', 'neigh', 'replace', ip, 'lladdr', bogus, 'dev', 'eth0', 'nud', 'stale']);
    // the kernel ignores ARP updates to an entry changed less than locktime (1 s) ago
    await new Promise((r) => setTimeout(r, 1200));
    const fresh = net.netns();
    const again = await callPlugin({
      command: 'ADD',
      containerId: `${tag}-new`,
      netns: fresh,
      config: config('agent', { gratuitousArp }),
    });
    assert.equal(resultIp(again), ip, 'the freed address is handed out again');
    const mac = (again.json?.interfaces as { mac: string }[] | undefined)?.[2]?.mac as string;
    const seen = await retry(
      () => entry(ip),
      (s) => s.includes(mac),
      gratuitousArp ? 50 : 10,
    );
    await callPlugin({ command: 'DEL', containerId: `${tag}-new`, netns: fresh, config: config('agent') });
    return { ip, mac, seen };
  }

  const without = await reuse('garp-off', false);
  assert.match(without.seen, new RegExp(bogus), 'without the flag the stale entry stays (the control)');
  const announced = await reuse('garp-on', true);
  assert.match(announced.seen, new RegExp(announced.mac), `neighbour entry after ADD: ${announced.seen}`);
  await callPlugin({ command: 'DEL', containerId: 'garp-n', netns: neighbour, config: config('agent') });
});

test('with the agent crashed (its token file left behind), the wrapper runs the plugin itself', async () => {
  agent?.proc.signal('SIGKILL');
  await agent?.proc.exited;
  assert.ok(statSync(agent?.tokenFile ?? '').isFile(), 'the dead agent left its token file');
  const ns = net.netns();
  try {
    const add = await callPlugin({
      command: 'ADD',
      containerId: 'fallback',
      netns: ns,
      config: config('agent'),
    });
    assert.equal(add.code, 0, add.stdout + add.stderr);
    assert.ok(resultIp(add).startsWith('10.244.102.'));
    const del = await callPlugin({
      command: 'DEL',
      containerId: 'fallback',
      netns: ns,
      config: config('agent'),
    });
    assert.equal(del.code, 0);
  } finally {
    agent = await startAgent();
  }
});

test('the agent refuses a caller without its token, and nothing is allocated', async () => {
  const wrongToken = join(workDir, 'wrong.token');
  writeFileSync(wrongToken, 'not-the-token\n', { mode: 0o600 });
  const ns = net.netns();
  const add = await callPlugin({
    command: 'ADD',
    containerId: 'no-token',
    netns: ns,
    config: config('agent', { agentTokenFile: wrongToken }),
  });
  assert.equal(add.code, 1);
  assert.equal(add.json?.code, 11);
  assert.match(String(add.json?.msg), /wrong token/);
  assert.equal(
    await Ipam.create({ client, cell: 'agent' }).getAttachment({ containerId: 'no-token', ifname: 'eth0' }),
    undefined,
  );
});

test('a VLAN segment on a bridge that does not filter VLANs works untagged', async () => {
  // Tagging on a Linux bridge needs a VLAN-filtering bridge (CONFIG_BRIDGE_VLAN_FILTERING),
  // which this machine's kernel lacks; the tag is then the switch port's business.
  const ns = net.netns();
  const add = await callPlugin({ command: 'ADD', containerId: 'vlan-1', netns: ns, config: config('vlan') });
  assert.equal(add.code, 0, add.stdout);
  assert.ok(await retry(() => ping(undefined, resultIp(add)), Boolean), 'the host reaches the pod');
  await callPlugin({ command: 'DEL', containerId: 'vlan-1', netns: ns, config: config('vlan') });
});

test("GC (CNI 1.1) releases this node's allocations the runtime no longer has, and nothing else", async () => {
  const [keep, drop] = [net.netns(), net.netns()];
  for (const [id, ns] of [
    ['gc-keep', keep],
    ['gc-drop', drop],
  ] as const) {
    const add = await callPlugin({
      command: 'ADD',
      containerId: id,
      netns: ns,
      config: config('gc', { cniVersion: '1.1.0' }),
    });
    assert.equal(add.code, 0, add.stdout);
  }
  const ipam = Ipam.create({ client, cell: 'gc' });
  // another node's allocation, which this node's runtime knows nothing about
  await ipam.allocate({
    attachment: { containerId: 'elsewhere', ifname: 'eth0' },
    pod: { namespace: 'a', name: 'b' },
    node: 'node-b',
  });
  const gc = (grace: number) =>
    callPlugin({
      command: 'GC',
      config: config('gc', {
        cniVersion: '1.1.0',
        gcGraceSeconds: grace,
        'cni.dev/valid-attachments': [{ containerID: 'gc-keep', ifname: 'eth0' }],
      }),
    });
  const young = await gc(600);
  assert.equal(young.code, 0, young.stdout);
  assert.equal(
    (await ipam.listAllocations()).items.length,
    3,
    'nothing younger than the grace period is collected',
  );
  const collected = await gc(0);
  assert.equal(collected.code, 0, collected.stdout);
  const left = (await ipam.listAllocations()).items.map((a) => a.value.containerId).sort();
  assert.deepEqual(left, ['elsewhere', 'gc-keep']);
  assert.equal(linkExists(hostVethName('gc-drop', 'eth0')), false, 'its veth went too');
  const old = await callPlugin({ command: 'GC', config: config('gc', { cniVersion: '1.0.0' }) });
  assert.equal(old.json?.code, 1, 'GC needs a 1.1.0 config');
});

test('STATUS (CNI 1.1) says whether addresses can be given', async () => {
  const ok = await callPlugin({ command: 'STATUS', config: config('gc', { cniVersion: '1.1.0' }) });
  assert.equal(ok.code, 0, ok.stdout);
  const none = await callPlugin({
    command: 'STATUS',
    config: config('gc', { cniVersion: '1.1.0', cell: 'nosegments' }),
  });
  assert.equal(none.code, 1);
  assert.equal(none.json?.code, 50);
  assert.match(String(none.json?.msg), /no active segment/);
});
