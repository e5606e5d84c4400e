import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CellCni } from '@leengine/testbed';

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
 */
export function leengineCellCni(options: LeengineCellCniOptions): CellCni {
  makeCniBinDir(options.binDir);
  return {
    binDir: options.binDir,
    writeConfig(confDir, context) {
      // writeConfig is synchronous: cnictl adds the segment (once; --exist-ok on restarts).
      const added = spawnSync(
        join(PACKAGE, 'bin/cnictl'),
        [
          '--etcd',
          options.etcdEndpoints.join(','),
          '--cell',
          context.cell,
          'segment',
          'add',
          context.subnet.cidr,
          '--gateway',
          context.subnet.gateway,
          '--exist-ok',
        ],
        { encoding: 'utf8', timeout: 60_000 },
      );
      if (added.status !== 0) {
        throw new Error(
          `cnictl segment add ${context.subnet.cidr} for cell ${context.cell}: ${added.stderr}`,
        );
      }
      mkdirSync(confDir, { recursive: true });
      writeFileSync(
        join(confDir, '10-leengine.conflist'),
        `${JSON.stringify(conflist({ ...options, cell: context.cell, node: context.node, bridge: context.subnet.bridge }), null, 2)}\n`,
      );
    },
  };
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
