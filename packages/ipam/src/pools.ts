import { ConflictError, InputError, NotFoundError } from '@leengine/common';
import { ExhaustedError } from './errors.ts';
import { formatCidr, subnets } from './ipv4.ts';
import { BLOCK_PREFIX, keys } from './keys.ts';
import { AllocationSchema, type Block, BlockSchema, type Pool, PoolSchema, type Versioned } from './model.ts';
import { listSegments, SegmentInfo } from './segments.ts';
import type { IpamStore } from './store.ts';

export interface PoolSpec {
  /** The application's namespace; its pods take addresses only from the pool. */
  namespace: string;
  /** How many addresses the application needs (replicas, plus room for a gray upgrade). */
  size: number;
  /** Take the pool from this segment (default: the first with room). */
  segment?: string | undefined;
}

const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * Reserves a fixed-address pool for an application: the smallest aligned range of whole
 * unclaimed blocks that holds `size` usable addresses, claimed with the pool key in one
 * transaction. Its pods then keep drawing from the same addresses across upgrades, so
 * IP-based access rules can name one CIDR.
 */
export async function createPool(store: IpamStore, spec: PoolSpec, now: Date): Promise<Pool> {
  if (!NAMESPACE.test(spec.namespace)) {
    throw new InputError(`invalid namespace ${JSON.stringify(spec.namespace)}`, [
      { path: 'namespace', message: 'must be a Kubernetes namespace name' },
    ]);
  }
  if (!Number.isInteger(spec.size) || spec.size < 1 || spec.size > 4096) {
    throw new InputError(`invalid pool size ${spec.size}`, [{ path: 'size', message: 'must be 1..4096' }]);
  }
  for (let attempt = 0; attempt < 10; attempt++) {
    const [segments, claimed, existing] = await Promise.all([
      listSegments(store),
      store.listKeys(keys.blocks),
      store.get(keys.pool(spec.namespace), PoolSchema),
    ]);
    if (existing)
      throw new ConflictError(`${spec.namespace} already has a fixed pool (${existing.value.cidr})`);
    const taken = new Set(claimed.map((k) => k.slice(keys.blocks.length)));
    const candidates = segments.filter(
      (s) => s.value.state === 'active' && (spec.segment === undefined || s.value.cidr === spec.segment),
    );
    if (spec.segment !== undefined && candidates.length === 0) {
      throw new NotFoundError(`no active segment ${spec.segment}`);
    }
    let found: { segment: (typeof candidates)[number]; range: string; blocks: string[] } | undefined;
    for (let prefix = BLOCK_PREFIX; prefix >= 8 && !found; prefix--) {
      for (const segment of candidates) {
        const info = new SegmentInfo(segment.value);
        if (prefix < info.cidr.prefix) continue;
        for (const range of subnets(info.cidr, prefix)) {
          const blocks = subnets(range, BLOCK_PREFIX);
          if (blocks.some((b) => taken.has(formatCidr(b)))) continue;
          const usable = blocks.reduce((n, b) => n + info.usable(b).length, 0);
          if (usable >= spec.size) {
            found = { segment, range: formatCidr(range), blocks: blocks.map(formatCidr) };
            break;
          }
        }
        if (found) break;
      }
    }
    if (!found) {
      throw new ExhaustedError(
        `no unclaimed range of ${spec.size} addresses left for a fixed pool in cell ${store.cell}`,
      );
    }
    const pool: Pool = {
      namespace: spec.namespace,
      segment: found.segment.value.cidr,
      cidr: found.range,
      size: spec.size,
      blocks: found.blocks,
      createdAt: now.toISOString(),
    };
    const txn = store
      .txn()
      .unchanged(found.segment.key, found.segment.modRevision)
      .absent(keys.pool(spec.namespace))
      .put(keys.pool(spec.namespace), pool);
    for (const cidr of found.blocks) {
      const block: Block = {
        cidr,
        segment: pool.segment,
        pool: spec.namespace,
        state: 'active',
        claimedAt: pool.createdAt,
      };
      txn.absent(keys.block(cidr)).put(keys.block(cidr), block);
    }
    if (await txn.commit()) return pool;
  }
  throw new ConflictError(`fixed pool for ${spec.namespace}: blocks kept being claimed meanwhile; try again`);
}

export async function listPools(store: IpamStore): Promise<Pool[]> {
  return (await store.list(keys.pools, PoolSchema)).items.map((p) => p.value);
}

/**
 * Removes a pool whose addresses are all free. Its blocks are marked `draining` first
 * (so allocations that read them before fail), then checked empty, then deleted with
 * the pool in one transaction; if any address is in use they go back to `active`.
 */
export async function removePool(store: IpamStore, namespace: string): Promise<void> {
  const pool = await store.get(keys.pool(namespace), PoolSchema);
  if (!pool) throw new NotFoundError(`${namespace} has no fixed pool`);
  const blocks = (
    await Promise.all(pool.value.blocks.map((b) => store.get(keys.block(b), BlockSchema)))
  ).filter((b) => b !== undefined);
  const drained: Versioned<Block>[] = [];
  const restore = () =>
    Promise.all(
      drained.map((b) =>
        store
          .txn()
          .unchanged(b.key, b.modRevision)
          .put(b.key, { ...b.value, state: 'active' })
          .commit(),
      ),
    );
  for (const block of blocks) {
    const value = { ...block.value, state: 'draining' as const };
    const revision = await store.txn().unchanged(block.key, block.modRevision).put(block.key, value).commit();
    if (revision === undefined) {
      await restore();
      throw new ConflictError(`pool of ${namespace} changed while being removed; try again`);
    }
    drained.push({ ...block, value, modRevision: revision });
  }
  const inUse = (
    await Promise.all(pool.value.blocks.map((b) => store.list(keys.blockAllocations(b), AllocationSchema)))
  ).reduce((n, l) => n + l.items.length, 0);
  if (inUse > 0) {
    await restore();
    throw new ConflictError(`pool of ${namespace} still has ${inUse} addresses in use`);
  }
  const txn = store.txn().unchanged(pool.key, pool.modRevision).del(pool.key);
  for (const b of drained) txn.unchanged(b.key, b.modRevision).del(b.key);
  if (!(await txn.commit())) {
    await restore();
    throw new ConflictError(`pool of ${namespace} changed while being removed; try again`);
  }
}
