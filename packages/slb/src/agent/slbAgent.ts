import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type AgentStatus,
  type DomainConfig,
  DomainConfigSchema,
  type Upstream,
  UpstreamsSchema,
} from '@leengine/common';
import type { Etcd3, Lease } from 'etcd3';
import type { Logger } from 'pino';
import { parseSlbKey, slbKeys } from '../etcd/keys.ts';
import { type KeyChange, type KeyState, PrefixWatch } from '../etcd/prefixWatch.ts';
import { renderControlBatch, renderDynamicState } from '../render/dynamicState.ts';
import { type ListenContext, renderDomain } from '../render/renderDomain.ts';
import { type MainContext, renderMain } from '../render/renderMain.ts';
import { type AgentSettings, type AgentSettingsInput, AgentSettingsSchema } from './agentSettings.ts';
import { type AppliedState, readAppliedState, writeAppliedState } from './appliedState.ts';
import { domainsInTestOutput, type Generation, LUA_DIR, NginxRuntime } from './nginxRuntime.ts';

export interface SlbAgentDeps {
  settings: AgentSettingsInput;
  /** An etcd3 client; the caller owns it (and closes it after `stop()`). */
  client: Etcd3;
  log: Logger;
}

/** How many times one apply narrows down domains that nginx -t refuses before giving up. */
const MAX_TEST_ROUNDS = 6;
/**
 * The applied state is written at most this often (and on stop), not after every apply:
 * it holds the whole group, and a restart that resumes from a slightly older revision
 * only replays a little more of the watch.
 */
const PERSIST_INTERVAL_MS = 1000;

/**
 * slb-agent: one per nginx host, a level-based reconciler of the group's etcd prefix
 * into that host's nginx. Config changes are rendered (pure), staged as a new generation,
 * checked with `nginx -t`, swapped in and reloaded (reloads closer than
 * `reloadMinIntervalMs` are coalesced); upstream and canary changes go to the Lua shared
 * dict through the control socket, with no reload. A domain whose change nginx refuses
 * keeps its last good config while the others go ahead; its error is reported under the
 * agent's lease-bound key with the applied revision.
 */
export class SlbAgent implements AsyncDisposable {
  readonly settings: AgentSettings;
  readonly runtime: NginxRuntime;
  readonly #client: Etcd3;
  readonly #log: Logger;
  readonly #listen: ListenContext;
  readonly #epoch = randomUUID();
  /** Desired state from etcd: domain -> raw JSON. */
  readonly #configs = new Map<string, string>();
  readonly #upstreams = new Map<string, string>();
  /** What nginx holds: live domain files and the state pushed to the shared dict. */
  #liveTexts = new Map<string, string>();
  readonly #pushed = new Map<string, string>();
  /** The etcd revision each pushed state was computed from (a push never goes back in time). */
  readonly #pushedAt = new Map<string, number>();
  /** Pushes to nginx, one at a time, each deciding what to send when its turn comes. */
  #pushQueue: Promise<unknown> = Promise.resolve();
  /** Domain -> the config text nginx -t refused, and why. */
  readonly #rejected = new Map<string, { text: string; error: string }>();
  #knownRevision = 0;
  /** The revision last written to the applied-state file. */
  #persistedRevision = 0;
  /** The newest applied state not yet written, and the timer that will write it. */
  #pendingState: AppliedState | undefined;
  #persistTimer: NodeJS.Timeout | undefined;
  /** Times the group was listed whole (on start without applied state, after compaction or errors). */
  #lists = 0;
  #dirty = false;
  #running: Promise<void> | undefined;
  #stopped = false;
  #lastReloadAt = Number.NEGATIVE_INFINITY;
  #reloads = 0;
  #generationNumber: number;
  #status: AgentStatus;
  #lease: Lease | undefined;
  #reporting: Promise<void> | undefined;
  #reportAgain = false;
  #watch: PrefixWatch | undefined;
  #verifyTimer: NodeJS.Timeout | undefined;
  readonly #revisionWaiters = new Set<{ revision: number; resolve: () => void }>();
  #lastApply: ApplyTimings | undefined;

  private constructor(deps: SlbAgentDeps) {
    this.settings = AgentSettingsSchema.parse(deps.settings);
    this.#client = deps.client;
    this.#log = deps.log.child({
      component: 'slb-agent',
      group: this.settings.group,
      host: this.settings.host,
    });
    this.runtime = NginxRuntime.create({ root: this.settings.root, binary: this.settings.nginxBinary });
    this.#listen = { http: this.settings.http, https: this.settings.https, certDir: this.settings.certDir };
    this.#generationNumber = 0;
    this.#status = {
      host: this.settings.host,
      group: this.settings.group,
      revision: 0,
      generation: '',
      appliedAt: new Date(0).toISOString(),
      error: null,
      domainErrors: {},
      reloads: 0,
    };
  }

  /**
   * Writes a first generation (no domains) when none is live, so that nginx can be
   * started on `<root>/live/nginx.conf` before the agent runs (systemd's ExecStartPre,
   * or a test). Returns the runtime (paths, pid file, control socket).
   */
  static async bootstrap(settingsInput: AgentSettingsInput): Promise<NginxRuntime> {
    const settings = AgentSettingsSchema.parse(settingsInput);
    const runtime = NginxRuntime.create({ root: settings.root, binary: settings.nginxBinary });
    runtime.ensureLayout(settings.dropPrivileges);
    if (runtime.liveGeneration()) return runtime;
    const id = `g${runtime.lastGenerationNumber() + 1}`;
    const generation = runtime.stage(
      id,
      renderMain(mainContext(settings, runtime, id)),
      new Map(),
      new Map(),
    );
    const test = await runtime.test(generation);
    if (!test.ok) throw new Error(`slb-agent: the initial nginx config is refused: ${test.output}`);
    runtime.swap(generation);
    return runtime;
  }

  /** Starts watching the group and applying it to the running nginx. */
  static async start(deps: SlbAgentDeps): Promise<SlbAgent> {
    const agent = new SlbAgent(deps);
    await SlbAgent.bootstrap(agent.settings);
    agent.#liveTexts = agent.runtime.liveDomains();
    agent.#generationNumber = agent.runtime.lastGenerationNumber();
    agent.#status.generation = agent.runtime.liveGeneration()?.id ?? '';
    // Resume from the last applied revision with the snapshot it was rendered from; the
    // watch lists the group only when there is none or etcd compacted that revision away.
    const applied = readAppliedState(agent.settings.root, agent.settings.group);
    if (applied) {
      for (const [domain, raw] of applied.configs) agent.#configs.set(domain, raw);
      for (const [domain, raw] of applied.upstreams) agent.#upstreams.set(domain, raw);
      agent.#knownRevision = applied.revision;
      agent.#persistedRevision = applied.revision;
      agent.#log.info({ revision: applied.revision }, 'resuming from the applied revision');
    }
    agent.#watch = PrefixWatch.start({
      client: agent.#client,
      prefix: slbKeys.group(agent.settings.group),
      log: agent.#log,
      onReset: (keys, revision) => agent.#onReset(keys, revision),
      onChanges: (changes, revision) => agent.#onChanges(changes, revision),
      ...(applied ? { fromRevision: applied.revision } : {}),
    });
    // Nginx may have restarted meanwhile (no pushed state): apply the snapshot at once.
    if (applied) agent.#kick();
    agent.#verifyTimer = setInterval(() => void agent.#verify(), agent.settings.verifyIntervalMs);
    agent.#verifyTimer.unref();
    agent.#log.info({ root: agent.settings.root }, 'slb agent started');
    return agent;
  }

  /** The latest report (also under `/slb/{group}/agents/{host}`). */
  get status(): AgentStatus {
    return this.#status;
  }

  /** How long the last apply with a reload took, by step (for benchmarks and logs). */
  get lastApply(): ApplyTimings | undefined {
    return this.#lastApply;
  }

  /** Times this agent process listed the whole group (0 when it resumed and etcd kept the history). */
  get lists(): number {
    return this.#lists;
  }

  /** Reloads done by this agent process. */
  get reloads(): number {
    return this.#reloads;
  }

  /** Resolves once the state of etcd revision `revision` (or later) is live. */
  waitForRevision(revision: number, timeoutMs = 30_000): Promise<void> {
    if (this.#status.revision >= revision) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = {
        revision,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.#revisionWaiters.delete(waiter);
        reject(
          new Error(
            `slb-agent: revision ${revision} not applied within ${timeoutMs} ms (at ${this.#status.revision}; error: ${this.#status.error})`,
          ),
        );
      }, timeoutMs);
      this.#revisionWaiters.add(waiter);
    });
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#verifyTimer);
    await this.#watch?.stop();
    await this.#running?.catch(() => {});
    await this.#reporting?.catch(() => {});
    clearTimeout(this.#persistTimer);
    this.#writePendingState();
    // Revoking the lease removes our key at once: we no longer apply anything.
    await this.#lease?.revoke().catch(() => {});
    this.#log.info('slb agent stopped');
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  #onReset(keys: KeyState[], revision: number): void {
    this.#lists++;
    this.#log.info({ revision, keys: keys.length }, 'listed the group');
    this.#configs.clear();
    this.#upstreams.clear();
    for (const kv of keys) this.#take(kv.key, kv.value);
    this.#knownRevision = revision;
    this.#kick();
  }

  #onChanges(changes: KeyChange[], revision: number): void {
    let relevant = false;
    for (const change of changes) {
      if (change.type === 'put') relevant = this.#take(change.kv.key, change.kv.value) || relevant;
      else relevant = this.#take(change.key, undefined) || relevant;
    }
    if (!relevant) return;
    this.#knownRevision = revision;
    // Upstream changes do not wait behind a reload in progress (one can take seconds
    // with thousands of domains): they go to nginx at once; the next pass confirms them.
    if (this.#running) {
      const upstreamDomains = new Set<string>();
      for (const change of changes) {
        const parsed = parseSlbKey(change.type === 'put' ? change.kv.key : change.key);
        if (parsed?.kind === 'upstreams') upstreamDomains.add(parsed.domain);
      }
      if (upstreamDomains.size > 0) void this.#fastPush(upstreamDomains, revision);
    }
    this.#kick();
  }

  async #fastPush(domains: Set<string>, revision: number): Promise<void> {
    const states = new Map<string, string>();
    for (const domain of domains) {
      const raw = this.#configs.get(domain);
      if (raw === undefined || !this.#liveTexts.has(domain)) continue;
      const config = parseConfig(raw, domain, this.settings.group);
      const peers = parseUpstreams(this.#upstreams.get(domain));
      if (config.ok && peers.ok) states.set(domain, renderDynamicState(peers.value, config.value.canary));
    }
    try {
      await this.#push(states, this.#liveTexts, revision);
    } catch (error) {
      this.#log.warn({ err: error }, 'pushing upstreams during a reload failed; the next pass retries');
    }
  }

  /** Records a config or upstreams key; false for keys that do not change what nginx serves. */
  #take(key: string, value: string | undefined): boolean {
    const parsed = parseSlbKey(key);
    if (parsed?.kind !== 'config' && parsed?.kind !== 'upstreams') return false;
    const map = parsed.kind === 'config' ? this.#configs : this.#upstreams;
    if (value === undefined) map.delete(parsed.domain);
    else map.set(parsed.domain, value);
    return true;
  }

  #kick(): void {
    this.#dirty = true;
    this.#running ??= this.#loop().finally(() => {
      this.#running = undefined;
    });
  }

  async #loop(): Promise<void> {
    let backoff = 200;
    while (this.#dirty && !this.#stopped) {
      this.#dirty = false;
      const runId = randomUUID().slice(0, 8);
      const started = performance.now();
      try {
        await this.#reconcile(runId);
        backoff = 200;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        this.#log.error({ runId, err: error }, 'apply failed; retrying');
        this.#status = { ...this.#status, error: message };
        this.#report();
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 5000);
        this.#dirty = true;
      } finally {
        this.#log.debug({ runId, ms: Math.round(performance.now() - started) }, 'reconcile');
      }
    }
  }

  async #reconcile(runId: string): Promise<void> {
    const reconcileStarted = performance.now();
    // A consistent snapshot: the watch callbacks run on this thread, between awaits.
    const revision = this.#knownRevision;
    const configs = new Map(this.#configs);
    const upstreams = new Map(this.#upstreams);
    const domainErrors: Record<string, string> = {};
    const desiredTexts = new Map<string, string>();
    const desiredStates = new Map<string, string>();

    for (const [domain, raw] of configs) {
      const config = parseConfig(raw, domain, this.settings.group);
      if (!config.ok) {
        domainErrors[domain] = config.error;
        const live = this.#liveTexts.get(domain);
        if (live !== undefined) desiredTexts.set(domain, live);
        continue;
      }
      const text = renderDomain(config.value, this.#listen);
      const rejected = this.#rejected.get(domain);
      if (rejected && rejected.text === text) {
        domainErrors[domain] = rejected.error;
        const live = this.#liveTexts.get(domain);
        if (live !== undefined) desiredTexts.set(domain, live);
      } else {
        if (rejected) this.#rejected.delete(domain);
        desiredTexts.set(domain, text);
      }
      const peers = parseUpstreams(upstreams.get(domain));
      if (!peers.ok) {
        domainErrors[domain] = peers.error;
        const pushed = this.#pushed.get(domain);
        if (pushed !== undefined) desiredStates.set(domain, pushed);
        continue;
      }
      desiredStates.set(domain, renderDynamicState(peers.value, config.value.canary));
    }
    for (const domain of this.#rejected.keys()) if (!configs.has(domain)) this.#rejected.delete(domain);

    let generation = this.runtime.liveGeneration();
    if (this.#configChanged(desiredTexts, generation)) {
      const wait = this.#lastReloadAt + this.settings.reloadMinIntervalMs - performance.now();
      if (wait > 0) {
        // Coalesce: upstream changes go out now, the reload waits and takes whatever
        // else changes meanwhile.
        await this.#push(desiredStates, this.#liveTexts, revision);
        await sleep(wait);
        this.#dirty = true;
        return;
      }
      const stagingAt = performance.now();
      generation = await this.#stageTested(runId, desiredTexts, domainErrors);
      const testedAt = performance.now();
      if (generation) {
        await this.#push(desiredStates, desiredTexts, revision);
        this.runtime.swap(generation);
        const reloadStarted = performance.now();
        await this.runtime.reload(generation);
        this.#lastReloadAt = performance.now();
        this.#reloads++;
        this.#liveTexts = desiredTexts;
        this.#lastApply = {
          domains: desiredTexts.size,
          renderMs: stagingAt - reconcileStarted,
          stageAndTestMs: testedAt - stagingAt,
          reloadMs: this.#lastReloadAt - reloadStarted,
          totalMs: this.#lastReloadAt - reconcileStarted,
        };
        this.#log.info(
          {
            runId,
            generation: generation.id,
            domains: desiredTexts.size,
            reloadMs: Math.round(this.#lastReloadAt - reloadStarted),
          },
          'config reloaded',
        );
        this.runtime.prune();
      }
    }
    await this.#push(desiredStates, this.#liveTexts, revision);
    await this.#deleteGone(desiredStates);

    this.#status = {
      host: this.settings.host,
      group: this.settings.group,
      revision,
      generation: this.runtime.liveGeneration()?.id ?? '',
      appliedAt: new Date().toISOString(),
      error: null,
      domainErrors,
      reloads: this.#reloads,
    };
    this.#persist(revision, configs, upstreams);
    this.#report();
    for (const waiter of this.#revisionWaiters) {
      if (waiter.revision <= revision) {
        this.#revisionWaiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  /**
   * Keeps the applied revision and its snapshot on disk, for a restart to resume from:
   * the newest one, within PERSIST_INTERVAL_MS (the maps are this apply's own copies).
   */
  #persist(revision: number, configs: Map<string, string>, upstreams: Map<string, string>): void {
    if (revision <= this.#persistedRevision) return;
    this.#pendingState = { group: this.settings.group, revision, configs, upstreams };
    if (this.#persistTimer) return;
    this.#persistTimer = setTimeout(() => this.#writePendingState(), PERSIST_INTERVAL_MS);
    this.#persistTimer.unref();
  }

  #writePendingState(): void {
    this.#persistTimer = undefined;
    const state = this.#pendingState;
    this.#pendingState = undefined;
    if (!state) return;
    try {
      writeAppliedState(this.settings.root, state);
      this.#persistedRevision = state.revision;
    } catch (error) {
      this.#log.warn(
        { err: error, revision: state.revision },
        'could not keep the applied state; a restart will list',
      );
    }
  }

  #configChanged(desired: ReadonlyMap<string, string>, live: Generation | undefined): boolean {
    if (!live) return true;
    if (renderMain(mainContext(this.settings, this.runtime, live.id)) !== this.runtime.liveMain())
      return true;
    if (!sameLua(live)) return true;
    if (desired.size !== this.#liveTexts.size) return true;
    for (const [domain, text] of desired) if (this.#liveTexts.get(domain) !== text) return true;
    return false;
  }

  /**
   * Stages the desired config and runs nginx -t; when nginx refuses a domain's new
   * config, that domain keeps its live config (or stays out, if new) and the rest is
   * tested again. Returns undefined when nothing but refused changes was left.
   */
  async #stageTested(
    runId: string,
    desired: Map<string, string>,
    domainErrors: Record<string, string>,
  ): Promise<Generation | undefined> {
    for (let round = 1; round <= MAX_TEST_ROUNDS; round++) {
      const id = `g${++this.#generationNumber}`;
      const generation = this.runtime.stage(
        id,
        renderMain(mainContext(this.settings, this.runtime, id)),
        desired,
        this.#liveTexts,
      );
      const test = await this.runtime.test(generation);
      if (test.ok) return generation;
      const changed = [...desired].filter(([d, text]) => this.#liveTexts.get(d) !== text).map(([d]) => d);
      let culprits = domainsInTestOutput(test.output).filter((d) => changed.includes(d));
      if (culprits.length === 0 && changed.length === 1) culprits = changed;
      if (culprits.length === 0 && changed.length > 1) culprits = await this.#findCulprits(changed, desired);
      if (culprits.length === 0) throw new Error(`nginx -t refused the config: ${test.output}`);
      const message = firstError(test.output);
      for (const domain of culprits) {
        const text = desired.get(domain) ?? '';
        this.#rejected.set(domain, { text, error: message });
        domainErrors[domain] = message;
        const live = this.#liveTexts.get(domain);
        if (live === undefined) desired.delete(domain);
        else desired.set(domain, live);
        this.#log.warn(
          { runId, domain, error: message },
          'nginx -t refused the domain; its last good config stays live',
        );
      }
      if (!this.#configChanged(desired, this.runtime.liveGeneration())) return undefined;
    }
    throw new Error(`nginx -t still refuses the config after ${MAX_TEST_ROUNDS} rounds`);
  }

  /** When nginx names no file: test each changed domain alone on top of the live config. */
  async #findCulprits(changed: string[], desired: ReadonlyMap<string, string>): Promise<string[]> {
    const culprits: string[] = [];
    for (const domain of changed) {
      const trial = new Map(this.#liveTexts);
      const text = desired.get(domain);
      if (text === undefined) trial.delete(domain);
      else trial.set(domain, text);
      const id = `g${++this.#generationNumber}`;
      const generation = this.runtime.stage(
        id,
        renderMain(mainContext(this.settings, this.runtime, id)),
        trial,
        this.#liveTexts,
      );
      if (!(await this.runtime.test(generation)).ok) culprits.push(domain);
    }
    return culprits;
  }

  /**
   * Pushes the states (computed from etcd revision `revision`) that differ from what nginx
   * holds, for domains that have a server block; skips domains already pushed from a
   * newer revision.
   */
  #push(
    states: ReadonlyMap<string, string>,
    served: ReadonlyMap<string, string>,
    revision: number,
  ): Promise<void> {
    return this.#enqueue(async () => {
      const changes = new Map<string, string | null>();
      for (const [domain, state] of states) {
        if ((this.#pushedAt.get(domain) ?? 0) > revision) continue;
        if (served.has(domain) && this.#pushed.get(domain) !== state) changes.set(domain, state);
      }
      if (changes.size === 0) return;
      await this.runtime.control.push(renderControlBatch(changes), this.#epoch);
      for (const [domain, state] of changes) {
        this.#pushed.set(domain, state ?? '');
        this.#pushedAt.set(domain, revision);
      }
    });
  }

  #deleteGone(states: ReadonlyMap<string, string>): Promise<void> {
    return this.#enqueue(async () => {
      const gone = new Map<string, string | null>();
      for (const domain of this.#pushed.keys()) {
        if (!states.has(domain) && !this.#liveTexts.has(domain)) gone.set(domain, null);
      }
      if (gone.size === 0) return;
      await this.runtime.control.push(renderControlBatch(gone), this.#epoch);
      for (const domain of gone.keys()) {
        this.#pushed.delete(domain);
        this.#pushedAt.delete(domain);
      }
    });
  }

  #enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.#pushQueue.then(task, task);
    this.#pushQueue = run.catch(() => {});
    return run;
  }

  /** A restarted nginx holds no pushed state (its epoch is gone): push everything again. */
  async #verify(): Promise<void> {
    if (this.#stopped || this.#running) return;
    try {
      const epoch = await this.runtime.control.epoch();
      if (epoch !== this.#epoch && this.#pushed.size > 0) {
        this.#log.warn({ epoch }, 'nginx lost the pushed state (restarted?); pushing again');
        this.#pushed.clear();
        this.#pushedAt.clear();
        this.#kick();
      }
    } catch (error) {
      this.#log.warn({ err: error }, 'nginx control socket not answering');
    }
  }

  /** Puts the latest status under the lease-bound key; one writer at a time, latest wins. */
  #report(): void {
    if (this.#reporting) {
      this.#reportAgain = true;
      return;
    }
    this.#reporting = (async () => {
      let backoff = 200;
      do {
        this.#reportAgain = false;
        try {
          const lease = this.#ensureLease();
          await lease
            .put(slbKeys.agent(this.settings.group, this.settings.host))
            .value(JSON.stringify(this.#status))
            .exec();
          backoff = 200;
        } catch (error) {
          if (this.#stopped) return;
          this.#log.warn({ err: error }, 'could not report status to etcd; retrying');
          void this.#lease?.revoke().catch(() => {});
          this.#lease = undefined;
          await sleep(backoff);
          backoff = Math.min(backoff * 2, 5000);
          this.#reportAgain = true;
        }
      } while (this.#reportAgain && !this.#stopped);
    })().finally(() => {
      this.#reporting = undefined;
    });
  }

  #ensureLease(): Lease {
    if (this.#lease) return this.#lease;
    const lease = this.#client.lease(this.settings.leaseTtlSeconds);
    lease.on('lost', (error) => {
      if (this.#stopped || this.#lease !== lease) return;
      this.#log.warn({ err: error }, 'agent lease lost; reporting under a new one');
      this.#lease = undefined;
      this.#report();
    });
    this.#lease = lease;
    return lease;
  }
}

/** Milliseconds of one apply that reloaded nginx. */
export interface ApplyTimings {
  domains: number;
  /** Reading the snapshot and rendering every domain. */
  renderMs: number;
  /** Writing the generation and `nginx -t` on it (all rounds). */
  stageAndTestMs: number;
  /** SIGHUP until the new workers answer and the old ones stopped accepting. */
  reloadMs: number;
  totalMs: number;
}

/** The main config's context for generation `id` of this host (what `renderMain` renders). */
export function mainContext(settings: AgentSettings, runtime: NginxRuntime, id: string): MainContext {
  return {
    root: settings.root,
    genDir: runtime.genDir(id),
    generation: id,
    modulesDir: settings.modulesDir,
    workerProcesses: settings.workerProcesses,
    workerConnections: settings.workerConnections,
    dropPrivileges: settings.dropPrivileges,
    http: settings.http,
    metrics: settings.metrics,
    controlSocket: runtime.controlSocket,
    upstreamsDictMb: settings.upstreamsDictMb,
    metricsDictMb: settings.metricsDictMb,
    keepalive: settings.keepalive,
  };
}

let packagedLua: string | undefined;
function sameLua(live: Generation): boolean {
  packagedLua ??= readFileSync(join(LUA_DIR, 'leengine', 'slb.lua'), 'utf8');
  try {
    return readFileSync(join(live.dir, 'lua', 'leengine', 'slb.lua'), 'utf8') === packagedLua;
  } catch {
    return false;
  }
}

type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** Re-validates what etcd holds: the agent renders nothing it has not checked itself. */
function parseConfig(raw: string, domain: string, group: string): Parsed<DomainConfig> {
  try {
    const parsed = DomainConfigSchema.safeParse(JSON.parse(raw));
    if (!parsed.success)
      return { ok: false, error: `invalid config in etcd: ${parsed.error.issues[0]?.message}` };
    if (parsed.data.domain !== domain || parsed.data.group !== group)
      return { ok: false, error: 'config names another domain or group than its key' };
    return { ok: true, value: parsed.data };
  } catch {
    return { ok: false, error: 'config in etcd is not JSON' };
  }
}

function parseUpstreams(raw: string | undefined): Parsed<Upstream[]> {
  if (raw === undefined) return { ok: true, value: [] };
  try {
    const parsed = UpstreamsSchema.safeParse(JSON.parse(raw));
    return parsed.success
      ? { ok: true, value: parsed.data }
      : { ok: false, error: `invalid upstreams in etcd: ${parsed.error.issues[0]?.message}` };
  } catch {
    return { ok: false, error: 'upstreams in etcd are not JSON' };
  }
}

/** The first `[emerg]` line of nginx -t output, without the "nginx: " prefix. */
function firstError(output: string): string {
  const line =
    output.split('\n').find((l) => /\[(emerg|alert|crit|error)\]/.test(l)) ?? output.split('\n')[0] ?? '';
  return line.replace(/^nginx: /, '').slice(0, 500);
}
