import { ConflictError, InputError, NotFoundError } from '@leengine/common';
import {
  type AddressRange,
  type Cidr,
  contains,
  formatCidr,
  formatIp,
  inRanges,
  lastOf,
  overlaps,
  parseCidr,
  parseIp,
  parseRange,
  subnets,
} from './ipv4.ts';
import { BLOCK_PREFIX, keys } from './keys.ts';
import { AllocationSchema, PoolSchema, type Segment, SegmentSchema, type Versioned } from './model.ts';
import type { IpamStore } from './store.ts';

export interface SegmentSpec {
  /** e.g. `10.244.0.0/22`; at most /28 (one block). */
  cidr: string;
  /** Default: the first address after the network address. */
  gateway?: string | undefined;
  /** The VLAN the segment's traffic is tagged with on the bridge, if any. */
  vlan?: number | undefined;
  /** Addresses never handed out: `ip`, `ip-ip` or a CIDR inside the segment. */
  exclude?: string[] | undefined;
}

/** A segment with its addresses parsed, to answer "which addresses of a block are usable". */
export class SegmentInfo {
  readonly segment: Segment;
  readonly cidr: Cidr;
  readonly gateway: number;
  readonly #reserved: AddressRange[];

  constructor(segment: Segment) {
    this.segment = segment;
    this.cidr = parseCidr(segment.cidr);
    this.gateway = parseIp(segment.gateway);
    this.#reserved = [
      { first: this.cidr.base, last: this.cidr.base },
      { first: lastOf(this.cidr), last: lastOf(this.cidr) },
      { first: this.gateway, last: this.gateway },
      ...segment.exclude.map(parseRange),
    ];
  }

  /** Addresses of the block that may be handed out, in order. */
  usable(block: Cidr): number[] {
    const out: number[] = [];
    for (let ip = block.base; ip <= lastOf(block); ip++) if (!inRanges(this.#reserved, ip)) out.push(ip);
    return out;
  }

  /** The segment's blocks, in address order. */
  blocks(): Cidr[] {
    return subnets(this.cidr, BLOCK_PREFIX);
  }
}

/** Checks a segment spec and fills in defaults; throws InputError with the offending field. */
export function validateSegment(spec: SegmentSpec, now: Date): Segment {
  let cidr: Cidr;
  try {
    cidr = parseCidr(spec.cidr);
  } catch (error) {
    throw new InputError(`invalid segment CIDR: ${(error as Error).message}`, [
      { path: 'cidr', message: (error as Error).message },
    ]);
  }
  if (cidr.prefix > BLOCK_PREFIX || cidr.prefix < 8) {
    throw new InputError(`segment ${spec.cidr} must be between /8 and /${BLOCK_PREFIX}`, [
      { path: 'cidr', message: `prefix must be between 8 and ${BLOCK_PREFIX}` },
    ]);
  }
  const gatewayText = spec.gateway ?? formatIp(cidr.base + 1);
  let gateway: number;
  try {
    gateway = parseIp(gatewayText);
  } catch (error) {
    throw new InputError(`invalid gateway: ${(error as Error).message}`, [
      { path: 'gateway', message: (error as Error).message },
    ]);
  }
  if (!contains(cidr, gateway) || gateway === cidr.base || gateway === lastOf(cidr)) {
    throw new InputError(`gateway ${gatewayText} is not a host address of ${spec.cidr}`, [
      { path: 'gateway', message: 'must be a host address inside the segment' },
    ]);
  }
  const exclude = spec.exclude ?? [];
  exclude.forEach((text, i) => {
    let range: AddressRange;
    try {
      range = parseRange(text);
    } catch (error) {
      throw new InputError(`invalid excluded range ${text}`, [
        { path: `exclude.${i}`, message: (error as Error).message },
      ]);
    }
    if (!contains(cidr, range.first) || !contains(cidr, range.last)) {
      throw new InputError(`excluded range ${text} is not inside ${spec.cidr}`, [
        { path: `exclude.${i}`, message: 'must be inside the segment' },
      ]);
    }
  });
  if (spec.vlan !== undefined && (!Number.isInteger(spec.vlan) || spec.vlan < 1 || spec.vlan > 4094)) {
    throw new InputError(`VLAN ${spec.vlan} is out of range`, [{ path: 'vlan', message: 'must be 1..4094' }]);
  }
  return {
    cidr: formatCidr(cidr),
    gateway: gatewayText,
    ...(spec.vlan === undefined ? {} : { vlan: spec.vlan }),
    exclude,
    state: 'active',
    createdAt: now.toISOString(),
  };
}

export async function listSegments(store: IpamStore): Promise<Versioned<Segment>[]> {
  const { items } = await store.list(keys.segments, SegmentSchema);
  // Segments are used in the order they were added: a new one only when the earlier are full.
  return items.sort(
    (a, b) => a.value.createdAt.localeCompare(b.value.createdAt) || a.key.localeCompare(b.key),
  );
}

/** Adds a segment; refuses one overlapping an existing segment of the cell. */
export async function addSegment(store: IpamStore, spec: SegmentSpec, now: Date): Promise<Segment> {
  const segment = validateSegment(spec, now);
  const cidr = parseCidr(segment.cidr);
  for (let attempt = 0; attempt < 5; attempt++) {
    const existing = await store.list(keys.segments, SegmentSchema);
    const clash = existing.items.find((s) => overlaps(parseCidr(s.value.cidr), cidr));
    if (clash) throw new ConflictError(`segment ${segment.cidr} overlaps segment ${clash.value.cidr}`);
    // Compare every existing segment too, so two overlapping adds cannot both pass the check.
    const txn = store.txn().absent(keys.segment(segment.cidr));
    for (const s of existing.items) txn.unchanged(s.key, s.modRevision);
    if (await txn.put(keys.segment(segment.cidr), segment).commit()) return segment;
    // Another segment was added or changed meanwhile: check the overlap again.
  }
  throw new ConflictError(`segment ${segment.cidr}: the segment list kept changing; try again`);
}

/**
 * Removes a segment that has no allocated address. The segment is first marked
 * `draining` so no block is claimed from it meanwhile; its empty blocks are released
 * (each by the block drain protocol); if an address turns out to be allocated the
 * segment goes back to `active` and ConflictError says how many.
 */
export async function removeSegment(
  store: IpamStore,
  cidrText: string,
  releaseBlock: (block: string) => Promise<boolean>,
): Promise<void> {
  const cidr = formatCidr(parseCidr(cidrText));
  const current = await store.get(keys.segment(cidr), SegmentSchema);
  if (!current) throw new NotFoundError(`no segment ${cidr}`);
  const blocksOf = async () =>
    (await store.listKeys(keys.blocks))
      .map((k) => k.slice(keys.blocks.length))
      .filter((b) => overlaps(parseCidr(b), parseCidr(cidr)));
  const allocatedIn = async (blocks: string[]) => {
    const lists = await Promise.all(
      blocks.map((b) => store.list(keys.blockAllocations(b), AllocationSchema)),
    );
    return lists.reduce((n, l) => n + l.items.length, 0);
  };
  const pools = await store.list(keys.pools, PoolSchema);
  const pool = pools.items.find((p) => p.value.segment === cidr);
  if (pool)
    throw new ConflictError(
      `segment ${cidr} holds the fixed pool of ${pool.value.namespace}; remove it first`,
    );
  const before = await allocatedIn(await blocksOf());
  if (before > 0) throw new ConflictError(`segment ${cidr} still has ${before} allocated addresses`);

  const draining = { ...current.value, state: 'draining' as const };
  const marked = await store
    .txn()
    .unchanged(current.key, current.modRevision)
    .put(current.key, draining)
    .commit();
  if (marked === undefined) throw new ConflictError(`segment ${cidr} changed while being removed; try again`);
  const drained = { ...current, value: draining, modRevision: marked };
  const blocks = await blocksOf();
  const released = await Promise.all(blocks.map(releaseBlock));
  const busy = released.filter((ok) => !ok).length;
  if (busy > 0) {
    await store
      .txn()
      .unchanged(drained.key, drained.modRevision)
      .put(drained.key, { ...drained.value, state: 'active' })
      .commit();
    throw new ConflictError(`segment ${cidr} has ${busy} blocks in use; it stays`);
  }
  if (!(await store.txn().unchanged(drained.key, drained.modRevision).del(drained.key).commit())) {
    throw new ConflictError(`segment ${cidr} changed while being removed; try again`);
  }
}
