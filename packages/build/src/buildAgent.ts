import type { Etcd3, IKeyValue, Lease, Watcher } from 'etcd3';
import type { Logger } from 'pino';
import { type BuildReporter, ReportRefusedError } from './coreReporter.ts';
import { type PipelineResult, runPipeline } from './pipeline.ts';
import {
  type AgentRegistration,
  agentKey,
  type BuildEvent,
  type BuildResult,
  type BuildTask,
  BuildTaskSchema,
  type FinishedEvent,
  parseBuildKey,
  recordStep,
  resultKey,
  type StepRecord,
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
  /** How long a build's result key outlives its report (core settles from it). Default 3600 s. */
  resultTtlSeconds?: number;
  /** How long the end report is retried until core acknowledges it. Default 15 min. */
  endReportMaxMs?: number;
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
  /** Aborted by stop(): end reports waiting to be retried give up (their result keys stay). */
  readonly #stopping = new AbortController();

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
    this.#stopping.abort();
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
    // The agent's own record of the build, repeated in its end report and result key:
    // progress reports are dropped when core is unreachable, these are not.
    const steps: StepRecord[] = [];
    let commit: { commit?: string; dockerfileSha256?: string } = {};
    const emit = (event: BuildEvent): void => {
      recordStep(steps, event);
      if (event.type === 'commit')
        commit = {
          commit: event.commit,
          ...(event.dockerfileSha256 ? { dockerfileSha256: event.dockerfileSha256 } : {}),
        };
      events.push(event);
    };
    const result: PipelineResult = signal.aborted
      ? { status: 'canceled', error: String((signal.reason as Error)?.message ?? 'canceled') }
      : await (async () => {
          emit({ type: 'started', agentId: this.options.agentId, at: new Date().toISOString() });
          log.info({ project: task.project, buildId: task.buildId }, 'build started');
          return runPipeline(
            task,
            {
              workRoot: this.options.workRoot,
              buildahArgs: this.options.buildahArgs ?? [],
              buildahBinary: this.options.buildahBinary,
              allowLocalRepositories: this.options.allowLocalRepositories,
              registryCredential: () => this.#deps.reporter.registryCredential(task.buildId, task.taskId),
              emit,
            },
            signal,
          );
        })();
    const finished: FinishedEvent = {
      type: 'finished',
      at: new Date().toISOString(),
      status: result.status,
      failedStep: result.failedStep,
      error: result.error,
      tag: result.tag,
      digest: result.digest,
      ...commit,
      steps,
    };
    log.info(
      { project: task.project, buildId: task.buildId, status: result.status, error: result.error },
      'build finished',
    );
    // Recorded before it is reported: a core that is down now settles the build from it later.
    const recorded = await this.#recordResult({
      agentId: this.options.agentId,
      buildId: task.buildId,
      taskId: task.taskId,
      finished,
    }).catch((error: unknown) => {
      log.error({ err: error }, 'recording the build result in etcd failed');
      return false;
    });
    await events.close();
    const acknowledged = await this.#reportEnd(task, finished, log);
    if (acknowledged && recorded) {
      await this.#deps.etcd
        .delete()
        .key(resultKey(this.options.agentId, task.taskId))
        .catch(() => {});
    }
  }

  /** Puts the result under a lease of its own (it outlives the agent's registration). */
  async #recordResult(result: BuildResult): Promise<boolean> {
    const lease = this.#deps.etcd.lease(this.options.resultTtlSeconds ?? 3600, { autoKeepAlive: false });
    await lease.put(resultKey(result.agentId, result.taskId)).value(JSON.stringify(result));
    lease.release();
    return true;
  }

  /**
   * Sends the end report until core acknowledges it (true) or refuses it (4xx: the build
   * was settled meanwhile, e.g. from the result key, or canceled), with backoff up to
   * 5 s, for at most `endReportMaxMs` or until the agent stops (false: the result key
   * stays for core to settle from).
   */
  async #reportEnd(task: BuildTask, finished: FinishedEvent, log: Logger): Promise<boolean> {
    const deadline = Date.now() + (this.options.endReportMaxMs ?? 15 * 60_000);
    const stopping = this.#stopping.signal;
    for (let delay = 250, attempt = 1; ; delay = Math.min(delay * 2, 5000), attempt++) {
      try {
        await this.#deps.reporter.send(task.buildId, task.taskId, [finished]);
        if (attempt > 1) log.info({ buildId: task.buildId, attempt }, 'end report acknowledged');
        return true;
      } catch (error) {
        if (error instanceof ReportRefusedError) {
          // 409/404: the build was settled meanwhile (from the result key, a cancel) or is gone.
          const settled = error.status === 409 || error.status === 404;
          log.warn({ buildId: task.buildId, status: error.status, settled }, 'core refused the end report');
          return settled;
        }
        if (stopping.aborted || Date.now() > deadline) {
          log.error(
            { err: error, buildId: task.buildId },
            'end report not acknowledged; the result key stays',
          );
          return false;
        }
        log.warn({ err: error, buildId: task.buildId, attempt }, 'end report failed; retrying');
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        stopping.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
    }
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
