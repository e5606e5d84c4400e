import { formatCidr } from './ipv4.ts';
import { keys } from './keys.ts';
import {
  AllocationSchema,
  type Block,
  BlockSchema,
  type NodeBlocks,
  NodeBlocksSchema,
  type Segment,
  type Versioned,
} from './model.ts';
import { SegmentInfo } from './segments.ts';
import type { IpamStore } from './store.ts';

export type ClaimOutcome =
  /** The block is now the node's. */
  | { kind: 'claimed'; block: Block }
  /** Someone else changed the segment or took the block first: read again and retry. */
  | { kind: 'lost' }
  /** No active segment has an unclaimed block. */
  | { kind: 'none' };

/**
 * Claims one unclaimed block for `node` from the first active segment that has one, with
 * one transaction: the block key must not exist, the segment must be unchanged (not
 * being drained), and the node's block list must be the one the caller read (so that
 * concurrent ADDs on one node claim one block between them, not one each). A random free
 * block is picked, so nodes claiming at the same time rarely collide.
 */
export async function claimBlock(
  store: IpamStore,
  segments: Versioned<Segment>[],
  node: string,
  nodeBlocks: Versioned<NodeBlocks> | undefined,
  now: Date,
  random: () => number,
): Promise<ClaimOutcome> {
  const claimed = new Set((await store.listKeys(keys.blocks)).map((k) => k.slice(keys.blocks.length)));
  for (const segment of segments) {
    if (segment.value.state !== 'active') continue;
    const info = new SegmentInfo(segment.value);
    const free = info
      .blocks()
      .filter((b) => !claimed.has(formatCidr(b)) && info.usable(b).length > 0)
      .map(formatCidr);
    if (free.length === 0) continue;
    const cidr = free[Math.floor(random() * free.length)] as string;
    const block: Block = {
      cidr,
      segment: segment.value.cidr,
      node,
      state: 'active',
      claimedAt: now.toISOString(),
    };
    const nodeKey = keys.nodeBlocks(node);
    const txn = store.txn().unchanged(segment.key, segment.modRevision).absent(keys.block(cidr));
    if (nodeBlocks) txn.unchanged(nodeKey, nodeBlocks.modRevision);
    else txn.absent(nodeKey);
    const list: NodeBlocks = { blocks: [...(nodeBlocks?.value.blocks ?? []), cidr] };
    const won = await txn.put(keys.block(cidr), block).put(nodeKey, list).commit();
    return won !== undefined ? { kind: 'claimed', block } : { kind: 'lost' };
  }
  return { kind: 'none' };
}

/**
 * Releases a block when it holds no allocation. The block is first marked `draining`
 * (which changes its revision, so any allocation that read it before fails its
 * compare), then its allocations are listed: if there are none it is deleted, else it
 * goes back to `active`. Returns whether the block is gone. Pool blocks are released
 * only with `pool: true` (by removing the pool).
 */
export async function releaseBlock(
  store: IpamStore,
  cidr: string,
  options: { pool?: boolean } = {},
): Promise<boolean> {
  const current = await store.get(keys.block(cidr), BlockSchema);
  if (!current) return true;
  if (current.value.pool !== undefined && !options.pool) return false;
  let draining: Versioned<Block> = current;
  if (current.value.state !== 'draining') {
    const marked = await store
      .txn()
      .unchanged(current.key, current.modRevision)
      .put(current.key, { ...current.value, state: 'draining' })
      .commit();
    if (!marked) return false;
    draining = { ...current, value: { ...current.value, state: 'draining' }, modRevision: marked };
  }
  const { items } = await store.list(keys.blockAllocations(cidr), AllocationSchema);
  if (items.length > 0) {
    await store
      .txn()
      .unchanged(draining.key, draining.modRevision)
      .put(draining.key, { ...draining.value, state: 'active' })
      .commit();
    return false;
  }
  const node = draining.value.node;
  for (let attempt = 0; attempt < 10; attempt++) {
    const txn = store.txn().unchanged(draining.key, draining.modRevision).del(draining.key);
    if (node !== undefined) {
      const nodeBlocks = await store.get(keys.nodeBlocks(node), NodeBlocksSchema);
      if (nodeBlocks) {
        const rest = nodeBlocks.value.blocks.filter((b) => b !== cidr);
        txn.unchanged(nodeBlocks.key, nodeBlocks.modRevision);
        if (rest.length > 0) txn.put(nodeBlocks.key, { blocks: rest });
        else txn.del(nodeBlocks.key);
      }
    }
    if (await txn.commit()) return true;
    // The node's list changed (it claimed another block): read it again, unless the
    // block itself changed, which means someone else released or reverted it.
    const again = await store.get(keys.block(cidr), BlockSchema);
    if (again?.modRevision !== draining.modRevision) return again === undefined;
  }
  return false;
}
