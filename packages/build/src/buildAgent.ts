import type { Etcd3, IKeyValue, Lease, Watcher } from 'etcd3';
import type { Logger } from 'pino';
import type { BuildReporter } from './coreReporter.ts';
import { type PipelineResult, runPipeline } from './pipeline.ts';
import {
  type AgentRegistration,
  agentKey,
  type BuildEvent,
  type BuildTask,
  BuildTaskSchema,
  parseBuildKey,
  taskPrefix,
} from './task.ts';

export interface BuildAgentOptions {
  agentId: string;
  capacity: number;
  labels?: Record<string, string>;
  version: string;
  /** Lease TTL: a dead agent's registration and tasks vanish this long after it stops. */
  leaseTtlSeconds: number;
  workRoot: string;
  buildahArgs?: readonly string[];
  buildahBinary?: string;
  /** Clone file:// URLs (tests, the local region). */
  allowLocalRepositories?: boolean;
}

export interface BuildAgentDeps {
  etcd: Etcd3;
  reporter: BuildReporter;
  logger: Logger;
}

interface Running {
  task: BuildTask;
  controller: AbortController;
  done: Promise<void>;
}

/**
 * One build host's agent: registers under a lease (capacity, labels, version), watches
 * its own task key prefix, and runs each task as a pipeline of timed steps. Deleting a
 * task key cancels that build; a task carries its own timeout. Builds of one project run
 * one after the other here, since they share the project's workspace and cache.
 */
export class BuildAgent {
  readonly options: BuildAgentOptions;
  readonly #deps: BuildAgentDeps;
  #lease: Lease | undefined;
  #watcher: Watcher | undefined;
  #running = new Map<string, Running>();
  #projectChains = new Map<string, Promise<void>>();
  #stopped = false;

  constructor(options: BuildAgentOptions, deps: BuildAgentDeps) {
    this.options = options;
    this.#deps = deps;
  }

  /** Registers, then watches for tasks. */
  async start(): Promise<void> {
    await this.#register();
    const prefix = taskPrefix(this.options.agentId);
    const existing = await this.#deps.etcd.getAll().prefix(prefix).exec();
    this.#watcher = await this.#deps.etcd
      .watch()
      .prefix(prefix)
      .startRevision(String(Number(existing.header.revision) + 1))
      .create();
    this.#watcher.on('put', (kv) => this.#onTask(kv));
    this.#watcher.on('delete', (kv) => this.#onDelete(kv));
    for (const kv of existing.kvs) this.#onTask(kv);
    this.#deps.logger.info(
      { agentId: this.options.agentId, capacity: this.options.capacity },
      'build agent started',
    );
  }

  /** Task ids running now. */
  get running(): string[] {
    return [...this.#running.keys()];
  }

  /** Stops taking tasks, cancels running ones and revokes the lease (a clean shutdown). */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#watcher?.cancel();
    for (const run of this.#running.values()) run.controller.abort(new Error('the build agent stopped'));
    await Promise.allSettled([...this.#running.values()].map((r) => r.done));
    await this.#lease?.revoke().catch(() => {});
  }

  async #register(): Promise<void> {
    const lease = this.#deps.etcd.lease(this.options.leaseTtlSeconds, { autoKeepAlive: true });
    lease.on('lost', (error) => {
      if (this.#stopped || this.#lease !== lease) return;
      // Our task keys died with the lease: core has failed (or re-queued) those builds.
      this.#deps.logger.warn({ err: error, agentId: this.options.agentId }, 'lease lost; registering again');
      for (const run of this.#running.values())
        run.controller.abort(new Error('the agent lost its etcd lease'));
      this.#lease = undefined;
      void this.#register().catch((e) => this.#deps.logger.error({ err: e }, 'registering again failed'));
    });
    this.#lease = lease;
    const registration: AgentRegistration = {
      agentId: this.options.agentId,
      capacity: this.options.capacity,
      labels: this.options.labels ?? {},
      version: this.options.version,
      startedAt: new Date().toISOString(),
    };
    await lease.put(agentKey(this.options.agentId)).value(JSON.stringify(registration));
  }

  #onTask(kv: IKeyValue): void {
    if (this.#stopped) return;
    const key = parseBuildKey(kv.key.toString());
    if (key?.kind !== 'task' || this.#running.has(key.taskId)) return;
    const log = this.#deps.logger.child({ agentId: this.options.agentId, taskId: key.taskId });
    let task: BuildTask;
    try {
      task = BuildTaskSchema.parse(JSON.parse(kv.value.toString()));
    } catch (error) {
      log.error({ err: error }, 'invalid task; deleting it');
      void this.#deps.etcd
        .delete()
        .key(kv.key.toString())
        .catch(() => {});
      return;
    }
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new Error(`the build timed out after ${task.timeoutSeconds} s`)),
      task.timeoutSeconds * 1000,
    );
    const previous = this.#projectChains.get(task.project) ?? Promise.resolve();
    const done = previous
      .then(() => this.#run(task, controller.signal, log))
      .catch((error) => log.error({ err: error }, 'build run failed'))
      .finally(() => {
        clearTimeout(timer);
        this.#running.delete(task.taskId);
        void this.#deps.etcd
          .delete()
          .key(kv.key.toString())
          .catch(() => {});
      });
    this.#projectChains.set(task.project, done);
    this.#running.set(task.taskId, { task, controller, done });
  }

  #onDelete(kv: IKeyValue): void {
    const key = parseBuildKey(kv.key.toString());
    if (key?.kind !== 'task') return;
    this.#running.get(key.taskId)?.controller.abort(new Error('canceled'));
  }

  async #run(task: BuildTask, signal: AbortSignal, log: Logger): Promise<void> {
    const events = new EventQueue((batch) => this.#deps.reporter.send(task.buildId, task.taskId, batch), log);
    const result: PipelineResult = signal.aborted
      ? { status: 'canceled', error: String((signal.reason as Error)?.message ?? 'canceled') }
      : await (async () => {
          events.push({ type: 'started', agentId: this.options.agentId, at: new Date().toISOString() });
          log.info({ project: task.project, buildId: task.buildId }, 'build started');
          return runPipeline(
            task,
            {
              workRoot: this.options.workRoot,
              buildahArgs: this.options.buildahArgs ?? [],
              buildahBinary: this.options.buildahBinary,
              allowLocalRepositories: this.options.allowLocalRepositories,
              registryCredential: () => this.#deps.reporter.registryCredential(task.buildId, task.taskId),
              emit: (event) => events.push(event),
            },
            signal,
          );
        })();
    events.push({
      type: 'finished',
      at: new Date().toISOString(),
      status: result.status,
      failedStep: result.failedStep,
      error: result.error,
      tag: result.tag,
      digest: result.digest,
    });
    log.info(
      { project: task.project, buildId: task.buildId, status: result.status, error: result.error },
      'build finished',
    );
    await events.close();
  }
}

/** Sends events in order, coalescing output while a send is in flight. */
class EventQueue {
  #pending: BuildEvent[] = [];
  #sending: Promise<void> | undefined;
  readonly #send: (batch: BuildEvent[]) => Promise<void>;
  readonly #log: Logger;

  constructor(send: (batch: BuildEvent[]) => Promise<void>, log: Logger) {
    this.#send = send;
    this.#log = log;
  }

  push(event: BuildEvent): void {
    this.#pending.push(event);
    this.#sending ??= this.#drain();
  }

  async #drain(): Promise<void> {
    // A tick lets a burst of output lines travel in one request.
    await new Promise((r) => setTimeout(r, 100));
    while (this.#pending.length > 0) {
      const batch = this.#pending;
      this.#pending = [];
      try {
        await this.#send(batch);
      } catch (error) {
        this.#log.error({ err: error, events: batch.length }, 'reporting to core failed; events dropped');
      }
    }
    this.#sending = undefined;
  }

  async close(): Promise<void> {
    while (this.#sending) await this.#sending;
  }
}
