import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  BuildDispatcher,
  type BuildEvent,
  type BuildResult,
  BuildResultSchema,
  type BuildTask,
  BuildTaskSchema,
  recordStep,
  resultKey,
} from '@leengine/build';
import {
  type Build,
  type BuildLogLine,
  type BuildSettings,
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
  type TriggerBuild,
  type UpdateBuildSettings,
} from '@leengine/common';
import { Etcd3 } from 'etcd3';
import type { Logger } from 'pino';
import { authorize } from '../access/authorize.ts';
import { notFound, type ResourceRef } from '../access/resourceRef.ts';
import type { ActivityService } from '../activity/activityService.ts';
import type { Caller } from '../auth/caller.ts';
import { type BuildProjectRow, findBuildProject } from '../buildProjects/buildProjectStore.ts';
import type { Clock } from '../clock.ts';
import type { Database, Queryable } from '../db/database.ts';
import type { PushCredential, PushCredentials } from './buildRobots.ts';
import {
  appendLogs,
  type BuildRow,
  findBuild,
  findBuildByNumber,
  insertBuild,
  listBuilds,
  queuedBuilds,
  readLogs,
  readSettings,
  runningOn,
  type StepRecord,
  toBuild,
  toSettings,
  updateBuild,
  writeSettings,
} from './buildStore.ts';
import { branchMatches, GitlabPushSchema, pushTarget } from './gitlabPush.ts';
import { LogHub } from './logHub.ts';

export interface BuildServiceDeps {
  db: Database;
  clock: Clock;
  activity: ActivityService;
  logger: Logger;
  /** `host:port` of the region registry (from REGISTRY_URL); builds need one. */
  registryHost?: string;
  registryInsecure?: boolean;
  /** Shared secret the build agents present (LEENGINE_BUILD_AGENT_TOKEN). */
  agentToken?: string;
  /** Short-lived push credentials per build (robots of the build project); none: the registry must be open. */
  pushCredentials?: PushCredentials;
  /** Re-queue a running build once when its agent dies (default: mark it failed). */
  requeueOnAgentLoss?: boolean;
  /** Every running build is compared with its agent's task and result keys this often. Default 30 s. */
  reconcileMs?: number;
}

const FINAL = new Set(['succeeded', 'failed', 'canceled']);

function refOf(row: BuildProjectRow): ResourceRef {
  return { kind: 'build-project', id: row.id, name: row.name };
}

/**
 * Code builds: triggers (manual, GitLab push webhook), the scheduler that hands each
 * build to one agent through its etcd task key (rendezvous hashing of the repository),
 * the agents' reports (timed steps, log lines, result), history and live logs.
 */
export class BuildService {
  readonly #deps: BuildServiceDeps;
  readonly hub = new LogHub();
  #dispatcher: BuildDispatcher | undefined;
  #scheduling: Promise<void> | undefined;
  #scheduleAgain = false;
  /** Agent reports of one build are applied one batch at a time, in order. */
  #reportChains = new Map<number, Promise<unknown>>();
  /** Builds claimed but not yet handed over (their task key is on its way): not reconciled. */
  readonly #placing = new Set<number>();
  #reconcileTimer: NodeJS.Timeout | undefined;
  #reconciling: Promise<void> | undefined;

  private constructor(deps: BuildServiceDeps) {
    this.#deps = deps;
  }

  static create(deps: BuildServiceDeps): BuildService {
    return new BuildService(deps);
  }

  #etcd: Etcd3 | undefined;
  /** Where agents record builds' results (the etcd the dispatcher watches). */
  #resultsEtcd: Etcd3 | undefined;

  /** Connects to etcd and starts placing builds on the agents registered there. */
  async connect(endpoints: string[]): Promise<void> {
    this.#etcd = new Etcd3({ hosts: endpoints });
    await this.start(this.#etcd);
  }

  /** Starts placing builds on the agents registered in etcd. */
  async start(etcd: Etcd3): Promise<void> {
    const log = this.#deps.logger.child({ component: 'build-scheduler' });
    this.#dispatcher = new BuildDispatcher({
      etcd,
      logger: log,
      events: {
        agentGone: (agentId) =>
          void this.#agentGone(agentId).catch((e) =>
            log.error({ err: e, agentId }, 'agent loss handling failed'),
          ),
        taskGone: (agentId, taskId) =>
          void this.#taskGone(agentId, taskId).catch((e) =>
            log.error({ err: e, agentId, taskId }, 'task loss handling failed'),
          ),
        capacityChanged: () => this.kick(),
      },
    });
    this.#resultsEtcd = etcd;
    await this.#dispatcher.start();
    // Builds left running by a previous core: whatever happened to them meanwhile (done
    // while core was down, agent gone or restarted) is settled now, and again periodically.
    await this.reconcileRunning();
    this.#reconcileTimer = setInterval(() => void this.reconcileRunning(), this.#deps.reconcileMs ?? 30_000);
    this.#reconcileTimer.unref();
    await this.#deps.pushCredentials?.sweep(this.#deps.db);
  }

  async stop(): Promise<void> {
    clearInterval(this.#reconcileTimer);
    const dispatcher = this.#dispatcher;
    this.#dispatcher = undefined;
    await this.#reconciling;
    await dispatcher?.stop();
    await this.#scheduling;
    this.#etcd?.close();
  }

  /** Live agents (for the boss console and tests). */
  agents() {
    return (this.#dispatcher?.agents() ?? []).map((a) => ({ ...a.registration, running: a.tasks.size }));
  }

  // ---- settings

  async settings(caller: Caller, name: string): Promise<BuildSettings> {
    const { row } = await this.#load(this.#deps.db, caller, name, 'read');
    return toSettings(await readSettings(this.#deps.db, row.id));
  }

  async updateSettings(caller: Caller, name: string, input: UpdateBuildSettings): Promise<BuildSettings> {
    return this.#deps.activity.change(caller, 'update-build-settings', input, async (tx, setTarget) => {
      const { row } = await this.#load(tx, caller, name, 'update', setTarget);
      await writeSettings(tx, row.id, input, this.#deps.clock());
      return toSettings(await readSettings(tx, row.id));
    });
  }

  /** A new GitLab webhook secret (shown once); webhook builds are recorded as the caller's. */
  async rotateWebhookSecret(
    caller: Caller,
    name: string,
    baseUrl: string,
  ): Promise<{ url: string; secret: string }> {
    const secret = randomBytes(24).toString('base64url');
    await this.#deps.activity.change(caller, 'rotate-webhook-secret', {}, async (tx, setTarget) => {
      const { row } = await this.#load(tx, caller, name, 'update', setTarget);
      await writeSettings(
        tx,
        row.id,
        { webhookSecretSha256: sha256(secret), webhookUserId: caller.userId },
        this.#deps.clock(),
      );
    });
    return { url: `${baseUrl}/api/v1/build-projects/${name}/webhooks/gitlab`, secret };
  }

  // ---- triggers

  async trigger(caller: Caller, name: string, input: TriggerBuild): Promise<Build> {
    const build = await this.#deps.activity.change(caller, 'trigger-build', input, async (tx, setTarget) => {
      const { row } = await this.#load(tx, caller, name, 'trigger-build', setTarget, true);
      const settings = await readSettings(tx, row.id);
      const gitTag = input.gitTag ?? null;
      return this.#insert(tx, row, {
        trigger: 'manual',
        triggeredById: caller.userId,
        branch: gitTag ? null : (input.branch ?? row.branch),
        gitTag,
        commit: input.commit ?? null,
        imageTag: input.imageTag ?? (gitTag && settings.tagRule === 'git-tag' ? imageTagOf(gitTag) : null),
        useCache: input.useCache,
      });
    });
    this.kick();
    return build;
  }

  /** GitLab's push and tag push events; `token` is the X-Gitlab-Token header. */
  async gitlabWebhook(
    name: string,
    token: string | undefined,
    payload: unknown,
  ): Promise<{ build: Build | null; ignored?: string }> {
    const db = this.#deps.db;
    const project = await findBuildProject(db, name);
    if (!project) throw notFound('build-project', name);
    const settings = await readSettings(db, project.id);
    if (
      !settings.webhookSecretSha256 ||
      !token ||
      !equalHashes(sha256(token), settings.webhookSecretSha256)
    ) {
      throw new NotAllowedError('the X-Gitlab-Token header does not match the webhook secret');
    }
    const parsed = GitlabPushSchema.safeParse(payload);
    if (!parsed.success) return { build: null, ignored: 'not a push or tag push event' };
    const target = pushTarget(parsed.data);
    if (target.kind === 'ignored') return { build: null, ignored: target.reason };
    if (target.kind === 'branch' && !branchMatches(target.name, settings.branchFilters, project.branch)) {
      return { build: null, ignored: `branch "${target.name}" is not in the project's branch filters` };
    }
    if (target.kind === 'tag' && !settings.buildTags)
      return { build: null, ignored: 'tag pushes are not built' };
    const userId = settings.webhookUserId;
    const user = userId
      ? (
          await db.query<{ username: string; admin: boolean }>(
            'select username, admin from users where id = $1',
            [userId],
          )
        )[0]
      : undefined;
    if (!userId || !user) throw new NotAllowedError('the user who set the webhook secret no longer exists');
    const caller: Caller = { userId, username: user.username, admin: user.admin, via: 'token' };
    const build = await this.#deps.activity.change(
      caller,
      'trigger-build',
      { webhook: 'gitlab', ref: parsed.data.ref, commit: target.commit },
      async (tx, setTarget) => {
        // The secret's owner must still be allowed to trigger builds.
        const { row } = await this.#load(tx, caller, name, 'trigger-build', setTarget, true);
        return this.#insert(tx, row, {
          trigger: 'webhook',
          triggeredById: userId,
          branch: target.kind === 'branch' ? target.name : null,
          gitTag: target.kind === 'tag' ? target.name : null,
          commit: target.commit,
          imageTag: target.kind === 'tag' && settings.tagRule === 'git-tag' ? imageTagOf(target.name) : null,
          useCache: true,
        });
      },
    );
    this.kick();
    return { build };
  }

  async #insert(
    tx: Queryable,
    project: BuildProjectRow,
    b: {
      trigger: Build['trigger'];
      triggeredById: number | null;
      branch: string | null;
      gitTag: string | null;
      commit: string | null;
      imageTag: string | null;
      useCache: boolean;
    },
  ): Promise<Build> {
    if (!this.#deps.registryHost)
      throw new ConflictError('builds need the region registry: core has no REGISTRY_URL');
    const row = await insertBuild(tx, {
      projectId: project.id,
      trigger: b.trigger,
      triggeredById: b.triggeredById,
      branch: b.branch,
      gitTag: b.gitTag,
      requestedCommit: b.commit,
      imageTag: b.imageTag,
      image: `${this.#deps.registryHost}/${project.imageRepository}`,
      useCache: b.useCache,
      at: this.#deps.clock(),
    });
    return toBuild(row);
  }

  // ---- history, cancel, logs

  async list(caller: Caller, name: string, limit: number, before?: number): Promise<Build[]> {
    const { row } = await this.#load(this.#deps.db, caller, name, 'read');
    return (await listBuilds(this.#deps.db, row.id, limit, before)).map(toBuild);
  }

  async get(caller: Caller, name: string, number: number): Promise<Build> {
    return toBuild(await this.#build(caller, name, number, 'read'));
  }

  async cancel(caller: Caller, name: string, number: number): Promise<Build> {
    let cancelTask: { agentId: string; taskId: string } | undefined;
    let id = 0;
    const build = await this.#deps.activity.change(
      caller,
      'cancel-build',
      { number },
      async (tx, setTarget) => {
        const { row: project } = await this.#load(tx, caller, name, 'cancel-build', setTarget, true);
        const found = await findBuildByNumber(tx, project.id, number);
        if (!found) throw new NotFoundError(`build #${number} of "${name}" not found`);
        const row = (await findBuild(tx, found.id, true)) as BuildRow;
        id = row.id;
        if (FINAL.has(row.status)) throw new ConflictError(`build #${number} already ${row.status}`);
        if (row.status === 'running' && row.agentId)
          cancelTask = { agentId: row.agentId, taskId: taskIdOf(row.id, row.attempts) };
        await updateBuild(tx, row.id, {
          status: 'canceled',
          error: `canceled by ${caller.username}`,
          finishedAt: this.#deps.clock(),
        });
        await this.#deps.pushCredentials?.revoke(tx, row);
        return toBuild((await findBuild(tx, row.id)) as BuildRow);
      },
    );
    if (cancelTask) await this.#dispatcher?.cancel(cancelTask.agentId, cancelTask.taskId);
    this.#publishBuild(build, id);
    return build;
  }

  async logs(
    caller: Caller,
    name: string,
    number: number,
    after: number,
  ): Promise<{ build: Build; lines: BuildLogLine[]; id: number }> {
    const row = await this.#build(caller, name, number, 'read');
    return { build: toBuild(row), lines: await readLogs(this.#deps.db, row.id, after), id: row.id };
  }

  async buildById(id: number): Promise<Build | undefined> {
    const row = await findBuild(this.#deps.db, id);
    return row ? toBuild(row) : undefined;
  }

  async #build(caller: Caller, name: string, number: number, action: string): Promise<BuildRow> {
    const { row: project } = await this.#load(this.#deps.db, caller, name, action);
    const row = await findBuildByNumber(this.#deps.db, project.id, number);
    if (!row) throw new NotFoundError(`build #${number} of "${name}" not found`);
    return row;
  }

  // ---- agents' side

  /** Whether `token` is the agents' shared secret. */
  agentAllowed(token: string | undefined): boolean {
    const expected = this.#deps.agentToken;
    return !!expected && !!token && equalHashes(sha256(token), sha256(expected));
  }

  /** Applies an agent's events for a build, in order. */
  agentEvents(agentId: string, buildId: number, taskId: string, events: BuildEvent[]): Promise<void> {
    const previous = this.#reportChains.get(buildId) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(() => this.#applyEvents(agentId, buildId, taskId, events));
    this.#reportChains.set(buildId, next);
    void next
      .finally(() => {
        if (this.#reportChains.get(buildId) === next) this.#reportChains.delete(buildId);
      })
      .catch(() => {});
    return next;
  }

  async #applyEvents(agentId: string, buildId: number, taskId: string, events: BuildEvent[]): Promise<void> {
    const clock = this.#deps.clock;
    let published: Build | undefined;
    const lines: { step: string; text: string }[] = [];
    let seqs: number[] = [];
    await this.#deps.db.transaction(async (tx) => {
      const row = await findBuild(tx, buildId, true);
      if (!row) throw new NotFoundError(`build ${buildId} not found`);
      if (row.agentId !== agentId || taskIdOf(row.id, row.attempts) !== taskId || FINAL.has(row.status)) {
        // A late report from an attempt that was canceled, failed or handed elsewhere.
        throw new ConflictError(`build ${buildId} is not running task ${taskId} on ${agentId}`);
      }
      const steps: StepRecord[] = [...row.steps];
      const fields: Parameters<typeof updateBuild>[2] = {};
      for (const event of events) {
        switch (event.type) {
          case 'started':
            break;
          case 'step-started':
            recordStep(steps, event);
            lines.push({ step: event.step, text: `==> ${event.step}\n` });
            break;
          case 'output':
            lines.push({ step: event.step, text: event.text });
            break;
          case 'step-finished': {
            recordStep(steps, event);
            const took = event.skipped ? 'skipped' : `${(event.durationMs / 1000).toFixed(1)} s`;
            lines.push({
              step: event.step,
              text: `<== ${event.step} ${event.ok ? 'ok' : 'FAILED'} (${took})\n`,
            });
            break;
          }
          case 'commit':
            fields.commit = event.commit;
            if (event.dockerfileSha256) fields.dockerfileSha256 = event.dockerfileSha256;
            break;
          case 'finished':
            // The agent's own record: step and commit reports may have been dropped.
            if (event.steps) steps.splice(0, steps.length, ...event.steps);
            if (event.commit) fields.commit = event.commit;
            if (event.dockerfileSha256) fields.dockerfileSha256 = event.dockerfileSha256;
            fields.status = event.status;
            fields.finishedAt = clock();
            fields.failedStep = event.failedStep ?? null;
            fields.error = event.error ?? null;
            if (event.tag) fields.imageTag = event.tag;
            if (event.digest) fields.digest = event.digest;
            lines.push({
              step: event.failedStep ?? 'push',
              text:
                event.status === 'succeeded'
                  ? `build succeeded: ${event.tag} ${event.digest}\n`
                  : `build ${event.status}${event.failedStep ? ` at ${event.failedStep}` : ''}: ${event.error}\n`,
            });
            break;
        }
      }
      fields.steps = steps;
      await updateBuild(tx, row.id, fields);
      if (fields.status) {
        // The build is over: its push credential goes with it (and any expired leftovers).
        await this.#deps.pushCredentials?.revoke(tx, row);
        await this.#deps.pushCredentials?.sweep(tx);
      }
      seqs = await appendLogs(tx, row.id, lines);
      if (fields.status || events.some((e) => e.type === 'step-finished' || e.type === 'step-started')) {
        published = toBuild((await findBuild(tx, row.id)) as BuildRow);
      }
    });
    for (const [i, line] of lines.entries()) {
      this.hub.publish(buildId, {
        kind: 'log',
        line: { seq: seqs[i] ?? 0, step: line.step, text: line.text },
      });
    }
    if (published) this.#publishBuild(published, buildId);
  }

  /**
   * A credential to pull and push this build's image, for the agent running this attempt
   * only; null when core has no push credentials (the registry must then be open).
   */
  async registryCredential(agentId: string, buildId: number, taskId: string): Promise<PushCredential | null> {
    const credentials = this.#deps.pushCredentials;
    return this.#deps.db.transaction(async (tx) => {
      const row = await findBuild(tx, buildId, true);
      if (
        !row ||
        row.agentId !== agentId ||
        row.status !== 'running' ||
        taskIdOf(row.id, row.attempts) !== taskId
      ) {
        throw new NotAllowedError(`build ${buildId} is not running task ${taskId} on ${agentId}`);
      }
      if (!credentials) return null;
      const [owner] = await tx.query<{ userId: number; timeoutSeconds: number }>(
        `select coalesce(b.triggered_by, p.created_by) as "userId", p.timeout_seconds as "timeoutSeconds"
         from builds b join build_projects p on p.id = b.build_project_id where b.id = $1`,
        [row.id],
      );
      if (!owner) throw new NotFoundError(`build ${buildId} not found`);
      return credentials.issue(tx, {
        buildId: row.id,
        buildNumber: row.number,
        attempt: row.attempts,
        projectId: row.projectId,
        project: row.project,
        userId: owner.userId,
        timeoutSeconds: owner.timeoutSeconds,
      });
    });
  }

  // ---- scheduling

  /** Places queued builds (coalesced: one pass at a time, one more if asked meanwhile). */
  kick(): void {
    if (!this.#dispatcher) return;
    if (this.#scheduling) {
      this.#scheduleAgain = true;
      return;
    }
    this.#scheduling = (async () => {
      do {
        this.#scheduleAgain = false;
        try {
          await this.#placeQueued();
        } catch (error) {
          this.#deps.logger.error({ err: error }, 'placing queued builds failed');
        }
      } while (this.#scheduleAgain);
    })().finally(() => {
      this.#scheduling = undefined;
    });
  }

  /** Waits for the current scheduling pass (tests). */
  async settled(): Promise<void> {
    while (this.#scheduling) await this.#scheduling;
  }

  async #placeQueued(): Promise<void> {
    const dispatcher = this.#dispatcher;
    if (!dispatcher) return;
    for (const row of await queuedBuilds(this.#deps.db)) {
      const project = await this.#deps.db.query<BuildProjectRow>(
        `select id, name, git_url as "gitUrl", branch, dockerfile_path as "dockerfilePath" from build_projects where id = $1`,
        [row.projectId],
      );
      const p = project[0];
      if (!p) continue;
      const agentId = dispatcher.pick(p.gitUrl);
      if (!agentId) continue; // every agent busy (or none): stays queued
      const settings = await readSettings(this.#deps.db, p.id);
      const attempt = row.attempts + 1;
      const task: BuildTask = BuildTaskSchema.parse({
        taskId: taskIdOf(row.id, attempt),
        buildId: row.id,
        project: p.name,
        gitUrl: p.gitUrl,
        ...(row.gitTag ? { gitTag: row.gitTag } : { branch: row.branch ?? p.branch }),
        ...(row.requestedCommit ? { commit: row.requestedCommit } : {}),
        dockerfilePath: p.dockerfilePath,
        contextPath: settings.contextPath,
        ...(settings.compile ? { compile: settings.compile } : {}),
        useCache: row.useCache,
        image: row.image,
        ...(row.imageTag ? { tag: row.imageTag } : {}),
        ...(settings.dockerfileSha256 ? { dockerfileSha256: settings.dockerfileSha256 } : {}),
        registryInsecure: this.#deps.registryInsecure ?? false,
        timeoutSeconds: settings.timeoutSeconds,
      });
      // Claim first (queued -> running), then hand over; a failed hand-over puts it back.
      this.#placing.add(row.id);
      const claimed = await this.#deps.db.query<{ id: number }>(
        `update builds set status = 'running', agent_id = $2, attempts = $3, started_at = coalesce(started_at, $4)
         where id = $1 and status = 'queued' returning id`,
        [row.id, agentId, attempt, this.#deps.clock()],
      );
      if (claimed.length === 0) {
        this.#placing.delete(row.id);
        continue;
      }
      const assigned = await dispatcher
        .assign(agentId, task)
        .catch(() => false)
        .finally(() => this.#placing.delete(row.id));
      if (!assigned) {
        await this.#deps.db.query(
          `update builds set status = 'queued', agent_id = null, attempts = $2 where id = $1 and status = 'running'`,
          [row.id, row.attempts],
        );
        continue;
      }
      this.#deps.logger.info({ buildId: row.id, project: p.name, agentId, attempt }, 'build placed');
      const placed = await this.buildById(row.id);
      if (placed) this.#publishBuild(placed, row.id);
    }
  }

  /**
   * Level-based: compares every build core thinks is running with the truth in etcd
   * (its agent's task key, or the result the agent recorded) and settles the ones their
   * agent no longer runs. On start, periodically, and on agent and task losses.
   */
  async reconcileRunning(): Promise<void> {
    if (this.#reconciling) return this.#reconciling;
    this.#reconciling = (async () => {
      try {
        const rows = await this.#deps.db.query<{ id: number }>(
          `select id from builds where status = 'running' order by id`,
        );
        for (const { id } of rows) {
          if (!this.#dispatcher) return;
          const row = await findBuild(this.#deps.db, id);
          if (row)
            await this.#reconcileBuild(row).catch((error: unknown) =>
              this.#deps.logger.warn(
                { err: error, component: 'build-scheduler', buildId: id },
                'reconciling a running build failed',
              ),
            );
        }
      } catch (error) {
        this.#deps.logger.warn(
          { err: error, component: 'build-scheduler' },
          'reconciling running builds failed',
        );
      }
    })().finally(() => {
      this.#reconciling = undefined;
    });
    return this.#reconciling;
  }

  async #reconcileBuild(row: BuildRow): Promise<void> {
    const dispatcher = this.#dispatcher;
    if (!dispatcher || row.status !== 'running' || !row.agentId || this.#placing.has(row.id)) return;
    const agentId = row.agentId;
    const taskId = taskIdOf(row.id, row.attempts);
    const agent = dispatcher.agents().find((a) => a.registration.agentId === agentId);
    if (agent?.tasks.has(taskId)) return; // its agent runs it: it will report
    // A report being applied right now may settle it.
    await this.#reportChains.get(row.id)?.catch(() => {});
    const log = this.#deps.logger.child({ component: 'build-scheduler', buildId: row.id, agentId, taskId });
    const result = await this.#readResult(agentId, taskId);
    if (result) {
      try {
        await this.agentEvents(agentId, row.id, taskId, [result.finished]);
        log.warn({ status: result.finished.status }, 'build settled from the result its agent recorded');
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        // Settled meanwhile (its report arrived, or it was canceled).
      }
      await this.#resultsEtcd
        ?.delete()
        .key(resultKey(agentId, taskId))
        .catch(() => {});
      return;
    }
    await this.#lost(
      row,
      agent
        ? `the build agent ${agentId} no longer runs the build and recorded no result`
        : `the build agent ${agentId} went away (its etcd lease expired) and recorded no result`,
    );
  }

  /** The outcome the agent recorded for this attempt before reporting it, if any. */
  async #readResult(agentId: string, taskId: string): Promise<BuildResult | undefined> {
    const text = await this.#resultsEtcd?.get(resultKey(agentId, taskId)).string();
    if (!text) return undefined;
    const parsed = BuildResultSchema.safeParse(safeJson(text));
    if (!parsed.success || parsed.data.agentId !== agentId || parsed.data.taskId !== taskId) {
      this.#deps.logger.warn({ agentId, taskId }, 'ignoring an invalid build result key');
      return undefined;
    }
    return parsed.data;
  }

  async #agentGone(agentId: string): Promise<void> {
    for (const row of await runningOn(this.#deps.db, agentId)) await this.#reconcileBuild(row);
  }

  async #taskGone(agentId: string, taskId: string): Promise<void> {
    const id = Number(/^b(\d+)-/.exec(taskId)?.[1]);
    if (!Number.isInteger(id)) return;
    // The agent reports "finished" before deleting its task key; give a late report a moment.
    await this.#reportChains.get(id)?.catch(() => {});
    const row = await findBuild(this.#deps.db, id);
    if (row && row.agentId === agentId && taskIdOf(row.id, row.attempts) === taskId) {
      await this.#reconcileBuild(row);
    }
  }

  async #lost(row: BuildRow, reason: string): Promise<void> {
    const requeue = this.#deps.requeueOnAgentLoss && row.attempts < 2;
    const updated = await this.#deps.db.query<{ id: number }>(
      requeue
        ? `update builds set status = 'queued', agent_id = null, steps = '[]' where id = $1 and status = 'running' and attempts = $2 returning id`
        : `update builds set status = 'failed', error = $3, finished_at = $4 where id = $1 and status = 'running' and attempts = $2 returning id`,
      requeue ? [row.id, row.attempts] : [row.id, row.attempts, reason, this.#deps.clock()],
    );
    if (updated.length === 0) return;
    await this.#deps.pushCredentials?.revoke(this.#deps.db, row);
    const text = requeue
      ? `${reason}; re-queued (attempt ${row.attempts + 1})\n`
      : `${reason}; build failed\n`;
    const [seq] = await appendLogs(this.#deps.db, row.id, [{ step: 'clone', text }]);
    this.hub.publish(row.id, { kind: 'log', line: { seq: seq ?? 0, step: 'clone', text } });
    const build = await this.buildById(row.id);
    if (build) this.#publishBuild(build, row.id);
    this.#deps.logger.warn({ buildId: row.id, agentId: row.agentId, requeue }, reason);
    if (requeue) this.kick();
  }

  #publishBuild(build: Build, id: number): void {
    if (id) this.hub.publish(id, { kind: 'build', build });
  }

  async #load(
    q: Queryable,
    caller: Caller,
    name: string,
    action: string,
    setTarget?: (ref: ResourceRef) => void,
    forUpdate = false,
  ) {
    const row = await findBuildProject(q, name, { forUpdate });
    if (!row) throw notFound('build-project', name);
    setTarget?.(refOf(row));
    const grant = await authorize(q, caller, refOf(row), action);
    return { row, grant };
  }
}

export function taskIdOf(buildId: number, attempt: number): string {
  return `b${buildId}-${attempt}`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function equalHashes(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** A git tag as an image tag: characters the registry refuses become "-". */
function imageTagOf(gitTag: string): string {
  const tag = gitTag
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, 128);
  if (!tag) throw new InputError(`git tag "${gitTag}" gives no usable image tag`);
  return tag;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
