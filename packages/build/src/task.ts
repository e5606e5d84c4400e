import { z } from 'zod';
import { isCommitId, isImageTag, refNameProblem } from './refName.ts';

/** etcd key layout of the build service (docs/builds.md). */
export const BUILD_AGENTS_PREFIX = '/leengine/build/agents/';

export function agentKey(agentId: string): string {
  return `${BUILD_AGENTS_PREFIX}${agentId}`;
}

export function taskPrefix(agentId: string): string {
  return `${agentKey(agentId)}/tasks/`;
}

export function taskKey(agentId: string, taskId: string): string {
  return `${taskPrefix(agentId)}${taskId}`;
}

/**
 * Where an agent records a build's outcome before it reports it: outside its
 * registration's prefix and under a lease of its own, so it outlives the agent (and a
 * core that was down) for `BUILD_AGENT_RESULT_TTL`.
 */
export const BUILD_RESULTS_PREFIX = '/leengine/build/results/';

export function resultKey(agentId: string, taskId: string): string {
  return `${BUILD_RESULTS_PREFIX}${agentId}/${taskId}`;
}

/** What a key under BUILD_AGENTS_PREFIX is: an agent's registration or one of its tasks. */
export function parseBuildKey(
  key: string,
): { kind: 'agent'; agentId: string } | { kind: 'task'; agentId: string; taskId: string } | undefined {
  if (!key.startsWith(BUILD_AGENTS_PREFIX)) return undefined;
  const parts = key.slice(BUILD_AGENTS_PREFIX.length).split('/');
  if (parts.length === 1 && parts[0]) return { kind: 'agent', agentId: parts[0] };
  if (parts.length === 3 && parts[0] && parts[1] === 'tasks' && parts[2]) {
    return { kind: 'task', agentId: parts[0], taskId: parts[2] };
  }
  return undefined;
}

export const AgentIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{0,62}$/, 'lowercase letters, digits, "." and "-"');

/** An agent's lease-bound registration. */
export const AgentRegistrationSchema = z.object({
  agentId: AgentIdSchema,
  /** Builds it runs at once. */
  capacity: z.number().int().min(1).max(64),
  labels: z.record(z.string(), z.string()).default({}),
  version: z.string(),
  startedAt: z.string(),
});
export type AgentRegistration = z.infer<typeof AgentRegistrationSchema>;

const refName = z.string().superRefine((name, ctx) => {
  const problem = refNameProblem(name);
  if (problem) ctx.addIssue({ code: 'custom', message: `invalid ref name: ${problem}` });
});

/** A relative path inside the repository: no "..", no leading "/" or "-". */
export const RepoPathSchema = z
  .string()
  .min(1)
  .max(255)
  .refine(
    (p) => !p.startsWith('/') && !p.startsWith('-') && !p.split('/').includes('..') && !/[\0\n\r]/.test(p),
    'a relative path inside the repository, without ".."',
  );

/** Absolute container path of a dependency cache (e.g. /root/.m2). */
export const CachePathSchema = z
  .string()
  .regex(/^\/[A-Za-z0-9._/-]{1,200}$/, 'an absolute path')
  .refine((p) => !p.split('/').includes('..') && p !== '/', 'an absolute path other than "/", without ".."');

export const CompileStepSchema = z.object({
  /** Builder image reference, pulled from the region registry. */
  image: z.string().regex(/^[a-z0-9][A-Za-z0-9._/:@-]{0,254}$/, 'an image reference'),
  /** argv run in /workspace (never through a shell unless the argv says so). */
  command: z.array(z.string().max(4096)).min(1).max(64),
  cachePath: CachePathSchema,
});
export type CompileStep = z.infer<typeof CompileStepSchema>;

/** The task core puts under an agent's task key. */
export const BuildTaskSchema = z.object({
  taskId: z.string().regex(/^[A-Za-z0-9-]{1,64}$/),
  buildId: z.number().int(),
  project: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
  gitUrl: z.string().min(1).max(2048),
  /** Exactly one of branch or tag names what to fetch; commit pins it (on the branch). */
  branch: refName.optional(),
  gitTag: refName.optional(),
  commit: z.string().refine(isCommitId, 'a commit id').optional(),
  dockerfilePath: RepoPathSchema,
  contextPath: z.union([RepoPathSchema, z.literal('.')]),
  compile: CompileStepSchema.optional(),
  useCache: z.boolean(),
  /** `host/group/name` of the image repository in the region registry. */
  image: z.string().regex(/^[A-Za-z0-9.:-]+\/[a-z0-9._-]+\/[a-z0-9._-]+$/),
  /** Explicit image tag; without it the short commit id is the tag. */
  tag: z.string().refine(isImageTag, 'an image tag').optional(),
  /** sha256 the Dockerfile must have (settings pinned on the platform side). */
  dockerfileSha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  /** Plain HTTP registry (the local region). */
  registryInsecure: z.boolean().default(false),
  timeoutSeconds: z
    .number()
    .int()
    .min(10)
    .max(24 * 3600),
});
export type BuildTask = z.infer<typeof BuildTaskSchema>;

export const STEP_NAMES = ['clone', 'compile', 'image', 'push'] as const;
export type StepName = (typeof STEP_NAMES)[number];

/** One step as the agent saw it (the shape core stores). */
export const StepRecordSchema = z.object({
  step: z.enum(STEP_NAMES),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  ok: z.boolean().nullable(),
  skipped: z.boolean(),
});
export type StepRecord = z.infer<typeof StepRecordSchema>;

/** A build's end as the agent saw it (the last event it reports, and its result key's content). */
export const FinishedEventSchema = z.object({
  type: z.literal('finished'),
  at: z.string(),
  status: z.enum(['succeeded', 'failed', 'canceled']),
  /** The step that failed, with a message meant for the user. */
  failedStep: z.enum(STEP_NAMES).optional(),
  error: z.string().optional(),
  tag: z.string().optional(),
  digest: z.string().optional(),
  /** Repeated from the `commit` event: that report may have been dropped (core down). */
  commit: z.string().optional(),
  dockerfileSha256: z.string().optional(),
  /** The agent's own record of the steps; replaces core's, whose step reports may have been dropped. */
  steps: z.array(StepRecordSchema).max(16).optional(),
});

/** What an agent reports about a build, in order. */
export const BuildEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('started'), agentId: z.string(), at: z.string() }),
  z.object({ type: z.literal('step-started'), step: z.enum(STEP_NAMES), at: z.string() }),
  z.object({ type: z.literal('output'), step: z.enum(STEP_NAMES), text: z.string().max(1_000_000) }),
  z.object({
    type: z.literal('step-finished'),
    step: z.enum(STEP_NAMES),
    at: z.string(),
    durationMs: z.number(),
    ok: z.boolean(),
    skipped: z.boolean().optional(),
  }),
  z.object({ type: z.literal('commit'), commit: z.string(), dockerfileSha256: z.string().optional() }),
  FinishedEventSchema,
]);
export type BuildEvent = z.infer<typeof BuildEventSchema>;

/**
 * Applies a step event to a build's step records: `step-started` opens a record,
 * `step-finished` closes the step's last one; other events leave them alone. The agent
 * keeps its own record with it, and core its stored one.
 */
export function recordStep(steps: StepRecord[], event: BuildEvent): void {
  if (event.type === 'step-started')
    steps.push({
      step: event.step,
      startedAt: event.at,
      finishedAt: null,
      durationMs: null,
      ok: null,
      skipped: false,
    });
  if (event.type === 'step-finished') {
    const s = steps.findLast((x) => x.step === event.step);
    if (s)
      Object.assign(s, {
        finishedAt: event.at,
        durationMs: event.durationMs,
        ok: event.ok,
        skipped: !!event.skipped,
      });
  }
}
export type FinishedEvent = z.infer<typeof FinishedEventSchema>;

/** What an agent keeps under `resultKey` until core has the outcome (or the key's lease ends). */
export const BuildResultSchema = z.object({
  agentId: z.string(),
  buildId: z.number().int(),
  taskId: z.string(),
  finished: FinishedEventSchema,
});
export type BuildResult = z.infer<typeof BuildResultSchema>;
