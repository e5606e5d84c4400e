import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readlinkSync, realpathSync, statfsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { parseIp } from '../ipv4.ts';
import { CommandError, run, tool } from './run.ts';

/** What ADD sets up for one attachment. */
export interface PodInterfaceSpec {
  netns: string;
  ifname: string;
  hostVeth: string;
  bridge: string;
  bridgeKind: 'linux' | 'ovs';
  ip: string;
  prefix: number;
  gateway: string;
  mtu: number;
  gratuitousArp: boolean;
  gatewayOnBridge: boolean;
  /** Tag the host end with this VLAN (OvS: port tag; Linux bridge: VLAN filtering). */
  vlan?: number | undefined;
}

export interface PodInterfaceMacs {
  bridge: string;
  hostVeth: string;
  pod: string;
}

/** What CHECK finds inside the pod's netns. */
export interface PodInterfaceState {
  exists: boolean;
  up: boolean;
  addresses: { ip: string; prefix: number }[];
  defaultGateway: string | undefined;
}

const NSFS_MAGIC = 0x6e736673;
const BR_STATE_FORWARDING = '3';

/**
 * The host end's name: stable for the attachment, so DEL and a retried ADD find it
 * without reading anything, and short enough for IFNAMSIZ (15).
 */
export function hostVethName(containerId: string, ifname: string): string {
  return `le${createHash('sha256').update(`${containerId}/${ifname}`).digest('hex').slice(0, 11)}`;
}

/**
 * The pod's MAC derived from its address (0a:58 + the IPv4 bytes, as kubenet does): a
 * reused address keeps its MAC, so neighbours' ARP caches stay right.
 */
export function podMac(ip: string): string {
  const n = parseIp(ip);
  const bytes = [0x0a, 0x58, n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** A locally administered MAC derived from the bridge's name. */
export function bridgeMac(bridge: string): string {
  const bytes = [...createHash('sha256').update(`bridge/${bridge}`).digest().subarray(0, 6)];
  bytes[0] = ((bytes[0] as number) & 0xfc) | 0x02;
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** 'missing' if there is nothing at the path, 'other' if it is not a network namespace. */
export function netnsStatus(path: string): 'ok' | 'missing' | 'other' {
  try {
    return statfsSync(path).type === NSFS_MAGIC ? 'ok' : 'other';
  } catch {
    return 'missing';
  }
}

export function linkExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

function sysfs(name: string, attribute: string): string {
  return readFileSync(`/sys/class/net/${name}/${attribute}`, 'utf8').trim();
}

/** Whether a Linux bridge filters VLANs (the file is missing where the kernel cannot). */
function vlanFiltering(bridge: string): boolean {
  try {
    return sysfs(bridge, 'bridge/vlan_filtering') === '1';
  } catch {
    return false;
  }
}

/** The bridge a host interface is attached to (Linux bridge), if any. */
export function linkMaster(name: string): string | undefined {
  try {
    return basename(readlinkSync(`/sys/class/net/${name}/master`));
  } catch {
    return undefined;
  }
}

/**
 * How `ip` can name the netns: `ip -n NAME` and `netns NAME` take names under
 * /run/netns, and `netns PID` takes a process; other paths need nsenter.
 */
function netnsRef(path: string): { name?: string; pid?: string } {
  const proc = /^\/proc\/(\d+)\/ns\/net$/.exec(path);
  if (proc) return { pid: proc[1] as string };
  try {
    const name = basename(path);
    if (realpathSync(dirname(path)) === '/run/netns' && /^[A-Za-z0-9_.-]+$/.test(name)) return { name };
  } catch {
    // not there: the caller has checked the netns exists, so fall through to nsenter
  }
  return {};
}

/** Commands run inside the pod's netns: `ip -n NAME` when it has a name, else nsenter. */
function inNetns(path: string, argv: string[]): [string, ...string[]] {
  const ref = netnsRef(path);
  if (ref.name && argv[0] === 'ip') return ['ip', '-n', ref.name, ...argv.slice(1)];
  const [command = 'ip', ...rest] = argv;
  return ['nsenter', `--net=${path}`, tool(command), ...rest];
}

/**
 * Creates the pod's interface with iproute2 in two or three commands (each a batch):
 * the veth pair (pod end created straight into the netns with its name, MAC and MTU)
 * and the host end on the bridge, then the pod's address, link and default route. With
 * `gratuitousArp`, arp_notify is set on the pod interface and the address announced
 * once the bridge forwards (see `announce`).
 */
export async function setUpPodInterface(spec: PodInterfaceSpec): Promise<PodInterfaceMacs> {
  const mac = podMac(spec.ip);
  await ensureBridge(spec);
  // A host end left by an ADD that crashed half-way: remove it (its pod end goes with it).
  if (linkExists(spec.hostVeth)) await run(['ip', 'link', 'del', spec.hostVeth]).catch(ignoreMissing);
  const ref = netnsRef(spec.netns);
  const mtu = String(spec.mtu);
  const host: string[] = [];
  if (ref.name || ref.pid) {
    host.push(
      `link add name ${spec.hostVeth} mtu ${mtu} type veth peer name ${spec.ifname} mtu ${mtu} address ${mac} netns ${ref.name ?? ref.pid}`,
    );
  } else {
    await run(
      inNetns(spec.netns, [
        'ip',
        'link',
        'add',
        'name',
        spec.ifname,
        'mtu',
        mtu,
        'address',
        mac,
        'type',
        'veth',
        'peer',
        'name',
        spec.hostVeth,
        'mtu',
        mtu,
        'netns',
        String(process.pid),
      ]),
    );
  }
  if (spec.bridgeKind === 'linux') host.push(`link set ${spec.hostVeth} master ${spec.bridge} up`);
  else host.push(`link set ${spec.hostVeth} up`);
  if (spec.gatewayOnBridge) host.push(`addr replace ${spec.gateway}/${spec.prefix} dev ${spec.bridge}`);
  host.push(`link set ${spec.bridge} up`);
  await run(['ip', '-batch', '-'], `${host.join('\n')}\n`);
  if (spec.bridgeKind === 'ovs') {
    const tag = spec.vlan ? [`tag=${spec.vlan}`] : [];
    await run(['ovs-vsctl', '--may-exist', 'add-port', spec.bridge, spec.hostVeth, ...tag]);
  } else if (spec.vlan && vlanFiltering(spec.bridge)) {
    const lines = [
      `vlan add dev ${spec.hostVeth} vid ${spec.vlan} pvid untagged`,
      `vlan del dev ${spec.hostVeth} vid 1`,
    ];
    if (spec.gatewayOnBridge) lines.push(`vlan add dev ${spec.bridge} vid ${spec.vlan} self`);
    await run(['bridge', '-batch', '-'], `${lines.join('\n')}\n`);
  }
  if (spec.gratuitousArp) {
    await run(inNetns(spec.netns, ['sysctl', '-q', '-w', `net.ipv4.conf.${spec.ifname}.arp_notify=1`]));
  }
  const pod = [
    `addr add ${spec.ip}/${spec.prefix} dev ${spec.ifname}`,
    `link set ${spec.ifname} up`,
    `route add default via ${spec.gateway} dev ${spec.ifname}`,
  ];
  await run(inNetns(spec.netns, ['ip', '-batch', '-']), `${pod.join('\n')}\n`);
  if (spec.gratuitousArp) await announce(spec, mac);
  return { bridge: sysfs(spec.bridge, 'address'), hostVeth: sysfs(spec.hostVeth, 'address'), pod: mac };
}

/** Removes the attachment's veth pair by its host end; false if it was already gone. */
export async function tearDownPodInterface(hostVeth: string): Promise<boolean> {
  if (!linkExists(hostVeth)) return false;
  try {
    await run(['ip', 'link', 'del', hostVeth]);
    return true;
  } catch (error) {
    ignoreMissing(error);
    return false;
  }
}

/** The pod interface as the kernel has it now (for CHECK). */
export async function inspectPodInterface(netns: string, ifname: string): Promise<PodInterfaceState> {
  const out = await run(inNetns(netns, ['ip', '-j', '-batch', '-']), `addr show\nroute show default\n`);
  const [addrLine = '[]', routeLine = '[]'] = out.split('\n').filter((l) => l.trim() !== '');
  const links = JSON.parse(addrLine) as {
    ifname: string;
    flags: string[];
    addr_info?: { family: string; local: string; prefixlen: number }[];
  }[];
  const routes = JSON.parse(routeLine) as { dst: string; gateway?: string; dev?: string }[];
  const link = links.find((l) => l.ifname === ifname);
  return {
    exists: link !== undefined,
    up: link?.flags.includes('UP') ?? false,
    addresses: (link?.addr_info ?? [])
      .filter((a) => a.family === 'inet')
      .map((a) => ({ ip: a.local, prefix: a.prefixlen })),
    defaultGateway: routes.find((r) => r.dev === ifname)?.gateway,
  };
}

/**
 * Sends the gratuitous ARP. The kernel's own at link-up is lost: the bridge only
 * forwards from the host end once it has seen the carrier come up (asynchronously,
 * through linkwatch). So wait for the port to forward, then re-set the pod's MAC, which
 * with arp_notify makes the kernel announce the address again.
 */
async function announce(spec: PodInterfaceSpec, mac: string): Promise<void> {
  if (spec.bridgeKind === 'linux') {
    const deadline = Date.now() + 2000;
    while (sysfs(spec.hostVeth, 'brport/state') !== BR_STATE_FORWARDING && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 2));
    }
  }
  await run(inNetns(spec.netns, ['ip', 'link', 'set', spec.ifname, 'address', mac]));
}

async function ensureBridge(spec: PodInterfaceSpec): Promise<void> {
  if (linkExists(spec.bridge)) return;
  if (spec.bridgeKind === 'ovs') {
    await run(['ovs-vsctl', '--may-exist', 'add-br', spec.bridge]);
    return;
  }
  // A fixed MAC: a Linux bridge otherwise takes the lowest MAC of its ports, which
  // changes as pods come and go and leaves the pods' ARP entry for the gateway stale.
  // Another ADD may create it at the same moment: "File exists" is success.
  const argv: [string, ...string[]] = [
    'ip',
    'link',
    'add',
    'name',
    spec.bridge,
    'address',
    bridgeMac(spec.bridge),
  ];
  await run([...argv, 'type', 'bridge']).catch((error: unknown) => {
    if (!(error instanceof CommandError && /File exists/.test(error.stderr))) throw error;
  });
}

function ignoreMissing(error: unknown): void {
  if (error instanceof CommandError && /Cannot find device|does not exist/.test(error.stderr)) return;
  throw error;
}
