/** The values stored under the IPAM keys (JSON), validated when read. */
import { z } from 'zod';

const state = z.enum(['active', 'draining']);

export const SegmentSchema = z.object({
  cidr: z.string(),
  gateway: z.string(),
  vlan: z.number().int().min(1).max(4094).optional(),
  /** Addresses never handed out, besides network, broadcast and gateway: `ip`, `ip-ip` or a CIDR. */
  exclude: z.array(z.string()).default([]),
  /** `draining` while `segment remove` checks it is empty: no new blocks are claimed. */
  state: state.default('active'),
  createdAt: z.string(),
});
export type Segment = z.infer<typeof SegmentSchema>;

export const BlockSchema = z.object({
  cidr: z.string(),
  segment: z.string(),
  /** The node the block is affine to; absent for a fixed pool's block. */
  node: z.string().optional(),
  /** The namespace (application) whose fixed pool holds this block. */
  pool: z.string().optional(),
  /** `draining` while the block is being released: no new allocations from it. */
  state: state.default('active'),
  claimedAt: z.string(),
});
export type Block = z.infer<typeof BlockSchema>;

export const NodeBlocksSchema = z.object({ blocks: z.array(z.string()) });
export type NodeBlocks = z.infer<typeof NodeBlocksSchema>;

export const PoolSchema = z.object({
  namespace: z.string(),
  segment: z.string(),
  /** One aligned range of whole blocks, so access rules can name it as a single CIDR. */
  cidr: z.string(),
  /** Addresses asked for; the range may hold a few more. */
  size: z.number().int().positive(),
  blocks: z.array(z.string()),
  createdAt: z.string(),
});
export type Pool = z.infer<typeof PoolSchema>;

export const AllocationSchema = z.object({
  ip: z.string(),
  block: z.string(),
  containerId: z.string(),
  ifname: z.string(),
  /** Pod namespace and name from CNI_ARGS; empty when the runtime passed none. */
  namespace: z.string(),
  pod: z.string(),
  podUid: z.string().optional(),
  /** The node whose runtime asked (may differ from the block's node when borrowed). */
  node: z.string(),
  createdAt: z.string(),
});
export type Allocation = z.infer<typeof AllocationSchema>;

export const HandleSchema = z.object({ ip: z.string(), block: z.string() });
export type Handle = z.infer<typeof HandleSchema>;

/** The pod an address is for, as the runtime names it in CNI_ARGS. */
export interface PodRef {
  namespace: string;
  name: string;
  uid?: string | undefined;
}

/** The CNI attachment an address is for: a retried ADD with the same handle gets the same address. */
export interface AttachmentRef {
  containerId: string;
  ifname: string;
}

/** A value read from etcd with the revisions needed for compare-and-swap. */
export interface Versioned<T> {
  key: string;
  value: T;
  modRevision: string;
  createRevision: string;
}
