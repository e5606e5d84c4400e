import type { Build, BuildLogLine, BuildSettings, CompileStep } from '@leengine/common';
import type { Queryable } from '../db/database.ts';

export interface StepRecord {
  step: 'clone' | 'compile' | 'image' | 'push';
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  ok: boolean | null;
  skipped: boolean;
}

export interface BuildRow {
  id: number;
  projectId: number;
  project: string;
  number: number;
  status: Build['status'];
  trigger: Build['trigger'];
  triggeredBy: string | null;
  branch: string | null;
  gitTag: string | null;
  requestedCommit: string | null;
  commit: string | null;
  imageTag: string | null;
  image: string | null;
  digest: string | null;
  useCache: boolean;
  agentId: string | null;
  attempts: number;
  steps: StepRecord[];
  failedStep: Build['failedStep'];
  error: string | null;
  dockerfileSha256: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

const COLUMNS = `b.id, b.build_project_id as "projectId", p.name as project, b.number, b.status, b.trigger,
  u.username as "triggeredBy", b.branch, b.git_tag as "gitTag", b.requested_commit as "requestedCommit", b.commit,
  b.image_tag as "imageTag", b.image, b.digest, b.use_cache as "useCache", b.agent_id as "agentId", b.attempts,
  b.steps, b.failed_step as "failedStep", b.error, b.dockerfile_sha256 as "dockerfileSha256",
  b.created_at as "createdAt", b.started_at as "startedAt", b.finished_at as "finishedAt"`;
const FROM = `builds b join build_projects p on p.id = b.build_project_id left join users u on u.id = b.triggered_by`;

export function toBuild(row: BuildRow): Build {
  return {
    project: row.project,
    number: row.number,
    status: row.status,
    trigger: row.trigger,
    triggeredBy: row.triggeredBy,
    branch: row.branch,
    gitTag: row.gitTag,
    commit: row.commit ?? row.requestedCommit,
    imageTag: row.imageTag,
    image: row.image,
    digest: row.digest,
    useCache: row.useCache,
    agent: row.agentId,
    attempts: row.attempts,
    steps: row.steps,
    failedStep: row.failedStep,
    error: row.error,
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt?.toISOString() ?? null,
    durationMs: row.startedAt && row.finishedAt ? row.finishedAt.getTime() - row.startedAt.getTime() : null,
  };
}

export async function findBuild(q: Queryable, id: number, forUpdate = false): Promise<BuildRow | undefined> {
  const [row] = await q.query<BuildRow>(
    `select ${COLUMNS} from ${FROM} where b.id = $1 ${forUpdate ? 'for update of b' : ''}`,
    [id],
  );
  return row;
}

export async function findBuildByNumber(
  q: Queryable,
  projectId: number,
  number: number,
): Promise<BuildRow | undefined> {
  const [row] = await q.query<BuildRow>(
    `select ${COLUMNS} from ${FROM} where b.build_project_id = $1 and b.number = $2`,
    [projectId, number],
  );
  return row;
}

/** A project's builds, newest first; `before` pages by build number. */
export async function listBuilds(
  q: Queryable,
  projectId: number,
  limit: number,
  before?: number,
): Promise<BuildRow[]> {
  return q.query<BuildRow>(
    `select ${COLUMNS} from ${FROM} where b.build_project_id = $1 and ($2::int is null or b.number < $2)
     order by b.number desc limit $3`,
    [projectId, before ?? null, limit],
  );
}

/** Builds waiting for an agent, oldest first. */
export async function queuedBuilds(q: Queryable): Promise<BuildRow[]> {
  return q.query<BuildRow>(
    `select ${COLUMNS} from ${FROM} where b.status = 'queued' order by b.id limit 100`,
  );
}

export async function runningOn(q: Queryable, agentId: string): Promise<BuildRow[]> {
  return q.query<BuildRow>(`select ${COLUMNS} from ${FROM} where b.status = 'running' and b.agent_id = $1`, [
    agentId,
  ]);
}

export interface NewBuild {
  projectId: number;
  trigger: Build['trigger'];
  triggeredById: number | null;
  branch: string | null;
  gitTag: string | null;
  requestedCommit: string | null;
  imageTag: string | null;
  image: string;
  useCache: boolean;
  at: Date;
}

export async function insertBuild(q: Queryable, b: NewBuild): Promise<BuildRow> {
  // The project row is locked by the caller, so numbers never collide.
  const [row] = await q.query<{ id: number }>(
    `insert into builds (build_project_id, number, status, trigger, triggered_by, branch, git_tag, requested_commit,
       image_tag, image, use_cache, created_at)
     values ($1, coalesce((select max(number) from builds where build_project_id = $1), 0) + 1, 'queued', $2, $3, $4,
       $5, $6, $7, $8, $9, $10)
     returning id`,
    [
      b.projectId,
      b.trigger,
      b.triggeredById,
      b.branch,
      b.gitTag,
      b.requestedCommit,
      b.imageTag,
      b.image,
      b.useCache,
      b.at,
    ],
  );
  return (await findBuild(q, (row as { id: number }).id)) as BuildRow;
}

export async function updateBuild(
  q: Queryable,
  id: number,
  fields: Partial<{
    status: Build['status'];
    agentId: string | null;
    attempts: number;
    commit: string;
    imageTag: string;
    digest: string;
    steps: StepRecord[];
    failedStep: string | null;
    error: string | null;
    dockerfileSha256: string;
    startedAt: Date;
    finishedAt: Date;
  }>,
): Promise<void> {
  const columns: Record<string, string> = {
    status: 'status',
    agentId: 'agent_id',
    attempts: 'attempts',
    commit: 'commit',
    imageTag: 'image_tag',
    digest: 'digest',
    steps: 'steps',
    failedStep: 'failed_step',
    error: 'error',
    dockerfileSha256: 'dockerfile_sha256',
    startedAt: 'started_at',
    finishedAt: 'finished_at',
  };
  const sets: string[] = [];
  const params: unknown[] = [id];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    params.push(key === 'steps' ? JSON.stringify(value) : value);
    sets.push(`${columns[key]} = $${params.length}`);
  }
  if (sets.length > 0) await q.query(`update builds set ${sets.join(', ')} where id = $1`, params);
}

export async function appendLogs(
  q: Queryable,
  buildId: number,
  lines: { step: string; text: string }[],
): Promise<number[]> {
  if (lines.length === 0) return [];
  const rows = await q.query<{ id: string | number }>(
    `insert into build_logs (build_id, step, text)
     select $1, s, t from unnest($2::text[], $3::text[]) as x(s, t) returning id`,
    [buildId, lines.map((l) => l.step), lines.map((l) => l.text)],
  );
  return rows.map((r) => Number(r.id));
}

export async function readLogs(
  q: Queryable,
  buildId: number,
  after: number,
  limit = 5000,
): Promise<BuildLogLine[]> {
  const rows = await q.query<{ id: string | number; step: string; text: string }>(
    'select id, step, text from build_logs where build_id = $1 and id > $2 order by id limit $3',
    [buildId, after, limit],
  );
  return rows.map((r) => ({ seq: Number(r.id), step: r.step, text: r.text }));
}

// ---- settings on the build project

export interface SettingsRow {
  contextPath: string;
  compile: CompileStep | null;
  tagRule: 'commit' | 'git-tag';
  dockerfileSha256: string | null;
  branchFilters: string[];
  buildTags: boolean;
  timeoutSeconds: number;
  webhookSecretSha256: string | null;
  webhookUserId: number | null;
}

export async function readSettings(q: Queryable, projectId: number): Promise<SettingsRow> {
  const [row] = await q.query<SettingsRow>(
    `select context_path as "contextPath", compile, tag_rule as "tagRule", dockerfile_sha256 as "dockerfileSha256",
       branch_filters as "branchFilters", build_tags as "buildTags", timeout_seconds as "timeoutSeconds",
       webhook_secret_sha256 as "webhookSecretSha256", webhook_user_id as "webhookUserId"
     from build_projects where id = $1`,
    [projectId],
  );
  return row as SettingsRow;
}

export function toSettings(row: SettingsRow): BuildSettings {
  return {
    contextPath: row.contextPath,
    compile: row.compile,
    tagRule: row.tagRule,
    dockerfileSha256: row.dockerfileSha256,
    branchFilters: row.branchFilters,
    buildTags: row.buildTags,
    timeoutSeconds: row.timeoutSeconds,
    webhookConfigured: row.webhookSecretSha256 !== null,
  };
}

export async function writeSettings(
  q: Queryable,
  projectId: number,
  s: Partial<SettingsRow>,
  at: Date,
): Promise<void> {
  await q.query(
    `update build_projects set
       context_path = coalesce($2, context_path),
       compile = case when $3::boolean then $4::jsonb else compile end,
       tag_rule = coalesce($5, tag_rule),
       dockerfile_sha256 = case when $6::boolean then $7 else dockerfile_sha256 end,
       branch_filters = coalesce($8::jsonb, branch_filters),
       build_tags = coalesce($9, build_tags),
       timeout_seconds = coalesce($10, timeout_seconds),
       webhook_secret_sha256 = coalesce($11, webhook_secret_sha256),
       webhook_user_id = coalesce($12, webhook_user_id),
       updated_at = $13
     where id = $1`,
    [
      projectId,
      s.contextPath ?? null,
      s.compile !== undefined,
      s.compile === undefined || s.compile === null ? null : JSON.stringify(s.compile),
      s.tagRule ?? null,
      s.dockerfileSha256 !== undefined,
      s.dockerfileSha256 ?? null,
      s.branchFilters ? JSON.stringify(s.branchFilters) : null,
      s.buildTags ?? null,
      s.timeoutSeconds ?? null,
      s.webhookSecretSha256 ?? null,
      s.webhookUserId ?? null,
      at,
    ],
  );
}

/** The project whose webhook this is (by name), with what a trigger needs. */
export async function projectIdByName(
  q: Queryable,
  name: string,
  forUpdate = false,
): Promise<number | undefined> {
  const [row] = await q.query<{ id: number }>(
    `select id from build_projects where name = $1 ${forUpdate ? 'for update' : ''}`,
    [name],
  );
  return row?.id;
}
