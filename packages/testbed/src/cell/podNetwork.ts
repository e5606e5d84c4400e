import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unwatchTempDir, watchTempDir } from '../reaper.ts';

/**
 * Address ranges the local cells use. Each has a local route on this machine (the
 * node's bridge, or an `unreachable` route covering the whole range) so no packet for
 * a pod, a Service or a fake node's pod can leave the machine, even after the pod or
 * the bridge is gone.
 */
export const CELL_RANGES = {
  /** Real nodes' pods: one /24 per running cell (10.88.<n>.0/24), on its own bridge. */
  nodePods: '10.88.0.0/16',
  /** Service ClusterIPs (every cell uses the same range: cells are separate clusters). */
  services: '10.96.0.0/16',
  /** KWOK nodes' pods: one /24 per fake node; these addresses answer nothing. */
  fakePods: '10.112.0.0/12',
} as const;

const RESERVATIONS = '/run/leengine/cell-subnets';

/** Adds the `unreachable` covering routes (idempotent). */
export function ensureLocalRoutes(): void {
  for (const cidr of Object.values(CELL_RANGES)) {
    spawnSync('ip', ['route', 'replace', 'unreachable', cidr], { stdio: 'ignore' });
  }
}

export interface PodSubnet {
  index: number;
  cidr: string;
  gateway: string;
  bridge: string;
  release(): void;
}

/**
 * Reserves a /24 for one cell's real node by creating a directory (atomic, so parallel
 * test processes never share a subnet); the guardian frees it if this process dies.
 * With `wanted`, exactly 10.88.<wanted>.0/24 (a cell whose addresses must stay the same
 * across restarts), failing if another process holds it.
 */
export function reservePodSubnet(wanted?: number): PodSubnet {
  mkdirSync(RESERVATIONS, { recursive: true });
  if (wanted !== undefined && !(Number.isInteger(wanted) && wanted >= 1 && wanted <= 250)) {
    throw new Error(`pod subnet index ${wanted}: must be 1..250 (10.88.<index>.0/24)`);
  }
  const order = wanted !== undefined ? [wanted] : subnetPickOrder(RESERVATIONS, Date.now());
  for (const index of order) {
    const dir = join(RESERVATIONS, String(index));
    try {
      mkdirSync(dir);
    } catch {
      continue;
    }
    rmSync(releasedMark(index), { force: true });
    watchTempDir(dir);
    const bridge = `lecell${index}`;
    // A bridge and pod namespaces left by a crashed run with this subnet: ours now, start clean.
    deleteLink(bridge);
    removePodNamespaces(`10.88.${index}.0/24`);
    return {
      index,
      cidr: `10.88.${index}.0/24`,
      gateway: `10.88.${index}.1`,
      bridge,
      release: () => {
        removePodNamespaces(`10.88.${index}.0/24`);
        deleteLink(bridge);
        writeFileSync(releasedMark(index), String(Date.now()));
        rmSync(dir, { recursive: true, force: true });
        unwatchTempDir(dir);
      },
    };
  }
  throw new Error(
    wanted !== undefined
      ? `pod subnet 10.88.${wanted}.0/24 is held by another running cell (${join(RESERVATIONS, String(wanted))})`
      : 'no free pod subnet in 10.88.0.0/16 (250 cells running?)',
  );
}

/** How long a released subnet is passed over by cells that take any free one. */
const RELEASED_KEPT_MS = 10 * 60_000;

function releasedMark(index: number): string {
  return join(RESERVATIONS, `${index}.released`);
}

/**
 * Subnets in random order, those released in the last RELEASED_KEPT_MS last: a
 * cell that stops and starts again wanting its subnet (the local region, which keeps its
 * addresses) must not find it taken by a cell that started meanwhile and took any.
 */
export function subnetPickOrder(reservations: string, now: number): number[] {
  const recent = new Set<number>();
  for (const file of readdirSync(reservations)) {
    const match = /^(\d+)\.released$/.exec(file);
    if (!match) continue;
    let at = 0;
    try {
      at = Number(readFileSync(join(reservations, file), 'utf8'));
    } catch {
      continue; // removed meanwhile
    }
    if (now - at < RELEASED_KEPT_MS) recent.add(Number(match[1]));
  }
  const shuffled = Array.from({ length: 250 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
  return [...shuffled.filter((i) => !recent.has(i)), ...shuffled.filter((i) => recent.has(i))];
}

/**
 * Creates the node's bridge with the gateway address up front: the kubelet serves on
 * that address and reports it as the node's InternalIP (the apiserver reaches kubelets
 * by node address for logs and exec, and rejects loopback ones). The bridge plugin
 * adopts the existing bridge.
 */
export function createBridge(subnet: PodSubnet): void {
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
  deleteLink(subnet.bridge);
  ip('link', 'add', subnet.bridge, 'type', 'bridge');
  ip('addr', 'add', `${subnet.gateway}/${subnet.cidr.split('/')[1]}`, 'dev', subnet.bridge);
  ip('link', 'set', subnet.bridge, 'up');
}

/**
 * Deletes the pod network namespaces (containerd's `cni-*` in /run/netns) whose `eth0`
 * holds an address of `cidr` (a /24): containerd is killed with its pods, so nothing ran
 * CNI DEL for them. Deleting the namespace also destroys the pod's veth pair.
 */
export function removePodNamespaces(cidr: string): number {
  const found = podNamespaces(cidr);
  for (const name of found) spawnSync('ip', ['netns', 'delete', name], { stdio: 'ignore' });
  return found.length;
}

/** How many pod network namespaces hold an address of `cidr` (for tests). */
export function podNamespacesIn(cidr: string): number {
  return podNamespaces(cidr).length;
}

function podNamespaces(cidr: string): string[] {
  const prefix = cidr.replace(/\.0\/24$/, '.');
  let names: string[];
  try {
    names = readdirSync('/run/netns').filter((n) => n.startsWith('cni-'));
  } catch {
    return [];
  }
  return names.filter((name) => {
    const out = spawnSync('ip', ['-n', name, '-j', '-4', 'addr', 'show', 'dev', 'eth0'], {
      encoding: 'utf8',
    });
    if (out.status !== 0) return false;
    const links = JSON.parse(out.stdout || '[]') as { addr_info?: { local?: string }[] }[];
    return links.some((link) => link.addr_info?.some((a) => a.local?.startsWith(prefix)));
  });
}

function deleteLink(name: string): void {
  spawnSync('ip', ['link', 'del', name], { stdio: 'ignore' });
}

/**
 * The CNI config for a node until the project's own plugin is wired in: Debian's
 * `bridge` with `host-local` IPAM on the reserved subnet.
 */
export function writeBridgeCniConfig(
  confDir: string,
  stateDir: string,
  cell: string,
  subnet: PodSubnet,
): void {
  mkdirSync(confDir, { recursive: true });
  const config = {
    cniVersion: '1.0.0',
    name: `leengine-${cell}`,
    plugins: [
      {
        type: 'bridge',
        bridge: subnet.bridge,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: subnet.cidr, gateway: subnet.gateway }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: join(stateDir, 'host-local'),
        },
      },
    ],
  };
  writeFileSync(join(confDir, '10-leengine.conflist'), `${JSON.stringify(config, null, 2)}\n`);
}

/** True if `ip` is usable (root, iproute2): the real node needs it. */
export function canManageLinks(): boolean {
  try {
    execFileSync('ip', ['link', 'show', 'lo'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
