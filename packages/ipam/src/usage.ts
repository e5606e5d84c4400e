import { parseCidr, parseIp } from './ipv4.ts';
import { keys } from './keys.ts';
import { AllocationSchema, BlockSchema } from './model.ts';
import { listSegments, SegmentInfo } from './segments.ts';
import type { IpamStore } from './store.ts';

export interface SegmentUsage {
  cidr: string;
  gateway: string;
  vlan?: number | undefined;
  state: 'active' | 'draining';
  /** Addresses that may be handed out (minus network, broadcast, gateway, exclusions). */
  usable: number;
  blocks: number;
  blocksClaimed: number;
  allocated: number;
}

export interface NodeUsage {
  node: string;
  blocks: number;
  usable: number;
  /** Addresses in the node's blocks that are allocated (to any node). */
  allocated: number;
  /** Addresses this node's pods hold, including ones borrowed from other blocks. */
  pods: number;
}

export interface BlockUsage {
  cidr: string;
  segment: string;
  /** `node/<name>` or `pool/<namespace>`. */
  owner: string;
  state: 'active' | 'draining';
  usable: number;
  allocated: number;
}

export interface Usage {
  cell: string;
  revision: string;
  segments: SegmentUsage[];
  nodes: NodeUsage[];
  blocks: BlockUsage[];
}

/** Per segment, per node and per block: how many addresses there are and how many are used. */
export async function usage(store: IpamStore): Promise<Usage> {
  const [segments, blocks, allocations] = await Promise.all([
    listSegments(store),
    store.list(keys.blocks, BlockSchema),
    store.list(keys.allocations, AllocationSchema),
  ]);
  const infos = new Map(segments.map((s) => [s.value.cidr, new SegmentInfo(s.value)]));
  const allocatedIn = new Map<string, number>();
  const podsOf = new Map<string, number>();
  for (const a of allocations.items) {
    allocatedIn.set(a.value.block, (allocatedIn.get(a.value.block) ?? 0) + 1);
    podsOf.set(a.value.node, (podsOf.get(a.value.node) ?? 0) + 1);
  }
  const blockRows: BlockUsage[] = blocks.items
    .map((b) => ({
      cidr: b.value.cidr,
      segment: b.value.segment,
      owner: b.value.pool !== undefined ? `pool/${b.value.pool}` : `node/${b.value.node ?? '?'}`,
      state: b.value.state,
      usable: infos.get(b.value.segment)?.usable(parseCidr(b.value.cidr)).length ?? 0,
      allocated: allocatedIn.get(b.value.cidr) ?? 0,
    }))
    .sort((a, b) => parseIp(a.cidr.split('/')[0] ?? '') - parseIp(b.cidr.split('/')[0] ?? ''));
  const segmentRows = segments.map((s) => {
    const info = infos.get(s.value.cidr) as SegmentInfo;
    const mine = blockRows.filter((b) => b.segment === s.value.cidr);
    return {
      cidr: s.value.cidr,
      gateway: s.value.gateway,
      ...(s.value.vlan === undefined ? {} : { vlan: s.value.vlan }),
      state: s.value.state,
      usable: info.blocks().reduce((n, b) => n + info.usable(b).length, 0),
      blocks: info.blocks().length,
      blocksClaimed: mine.length,
      allocated: mine.reduce((n, b) => n + b.allocated, 0),
    };
  });
  const nodes = new Map<string, NodeUsage>();
  const nodeRow = (node: string) => {
    let row = nodes.get(node);
    if (!row) {
      row = { node, blocks: 0, usable: 0, allocated: 0, pods: podsOf.get(node) ?? 0 };
      nodes.set(node, row);
    }
    return row;
  };
  for (const b of blockRows) {
    if (!b.owner.startsWith('node/')) continue;
    const row = nodeRow(b.owner.slice('node/'.length));
    row.blocks++;
    row.usable += b.usable;
    row.allocated += b.allocated;
  }
  for (const node of podsOf.keys()) nodeRow(node);
  return {
    cell: store.cell,
    revision: allocations.revision,
    segments: segmentRows,
    nodes: [...nodes.values()].sort((a, b) => a.node.localeCompare(b.node)),
    blocks: blockRows,
  };
}
