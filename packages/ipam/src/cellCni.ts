import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CellCni } from '@leengine/testbed';
import { Etcd3 } from 'etcd3';
import { Ipam } from './ipam.ts';

const PACKAGE = resolve(import.meta.dirname, '..');
const DEBIAN_LOOPBACK = '/usr/lib/cni/loopback';

export interface LeengineCellCniOptions {
  /** The region's etcd, where the cell's IPAM lives. */
  etcdEndpoints: string[];
  /** Where to make the CNI bin dir (it holds `leengine-cni` and Debian's `loopback`). */
  binDir: string;
  /** The node agent's port and token file, when one runs for the node. */
  agentPort?: number;
  agentTokenFile?: string;
}

/**
 * The container network of a testbed or local-region cell: leengine-cni on the cell's
 * reserved subnet (added as the cell's segment, the gateway on the node's bridge). Pass
 * it as `startCell({ cni })`.
 *
 * A cell's node always starts from nothing (no sandbox survives a restart, and nothing
 * ran DEL for the pods of the previous run), so before its kubelet starts, the addresses
 * still recorded for the node are released: the recreated pods take them again instead
 * of the old ones leaking.
 */
export function leengineCellCni(options: LeengineCellCniOptions): CellCni {
  makeCniBinDir(options.binDir);
  return {
    binDir: options.binDir,
    async writeConfig(confDir, context) {
      const client = new Etcd3({ hosts: options.etcdEndpoints });
      try {
        const ipam = Ipam.create({ client, cell: context.cell });
        const { cidr, gateway } = context.subnet;
        const existing = (await ipam.listSegments()).find((s) => s.cidr === cidr && s.gateway === gateway);
        if (!existing) await ipam.addSegment({ cidr, gateway });
        await releaseNodeAddresses(ipam, context.node);
      } catch (error) {
        throw new Error(
          `leengine-cni for cell ${context.cell} (segment ${context.subnet.cidr}): ${(error as Error).message}`,
          { cause: error },
        );
      } finally {
        client.close();
      }
      mkdirSync(confDir, { recursive: true });
      writeFileSync(
        join(confDir, '10-leengine.conflist'),
        `${JSON.stringify(conflist({ ...options, cell: context.cell, node: context.node, bridge: context.subnet.bridge }), null, 2)}\n`,
      );
    },
  };
}

/**
 * Releases every address a node's runtime asked for (each only if unchanged since read).
 * Only for a node with no pod sandbox at all, i.e. before its runtime starts.
 */
export async function releaseNodeAddresses(ipam: Ipam, node: string): Promise<string[]> {
  const stale = (await ipam.listAllocations()).items.filter((a) => a.value.node === node);
  await Promise.all(stale.map((a) => ipam.releaseAddress(a.value.ip, { expectedRevision: a.modRevision })));
  return stale.map((a) => a.value.ip);
}

/** The conflist the runtime reads (see docs/ipam.md, "In a cell"). */
export function conflist(o: {
  cell: string;
  node: string;
  bridge: string;
  etcdEndpoints: string[];
  agentPort?: number | undefined;
  agentTokenFile?: string | undefined;
}) {
  return {
    cniVersion: '1.0.0',
    name: `leengine-${o.cell}`,
    plugins: [
      {
        type: 'leengine-cni',
        cell: o.cell,
        nodeName: o.node,
        etcd: { endpoints: o.etcdEndpoints },
        bridge: o.bridge,
        gatewayOnBridge: true,
        ...(o.agentPort ? { agentPort: o.agentPort } : {}),
        ...(o.agentTokenFile ? { agentTokenFile: o.agentTokenFile } : {}),
      },
    ],
  };
}

/** A CNI bin dir: symlinks to bin/leengine-cni (its wrapper resolves them) and Debian's loopback. */
export function makeCniBinDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, target] of [
    ['leengine-cni', join(PACKAGE, 'bin/leengine-cni')],
    ['loopback', DEBIAN_LOOPBACK],
  ] as const) {
    rmSync(join(dir, name), { force: true });
    symlinkSync(target, join(dir, name));
  }
}
