import { ConflictError, NotFoundError } from '@leengine/common';
import { claimBlock } from './blocks.ts';
import { ContentionError, ExhaustedError } from './errors.ts';
import { cidrOf, formatIp, parseCidr, parseIp } from './ipv4.ts';
import { BLOCK_PREFIX, keys } from './keys.ts';
import {
  type Allocation,
  AllocationSchema,
  type AttachmentRef,
  type Block,
  BlockSchema,
  HandleSchema,
  NodeBlocksSchema,
  type PodRef,
  type Pool,
  PoolSchema,
  type Segment,
  type Versioned,
} from './model.ts';
import { listSegments, SegmentInfo } from './segments.ts';
import type { IpamStore } from './store.ts';

export interface AllocatorDeps {
  store: IpamStore;
  now: () => Date;
  random: () => number;
}

export interface AllocateRequest {
  attachment: AttachmentRef;
  pod: PodRef;
  /** The node whose runtime asks: its blocks are used first. */
  node: string;
}

export interface Allocated {
  allocation: Versioned<Allocation>;
  segment: Segment;
  /** True when the attachment already had this address (a retried ADD). */
  reused: boolean;
}

// Each attempt re-reads state; conflicts only happen when several writers race for the
// same key, so a handful of attempts suffices even with 100 nodes claiming at once.
const MAX_ATTEMPTS = 100;

interface BlockState {
  block: Versioned<Block>;
  allocated: Set<number>;
}

/**
 * A node's blocks as last read, kept by a long-lived allocator (the agent) so that an
 * ADD is one transaction. It may be stale: the transaction still requires the block
 * unchanged and the address, the attachment and the namespace's pool absent, so a stale
 * view can only make it fail, never hand out a taken address.
 */
export interface NodeState {
  blocks: BlockState[];
  infos: Map<string, SegmentInfo>;
}

/**
 * The one-transaction ADD from a node's cached state; undefined when it cannot be used
 * (no free address in the cached blocks, or any compare failed): then `allocate`.
 */
export async function allocateFromState(
  deps: AllocatorDeps,
  request: AllocateRequest,
  state: NodeState,
): Promise<Allocated | undefined> {
  const pick = pickAddress(state.blocks, state.infos, undefined);
  if (!pick) return undefined;
  // The pod's namespace must still have no fixed pool (its pods take only pool addresses).
  const noPool = request.pod.namespace ? [keys.pool(request.pod.namespace)] : [];
  const done = await commit(deps, request, pick.state, pick.ip, noPool);
  if (!done) return undefined;
  pick.state.allocated.add(pick.ip);
  return { ...done, segment: segmentFor(state.infos, pick.state) };
}

/** Forgets an address in a cached node state after it was released. */
export function forgetInState(state: NodeState, allocation: Allocation): void {
  state.blocks.find((b) => b.block.value.cidr === allocation.block)?.allocated.delete(parseIp(allocation.ip));
}

/**
 * Gives the attachment an address: the one it already has (retried ADD), else a free
 * address of its pool (if its namespace has one) or of its node's blocks, claiming a new
 * block when those are full, and borrowing a free address from another node's block
 * when no block is left. Every write is one transaction that requires the address and
 * the attachment to be unallocated and the block unchanged, so no address ever has two
 * owners whatever runs concurrently, and a crash leaves either all or nothing.
 */
export async function allocate(
  deps: AllocatorDeps,
  request: AllocateRequest,
  onNodeState?: (state: NodeState) => void,
): Promise<Allocated> {
  const { store } = deps;
  const { containerId, ifname } = request.attachment;
  const handleKey = keys.handle(containerId, ifname);
  let lostRace = false;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const [handle, pool, nodeBlocks, segments] = await Promise.all([
      store.get(handleKey, HandleSchema),
      request.pod.namespace ? store.get(keys.pool(request.pod.namespace), PoolSchema) : undefined,
      store.get(keys.nodeBlocks(request.node), NodeBlocksSchema),
      listSegments(store),
    ]);
    const infos = new Map(segments.map((s) => [s.value.cidr, new SegmentInfo(s.value)]));

    if (handle) {
      const existing = await store.get(
        keys.allocation(handle.value.block, handle.value.ip),
        AllocationSchema,
      );
      if (existing && existing.value.containerId === containerId && existing.value.ifname === ifname) {
        const segment = infos.get(segmentOf(existing.value.block, segments));
        if (!segment) throw new ConflictError(`the segment of ${existing.value.ip} is gone`);
        return { allocation: existing, segment: segment.segment, reused: true };
      }
      // A handle without its allocation cannot be written by this code (both change in one
      // transaction); if one is found anyway, drop it and allocate afresh.
      await store.txn().unchanged(handle.key, handle.modRevision).del(handle.key).commit();
      continue;
    }

    const owned = pool ? pool.value.blocks : (nodeBlocks?.value.blocks ?? []);
    const states = await readBlocks(store, owned);
    const usable = states.filter((s) =>
      pool ? s.block.value.pool === pool.value.namespace : s.block.value.node === request.node,
    );
    const pick = pickAddress(usable, infos, lostRace ? deps.random : undefined);
    if (pick) {
      const done = await commit(deps, request, pick.state, pick.ip);
      if (done) {
        pick.state.allocated.add(pick.ip);
        if (!pool) onNodeState?.({ blocks: usable, infos });
        return { ...done, segment: segmentFor(infos, pick.state) };
      }
      lostRace = true;
      continue;
    }
    if (pool) throw poolFull(pool.value, states, infos);

    const claim = await claimBlock(store, segments, request.node, nodeBlocks, deps.now(), deps.random);
    if (claim.kind !== 'none') continue;

    // No block is left to claim: take a free address in another node's block.
    const borrowable = await readAllBlocks(store);
    const lender = pickAnyAddress(
      borrowable.filter((s) => s.block.value.node !== undefined && s.block.value.node !== request.node),
      infos,
      deps.random,
    );
    if (lender) {
      const done = await commit(deps, request, lender.state, lender.ip);
      if (done) return { ...done, segment: segmentFor(infos, lender.state) };
      continue;
    }
    const active = segments.filter((s) => s.value.state === 'active').map((s) => s.value.cidr);
    throw new ExhaustedError(
      active.length === 0
        ? `segment exhausted: cell ${store.cell} has no active segment; add one with "cnictl segment add"`
        : `segment exhausted: no free address left in cell ${store.cell} (segments ${active.join(', ')}); add a segment with "cnictl segment add"`,
    );
  }
  throw new ContentionError(`could not allocate for ${containerId}/${ifname}: etcd kept changing`);
}

/**
 * Releases the attachment's address (CNI DEL). Returns what was released, or undefined
 * when the attachment had none: DEL is idempotent.
 */
export async function releaseAttachment(
  store: IpamStore,
  attachment: AttachmentRef,
): Promise<Allocation | undefined> {
  const handleKey = keys.handle(attachment.containerId, attachment.ifname);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const handle = await store.get(handleKey, HandleSchema);
    if (!handle) return undefined;
    const allocation = await store.get(
      keys.allocation(handle.value.block, handle.value.ip),
      AllocationSchema,
    );
    const txn = store.txn().unchanged(handle.key, handle.modRevision).del(handle.key);
    const ours =
      allocation?.value.containerId === attachment.containerId &&
      allocation.value.ifname === attachment.ifname;
    if (allocation && ours) txn.unchanged(allocation.key, allocation.modRevision).del(allocation.key);
    if (await txn.commit()) return ours ? allocation?.value : undefined;
  }
  throw new ContentionError(
    `could not release ${attachment.containerId}/${attachment.ifname}: etcd kept changing`,
  );
}

/**
 * Releases an address by IP (cnictl release / gc). With `expectedRevision`, only if the
 * allocation is still the one that was checked (not released and re-allocated since).
 */
export async function releaseAddress(
  store: IpamStore,
  ipText: string,
  options: { expectedRevision?: string } = {},
): Promise<Allocation> {
  const ip = parseIp(ipText);
  const allocation = await getAllocation(store, ip);
  if (!allocation) throw new NotFoundError(`${ipText} is not allocated in cell ${store.cell}`);
  if (options.expectedRevision !== undefined && allocation.modRevision !== options.expectedRevision) {
    throw new ConflictError(`${ipText} was re-allocated since it was checked; check again`);
  }
  const handle = await store.get(
    keys.handle(allocation.value.containerId, allocation.value.ifname),
    HandleSchema,
  );
  const txn = store.txn().unchanged(allocation.key, allocation.modRevision).del(allocation.key);
  if (handle && handle.value.ip === allocation.value.ip)
    txn.unchanged(handle.key, handle.modRevision).del(handle.key);
  if (!(await txn.commit())) throw new ConflictError(`${ipText} changed while being released; check again`);
  return allocation.value;
}

/** The allocation of one attachment, if any. */
export async function getAttachment(
  store: IpamStore,
  attachment: AttachmentRef,
): Promise<Versioned<Allocation> | undefined> {
  const handle = await store.get(keys.handle(attachment.containerId, attachment.ifname), HandleSchema);
  if (!handle) return undefined;
  const allocation = await store.get(keys.allocation(handle.value.block, handle.value.ip), AllocationSchema);
  const ours =
    allocation?.value.containerId === attachment.containerId && allocation.value.ifname === attachment.ifname;
  return ours ? allocation : undefined;
}

/** The allocation of one address, if any. */
export function getAllocation(store: IpamStore, ip: number): Promise<Versioned<Allocation> | undefined> {
  const block = `${formatIp(cidrOf(ip, BLOCK_PREFIX).base)}/${BLOCK_PREFIX}`;
  return store.get(keys.allocation(block, ip), AllocationSchema);
}

/** Every allocation of the cell, and the revision they were read at. */
export async function listAllocations(
  store: IpamStore,
): Promise<{ items: Versioned<Allocation>[]; revision: string }> {
  return store.list(keys.allocations, AllocationSchema);
}

async function commit(
  deps: AllocatorDeps,
  request: AllocateRequest,
  state: BlockState,
  ip: number,
  alsoAbsent: string[] = [],
): Promise<{ allocation: Versioned<Allocation>; reused: false } | undefined> {
  const { store } = deps;
  const block = state.block.value.cidr;
  const key = keys.allocation(block, ip);
  const handleKey = keys.handle(request.attachment.containerId, request.attachment.ifname);
  const value: Allocation = {
    ip: formatIp(ip),
    block,
    containerId: request.attachment.containerId,
    ifname: request.attachment.ifname,
    namespace: request.pod.namespace,
    pod: request.pod.name,
    ...(request.pod.uid ? { podUid: request.pod.uid } : {}),
    node: request.node,
    createdAt: deps.now().toISOString(),
  };
  const txn = store.txn().unchanged(state.block.key, state.block.modRevision).absent(key).absent(handleKey);
  for (const other of alsoAbsent) txn.absent(other);
  const revision = await txn.put(key, value).put(handleKey, { ip: value.ip, block }).commit();
  if (revision === undefined) return undefined;
  return { allocation: { key, value, modRevision: revision, createRevision: revision }, reused: false };
}

function pickAddress(
  states: BlockState[],
  infos: Map<string, SegmentInfo>,
  random: (() => number) | undefined,
): { state: BlockState; ip: number } | undefined {
  const sorted = [...states].sort(
    (a, b) => parseCidr(a.block.value.cidr).base - parseCidr(b.block.value.cidr).base,
  );
  for (const state of sorted) {
    if (state.block.value.state !== 'active') continue;
    const info = infos.get(state.block.value.segment);
    if (info?.segment.state !== 'active') continue;
    const free = info.usable(parseCidr(state.block.value.cidr)).filter((ip) => !state.allocated.has(ip));
    if (free.length === 0) continue;
    // Lowest free address normally; after a lost race, a random one so that racing
    // writers stop choosing the same address.
    const ip = random ? free[Math.floor(random() * free.length)] : free[0];
    return { state, ip: ip as number };
  }
  return undefined;
}

/** A random free address of any of the blocks: borrowers spread out instead of racing for one. */
function pickAnyAddress(
  states: BlockState[],
  infos: Map<string, SegmentInfo>,
  random: () => number,
): { state: BlockState; ip: number } | undefined {
  const free: { state: BlockState; ip: number }[] = [];
  for (const state of states) {
    const info = infos.get(state.block.value.segment);
    if (state.block.value.state !== 'active' || info?.segment.state !== 'active') continue;
    for (const ip of info.usable(parseCidr(state.block.value.cidr))) {
      if (!state.allocated.has(ip)) free.push({ state, ip });
    }
  }
  return free.length === 0 ? undefined : free[Math.floor(random() * free.length)];
}

async function readBlocks(store: IpamStore, cidrs: string[]): Promise<BlockState[]> {
  const read = await Promise.all(
    cidrs.map(async (cidr) => {
      const [block, allocations] = await Promise.all([
        store.get(keys.block(cidr), BlockSchema),
        store.list(keys.blockAllocations(cidr), AllocationSchema),
      ]);
      return block && { block, allocated: new Set(allocations.items.map((a) => parseIp(a.value.ip))) };
    }),
  );
  return read.filter((s) => s !== undefined);
}

async function readAllBlocks(store: IpamStore): Promise<BlockState[]> {
  const [blocks, allocated] = await Promise.all([
    store.list(keys.blocks, BlockSchema),
    store.listKeys(keys.allocations), // allocations/{a.b.c.d/28}/{ip}: the key says it all
  ]);
  const byBlock = new Map<string, Set<number>>();
  for (const key of allocated) {
    const [ip, prefix, base] = key.split('/').reverse();
    const block = `${base}/${prefix}`;
    const set = byBlock.get(block) ?? new Set<number>();
    set.add(parseIp(ip ?? ''));
    byBlock.set(block, set);
  }
  // Allocations read after the blocks may be newer; the block compare in the commit and the
  // address compare keep that harmless (a lost race only means another attempt).
  return blocks.items.map((block) => ({ block, allocated: byBlock.get(block.value.cidr) ?? new Set() }));
}

function segmentFor(infos: Map<string, SegmentInfo>, state: BlockState): Segment {
  return (infos.get(state.block.value.segment) as SegmentInfo).segment;
}

function segmentOf(block: string, segments: Versioned<Segment>[]): string {
  const base = parseCidr(block).base;
  const found = segments.find((s) => {
    const c = parseCidr(s.value.cidr);
    return base >= c.base && base < c.base + 2 ** (32 - c.prefix);
  });
  return found?.value.cidr ?? '';
}

function poolFull(pool: Pool, states: BlockState[], infos: Map<string, SegmentInfo>): ExhaustedError {
  const total = states.reduce(
    (n, s) => n + (infos.get(s.block.value.segment)?.usable(parseCidr(s.block.value.cidr)).length ?? 0),
    0,
  );
  return new ExhaustedError(
    `fixed pool of ${pool.namespace} (${pool.cidr}) is full: all ${total} addresses are in use; grow the pool or wait for old pods to go`,
  );
}
