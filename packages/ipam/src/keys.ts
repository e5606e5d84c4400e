/**
 * The IPAM's etcd key layout, relative to `/leengine/ipam/{cell}/` (see docs/ipam.md):
 *
 *   segments/{cidr}                    a segment the network team planned
 *   blocks/{blockCidr}                 a 16-address block, owned by a node or a fixed pool
 *   nodes/{node}/blocks                the blocks affine to a node (one key: claims compare it)
 *   pools/{namespace}                  a fixed-address pool of one application
 *   allocations/{blockCidr}/{ip}       one key per allocated address
 *   handles/{containerId}/{ifname}     index: the address of one CNI attachment
 *
 * One key per allocation keeps every transaction small and lets concurrent ADDs on one
 * node commit without conflicting with each other: they create different keys and only
 * compare the block key, which changes when the block is claimed or released. A node's
 * block list is one key so that a claim can compare it: of several ADDs that find the
 * node's blocks full at once, one claims a block and the others retry into it, instead
 * of each claiming its own.
 */
import { type Cidr, formatCidr, formatIp } from './ipv4.ts';

/** Addresses per block, as in the seed: nodes take 16 consecutive addresses at a time. */
export const BLOCK_PREFIX = 28;

const NAME = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;

/** The cell's key prefix; cell names are DNS-label-like. */
export function cellPrefix(cell: string): string {
  if (!NAME.test(cell) || cell.includes('.')) throw new Error(`invalid cell name: ${JSON.stringify(cell)}`);
  return `/leengine/ipam/${cell}/`;
}

export const keys = {
  segments: 'segments/',
  segment: (cidr: Cidr | string) => `segments/${typeof cidr === 'string' ? cidr : formatCidr(cidr)}`,
  blocks: 'blocks/',
  block: (cidr: Cidr | string) => `blocks/${typeof cidr === 'string' ? cidr : formatCidr(cidr)}`,
  nodes: 'nodes/',
  nodeBlocks: (node: string) => `nodes/${node}/blocks`,
  pools: 'pools/',
  pool: (namespace: string) => `pools/${namespace}`,
  allocations: 'allocations/',
  blockAllocations: (block: string) => `allocations/${block}/`,
  allocation: (block: string, ip: number | string) =>
    `allocations/${block}/${typeof ip === 'string' ? ip : formatIp(ip)}`,
  handles: 'handles/',
  handle: (containerId: string, ifname: string) => `handles/${containerId}/${ifname}`,
};

/** Checks a name used inside a key: no slashes, no surprises. */
export function assertKeyPart(what: string, value: string): void {
  if (!/^[A-Za-z0-9_.:-]{1,253}$/.test(value)) throw new Error(`invalid ${what}: ${JSON.stringify(value)}`);
}
