import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import type { Logger } from 'pino';
import { rendezvousOrder } from './rendezvous.ts';
import {
  type AgentRegistration,
  AgentRegistrationSchema,
  agentKey,
  BUILD_AGENTS_PREFIX,
  type BuildTask,
  parseBuildKey,
  taskKey,
} from './task.ts';

export interface LiveAgent {
  registration: AgentRegistration;
  /** The agent's etcd lease: its tasks are put under it, so they die with the agent. */
  lease: string;
  tasks: Set<string>;
}

export interface DispatcherEvents {
  /** An agent's registration vanished (lease expired or revoked) with these tasks. */
  agentGone(agentId: string, taskIds: string[]): void;
  /** A task key vanished while its agent lives (finished, or canceled). */
  taskGone(agentId: string, taskId: string): void;
  /** An agent registered, or capacity freed: queued builds may be placed now. */
  capacityChanged(): void;
}

/**
 * Core's view of the build agents, kept from etcd (list, then watch from the next
 * revision; re-list when the watch breaks), and placement: rendezvous hashing of the
 * repository over live agents, skipping the ones without free capacity.
 */
export class BuildDispatcher {
  readonly #etcd: Etcd3;
  readonly #events: DispatcherEvents;
  readonly #log: Logger;
  #agents = new Map<string, LiveAgent>();
  #watcher: Watcher | undefined;
  #stopped = false;

  constructor(deps: { etcd: Etcd3; events: DispatcherEvents; logger: Logger }) {
    this.#etcd = deps.etcd;
    this.#events = deps.events;
    this.#log = deps.logger;
  }

  async start(): Promise<void> {
    const listed = await this.#etcd.getAll().prefix(BUILD_AGENTS_PREFIX).exec();
    const before = this.#agents;
    this.#agents = new Map();
    const tasks: IKeyValue[] = [];
    for (const kv of listed.kvs) {
      const key = parseBuildKey(kv.key.toString());
      if (key?.kind === 'agent') this.#putAgent(key.agentId, kv);
      else if (key?.kind === 'task') tasks.push(kv);
    }
    for (const kv of tasks) {
      const key = parseBuildKey(kv.key.toString());
      if (key?.kind === 'task') this.#agents.get(key.agentId)?.tasks.add(key.taskId);
    }
    // After a re-list: whatever vanished meanwhile is reported as if watched.
    for (const [agentId, agent] of before) {
      const now = this.#agents.get(agentId);
      if (!now || now.lease !== agent.lease) this.#events.agentGone(agentId, [...agent.tasks]);
      else for (const t of agent.tasks) if (!now.tasks.has(t)) this.#events.taskGone(agentId, t);
    }
    const watcher = await this.#etcd
      .watch()
      .prefix(BUILD_AGENTS_PREFIX)
      .startRevision(String(Number(listed.header.revision) + 1))
      .create();
    watcher.on('put', (kv) => this.#onPut(kv));
    watcher.on('delete', (kv) => this.#onDelete(kv));
    watcher.on('error', (error) => {
      this.#log.warn({ err: error }, 'build agents watch broke; listing again');
      void watcher.cancel().catch(() => {});
      if (!this.#stopped) void this.#restart();
    });
    this.#watcher = watcher;
    this.#events.capacityChanged();
  }

  async #restart(): Promise<void> {
    for (let delay = 250; !this.#stopped; delay = Math.min(delay * 2, 5000)) {
      try {
        await this.start();
        return;
      } catch (error) {
        this.#log.warn({ err: error }, 'listing build agents failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#watcher?.cancel();
  }

  /** Live agents, by id. */
  agents(): LiveAgent[] {
    return [...this.#agents.values()];
  }

  /** The agent for a repository: its rendezvous order, first one with free capacity. */
  pick(repository: string): string | undefined {
    for (const agentId of rendezvousOrder(repository, [...this.#agents.keys()])) {
      const agent = this.#agents.get(agentId);
      if (agent && agent.tasks.size < agent.registration.capacity) return agentId;
    }
    return undefined;
  }

  /** Puts the task under the agent's task key (bound to its lease), if the agent still lives. */
  async assign(agentId: string, task: BuildTask): Promise<boolean> {
    const agent = this.#agents.get(agentId);
    if (!agent) return false;
    const result = await this.#etcd
      .if(agentKey(agentId), 'Lease', '==', agent.lease)
      .then(this.#etcd.put(taskKey(agentId, task.taskId)).value(JSON.stringify(task)).lease(agent.lease))
      .commit();
    if (!result.succeeded) return false;
    agent.tasks.add(task.taskId);
    return true;
  }

  /** Cancels a task: the agent sees its key deleted and stops the build. */
  async cancel(agentId: string, taskId: string): Promise<void> {
    await this.#etcd.delete().key(taskKey(agentId, taskId));
  }

  #putAgent(agentId: string, kv: IKeyValue): void {
    const parsed = AgentRegistrationSchema.safeParse(safeJson(kv.value.toString()));
    if (!parsed.success) {
      this.#log.warn({ agentId }, 'ignoring an invalid build agent registration');
      return;
    }
    const existing = this.#agents.get(agentId);
    if (existing && existing.lease !== kv.lease) this.#events.agentGone(agentId, [...existing.tasks]);
    const tasks = existing && existing.lease === kv.lease ? existing.tasks : new Set<string>();
    this.#agents.set(agentId, { registration: parsed.data, lease: kv.lease, tasks });
  }

  #onPut(kv: IKeyValue): void {
    const key = parseBuildKey(kv.key.toString());
    if (key?.kind === 'agent') {
      this.#putAgent(key.agentId, kv);
      this.#events.capacityChanged();
    } else if (key?.kind === 'task') {
      this.#agents.get(key.agentId)?.tasks.add(key.taskId);
    }
  }

  #onDelete(kv: IKeyValue): void {
    const key = parseBuildKey(kv.key.toString());
    if (key?.kind === 'agent') {
      const agent = this.#agents.get(key.agentId);
      this.#agents.delete(key.agentId);
      if (agent) this.#events.agentGone(key.agentId, [...agent.tasks]);
      this.#events.capacityChanged();
    } else if (key?.kind === 'task') {
      const agent = this.#agents.get(key.agentId);
      if (agent?.tasks.delete(key.taskId)) {
        this.#events.taskGone(key.agentId, key.taskId);
        this.#events.capacityChanged();
      }
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
