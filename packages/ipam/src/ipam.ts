import type { Etcd3 } from 'etcd3';
import {
  type Allocated,
  type AllocateRequest,
  allocate,
  allocateFromState,
  forgetInState,
  getAllocation,
  getAttachment,
  listAllocations,
  type NodeState,
  releaseAddress,
  releaseAttachment,
} from './allocator.ts';
import { releaseBlock } from './blocks.ts';
import { parseIp } from './ipv4.ts';
import { keys } from './keys.ts';
import {
  type Allocation,
  type AttachmentRef,
  type Block,
  BlockSchema,
  type Pool,
  type Versioned,
} from './model.ts';
import { createPool, listPools, type PoolSpec, removePool } from './pools.ts';
import { addSegment, listSegments, removeSegment, type SegmentSpec } from './segments.ts';
import { IpamStore } from './store.ts';
import { type Usage, usage } from './usage.ts';

export interface IpamOptions {
  /** An etcd3 client; the caller owns it (and closes it). */
  client: Etcd3;
  /** The cell (Kubernetes cluster) whose addresses these are. */
  cell: string;
  now?: () => Date;
  random?: () => number;
}

/** The IPAM of one cell, kept in etcd: segments, node blocks, fixed pools, allocations. */
export class Ipam {
  readonly cell: string;
  readonly #store: IpamStore;
  readonly #now: () => Date;
  readonly #random: () => number;
  readonly #nodeQueues = new Map<string, Promise<void>>();
  /** Each node's blocks as this process last saw them: an ADD is then one transaction. */
  readonly #nodeStates = new Map<string, NodeState>();

  private constructor(options: IpamOptions) {
    this.cell = options.cell;
    this.#store = IpamStore.create(options.client, options.cell);
    this.#now = options.now ?? (() => new Date());
    this.#random = options.random ?? Math.random;
  }

  static create(options: IpamOptions): Ipam {
    return new Ipam(options);
  }

  /** Adds a segment the network team planned (refuses overlaps). */
  addSegment(spec: SegmentSpec) {
    return addSegment(this.#store, spec, this.#now());
  }

  async listSegments() {
    return (await listSegments(this.#store)).map((s) => s.value);
  }

  /** Removes a segment that has no allocated address and no fixed pool. */
  removeSegment(cidr: string): Promise<void> {
    return removeSegment(this.#store, cidr, (block) => releaseBlock(this.#store, block));
  }

  /**
   * Gives a CNI attachment an address (the same one again on a retried ADD). Within
   * this process, one node's allocations run one at a time: they would only race for
   * the same free address (the agent serves a node's ADDs this way). Across processes
   * etcd's compare-and-swap keeps them apart.
   */
  allocate(request: AllocateRequest): Promise<Allocated> {
    const previous = this.#nodeQueues.get(request.node) ?? Promise.resolve();
    const run = previous.then(() => this.#allocate(request));
    const settled = run.then(
      () => {},
      () => {},
    );
    this.#nodeQueues.set(request.node, settled);
    void settled.then(() => {
      if (this.#nodeQueues.get(request.node) === settled) this.#nodeQueues.delete(request.node);
    });
    return run;
  }

  async #allocate(request: AllocateRequest): Promise<Allocated> {
    const deps = { store: this.#store, now: this.#now, random: this.#random };
    const known = this.#nodeStates.get(request.node);
    if (known) {
      const fast = await allocateFromState(deps, request, known);
      if (fast) return fast;
      this.#nodeStates.delete(request.node);
    }
    return allocate(deps, request, (state) => this.#nodeStates.set(request.node, state));
  }

  /** Frees the attachment's address; undefined if it had none (idempotent DEL). */
  async releaseAttachment(attachment: AttachmentRef): Promise<Allocation | undefined> {
    const released = await releaseAttachment(this.#store, attachment);
    if (released) for (const state of this.#nodeStates.values()) forgetInState(state, released);
    return released;
  }

  /** Frees an address; with `expectedRevision`, only if it is still the allocation that was checked. */
  releaseAddress(ip: string, options?: { expectedRevision?: string }): Promise<Allocation> {
    return releaseAddress(this.#store, ip, options);
  }

  /** The address an attachment holds, if any. */
  getAttachment(attachment: AttachmentRef): Promise<Versioned<Allocation> | undefined> {
    return getAttachment(this.#store, attachment);
  }

  getAllocation(ip: string): Promise<Versioned<Allocation> | undefined> {
    return getAllocation(this.#store, parseIp(ip));
  }

  listAllocations(): Promise<{ items: Versioned<Allocation>[]; revision: string }> {
    return listAllocations(this.#store);
  }

  async listBlocks(): Promise<Block[]> {
    return (await this.#store.list(keys.blocks, BlockSchema)).items.map((b) => b.value);
  }

  /** Releases the node blocks `which` selects that hold no allocation; returns the released ones. */
  async releaseEmptyBlocks(which: (block: Block) => boolean): Promise<string[]> {
    const blocks = (await this.listBlocks()).filter((b) => b.pool === undefined && which(b));
    const released = await Promise.all(blocks.map((b) => releaseBlock(this.#store, b.cidr)));
    return blocks.filter((_, i) => released[i]).map((b) => b.cidr);
  }

  createPool(spec: PoolSpec): Promise<Pool> {
    return createPool(this.#store, spec, this.#now());
  }

  listPools(): Promise<Pool[]> {
    return listPools(this.#store);
  }

  removePool(namespace: string): Promise<void> {
    return removePool(this.#store, namespace);
  }

  /** Addresses per segment, node and block. */
  usage(): Promise<Usage> {
    return usage(this.#store);
  }
}
