import type { KubeConfig } from '@kubernetes/client-node';
import { type KeyState, PrefixWatch, parseSlbKey, SLB_ROOT, slbKeys, type Upstream } from '@leengine/slb';
import type { Etcd3 } from 'etcd3';
import type { Logger } from 'pino';
import { CellSource } from './cellSource.ts';
import { DRAINS_PREFIX, DrainSchema, removeDrain } from './drains.ts';
import { addressKey, cellUpstreams, type Drain, isDrained, sortUpstreams } from './endpoints.ts';

/** A cell to watch: its name in the region and how to reach its apiserver. */
export interface DiscoveryCell {
  name: string;
  kubeConfig: KubeConfig;
  /** Identifies the credentials (e.g. the kubeconfig's text): a changed one reconnects. */
  fingerprint?: string;
}

export interface DiscoveryDeps {
  /** etcd3 client; the caller owns it. */
  client: Etcd3;
  /** The cells to watch at start; `setCells` changes them while running. */
  cells: DiscoveryCell[];
  log: Logger;
}

interface Binding {
  group: string;
  domain: string;
  application: string;
}

/**
 * Service discovery: watches every cell's EndpointSlices and pods of applications,
 * and keeps `/slb/{group}/domains/{domain}/upstreams` of every domain bound to an
 * application equal to the application's ready addresses in all cells (with cell and
 * version). Level-based: any change marks the application dirty and its upstreams are
 * computed again from the whole picture; a write happens only when the JSON differs.
 * A cell that has not listed yet (or whose apiserver is away at start) keeps its
 * addresses from the current upstreams rather than losing them.
 */
export class Discovery implements AsyncDisposable {
  readonly #client: Etcd3;
  readonly #log: Logger;
  #cells: CellSource[] = [];
  readonly #fingerprints = new Map<string, string | undefined>();
  readonly #bindings = new Map<string, Binding>();
  readonly #current = new Map<string, string>();
  readonly #drains = new Map<string, Drain>();
  readonly #dirty = new Set<string>();
  #slbReady = false;
  #drainsReady = false;
  #flushing: Promise<void> | undefined;
  #slbWatch: PrefixWatch | undefined;
  #drainWatch: PrefixWatch | undefined;
  #writes = 0;
  #stopped = false;
  readonly #syncWaiters: (() => void)[] = [];

  private constructor(deps: DiscoveryDeps) {
    this.#client = deps.client;
    this.#log = deps.log.child({ component: 'discovery' });
  }

  static start(deps: DiscoveryDeps): Discovery {
    const discovery = new Discovery(deps);
    discovery.#slbWatch = PrefixWatch.start({
      client: deps.client,
      prefix: SLB_ROOT,
      log: discovery.#log,
      onReset: (keys) => discovery.#resetSlb(keys),
      onChanges: (changes) => {
        for (const c of changes)
          discovery.#takeSlb(c.type === 'put' ? c.kv.key : c.key, c.type === 'put' ? c.kv.value : undefined);
        discovery.#kick();
      },
    });
    discovery.#drainWatch = PrefixWatch.start({
      client: deps.client,
      prefix: DRAINS_PREFIX,
      log: discovery.#log,
      onReset: (keys) => {
        for (const app of discovery.#drains.keys()) discovery.#dirty.add(app);
        discovery.#drains.clear();
        for (const kv of keys) discovery.#takeDrain(kv.key, kv.value);
        discovery.#drainsReady = true;
        discovery.#kick();
      },
      onChanges: (changes) => {
        for (const c of changes)
          discovery.#takeDrain(
            c.type === 'put' ? c.kv.key : c.key,
            c.type === 'put' ? c.kv.value : undefined,
          );
        discovery.#kick();
      },
    });
    for (const cell of deps.cells) discovery.#startCell(cell);
    return discovery;
  }

  /** The cells watched now, by name. */
  get cells(): string[] {
    return this.#cells.map((c) => c.cell).sort();
  }

  /**
   * Watches exactly these cells from now on: new ones are listed (until then the
   * addresses the upstreams hold for them are kept), ones with changed credentials
   * reconnect, and the addresses of cells no longer given leave every upstream list.
   */
  async setCells(cells: DiscoveryCell[]): Promise<void> {
    if (this.#stopped) return;
    const wanted = new Map(cells.map((c) => [c.name, c]));
    const leaving = this.#cells.filter((source) => {
      const next = wanted.get(source.cell);
      return !next || next.fingerprint !== this.#fingerprints.get(source.cell);
    });
    // Swapped in one step, so no pass computes upstreams with a reconnecting cell missing.
    this.#cells = this.#cells.filter((source) => !leaving.includes(source));
    const watched = new Set(this.#cells.map((c) => c.cell));
    const joining = cells.filter((c) => !watched.has(c.name));
    for (const cell of joining) this.#startCell(cell);
    const removed = leaving.map((s) => s.cell).filter((name) => !wanted.has(name));
    for (const name of removed) this.#fingerprints.delete(name);
    if (removed.length > 0 || joining.length > 0) {
      this.#log.info({ joining: joining.map((c) => c.name), removed }, 'cells changed');
      this.#markAll();
      this.#kick();
    }
    await Promise.all(leaving.map((source) => source.stop()));
  }

  #startCell(cell: DiscoveryCell): void {
    this.#fingerprints.set(cell.name, cell.fingerprint);
    const source = CellSource.start({
      cell: cell.name,
      kubeConfig: cell.kubeConfig,
      log: this.#log,
      onChange: (application) => {
        if (!this.#cells.includes(source)) return;
        this.#dirty.add(application);
        this.#kick();
      },
      onSynced: () => {
        if (!this.#cells.includes(source)) return;
        this.#log.info({ cell: cell.name }, 'cell listed; full resync');
        this.#markAll();
        this.#kick();
      },
    });
    this.#cells.push(source);
  }

  /** Upstream writes done so far. */
  get writes(): number {
    return this.#writes;
  }

  /** Resolves once every cell and etcd have been listed and the resync is written. */
  async synced(): Promise<void> {
    while (!this.#allSynced() || this.#dirty.size > 0 || this.#flushing) {
      await new Promise<void>((resolve) => {
        this.#syncWaiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all([
      this.#slbWatch?.stop(),
      this.#drainWatch?.stop(),
      ...this.#cells.map((c) => c.stop()),
    ]);
    await this.#flushing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  #allSynced(): boolean {
    return this.#slbReady && this.#drainsReady && this.#cells.every((c) => c.synced);
  }

  #resetSlb(keys: KeyState[]): void {
    this.#bindings.clear();
    this.#current.clear();
    for (const kv of keys) this.#takeSlb(kv.key, kv.value);
    this.#slbReady = true;
    this.#markAll();
    this.#kick();
  }

  #takeSlb(key: string, value: string | undefined): void {
    const parsed = parseSlbKey(key);
    if (parsed?.kind === 'config') {
      const id = `${parsed.group}/${parsed.domain}`;
      const before = this.#bindings.get(id);
      if (before) this.#dirty.add(before.application);
      if (value === undefined) {
        this.#bindings.delete(id);
        return;
      }
      try {
        const application = (JSON.parse(value) as { application?: unknown }).application;
        if (typeof application !== 'string') return;
        this.#bindings.set(id, { group: parsed.group, domain: parsed.domain, application });
        this.#dirty.add(application);
      } catch {
        this.#log.warn({ key }, 'domain config is not JSON; ignored');
      }
    } else if (parsed?.kind === 'upstreams') {
      const id = `${parsed.group}/${parsed.domain}`;
      if (value === undefined) this.#current.delete(id);
      else this.#current.set(id, value);
      // Someone else's write is corrected on the next pass; ours compares equal.
      const binding = this.#bindings.get(id);
      if (binding) this.#dirty.add(binding.application);
    }
  }

  #takeDrain(key: string, value: string | undefined): void {
    const application = key.slice(DRAINS_PREFIX.length);
    this.#dirty.add(application);
    if (value === undefined) {
      this.#drains.delete(application);
      return;
    }
    const parsed = DrainSchema.safeParse(safeJson(value));
    if (parsed.success) this.#drains.set(application, parsed.data);
    else this.#log.warn({ key }, 'invalid drain; ignored');
  }

  #markAll(): void {
    for (const binding of this.#bindings.values()) this.#dirty.add(binding.application);
  }

  #kick(): void {
    if (this.#stopped) return;
    this.#flushing ??= this.#flush().finally(() => {
      this.#flushing = undefined;
      if (this.#dirty.size > 0 && this.#slbReady && this.#drainsReady) this.#kick();
      for (const resolve of this.#syncWaiters.splice(0)) resolve();
    });
  }

  async #flush(): Promise<void> {
    // Before etcd is listed we do not know the bindings or current upstreams.
    if (!this.#slbReady || !this.#drainsReady) return;
    while (this.#dirty.size > 0 && !this.#stopped) {
      const applications = [...this.#dirty];
      this.#dirty.clear();
      for (const application of applications) {
        try {
          await this.#write(application);
        } catch (error) {
          this.#log.warn({ application, err: error }, 'writing upstreams failed; retrying');
          this.#dirty.add(application);
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    }
  }

  async #write(application: string): Promise<void> {
    await this.#forgetGoneDrains(application);
    const domains = [...this.#bindings.entries()].filter(([, b]) => b.application === application);
    if (domains.length === 0) return;
    const upstreams = this.#compute(
      application,
      domains.map(([id]) => id),
    );
    const json = JSON.stringify(upstreams);
    const stale = domains.filter(([id]) => this.#current.get(id) !== json);
    if (stale.length === 0) return;
    // One transaction per application: all its domains change at the same revision (the
    // compare always holds: etcd3's client starts every transaction with one).
    const first = stale[0]?.[1];
    await this.#client
      .if(slbKeys.upstreams(first?.group ?? '', first?.domain ?? ''), 'Version', '>', -1)
      .then(...stale.map(([, b]) => this.#client.put(slbKeys.upstreams(b.group, b.domain)).value(json)))
      .commit();
    for (const [id] of stale) this.#current.set(id, json);
    this.#writes++;
    this.#log.debug({ application, domains: stale.length, addresses: upstreams.length }, 'upstreams written');
  }

  #compute(application: string, domainIds: string[]): Upstream[] {
    const drain = this.#drains.get(application);
    const out: Upstream[] = [];
    const carried = this.#currentOf(domainIds);
    for (const cell of this.#cells) {
      if (cell.synced) {
        out.push(...cellUpstreams(cell.cell, application, cell.slicesOf(application), cell.pods, drain));
      } else {
        out.push(...carried.filter((u) => u.cell === cell.cell && !isDrained(drain, u)));
      }
    }
    return sortUpstreams(out);
  }

  /**
   * Drained addresses and pods that no longer exist in their (listed) cell leave the
   * drain: an address is reused by later pods, which must not stay out of the upstreams.
   * Only when every cell has listed, since a pod may be in any of them.
   */
  async #forgetGoneDrains(application: string): Promise<void> {
    const drain = this.#drains.get(application);
    if (!drain || (drain.addresses.length === 0 && drain.pods.length === 0)) return;
    if (!this.#cells.every((c) => c.synced)) return;
    const addresses = new Set<string>();
    const pods = new Set<string>();
    for (const cell of this.#cells) {
      for (const slice of cell.slicesOf(application)) {
        for (const e of slice.endpoints) {
          if (slice.port !== undefined) addresses.add(addressKey(cell.cell, e.ip, slice.port));
          if (e.pod) pods.add(e.pod);
        }
      }
      for (const key of cell.pods.keys())
        if (key.startsWith(`${application}/`)) pods.add(key.slice(application.length + 1));
    }
    const gone = {
      addresses: drain.addresses.filter((a) => !addresses.has(a)),
      pods: drain.pods.filter((p) => !pods.has(p)),
    };
    if (gone.addresses.length === 0 && gone.pods.length === 0) return;
    await removeDrain(this.#client, application, gone);
    this.#log.info({ application, ...gone }, 'drained instances are gone; drain entries removed');
  }

  #currentOf(domainIds: string[]): Upstream[] {
    for (const id of domainIds) {
      const raw = this.#current.get(id);
      const parsed = raw === undefined ? undefined : safeJson(raw);
      if (Array.isArray(parsed)) return parsed as Upstream[];
    }
    return [];
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
