import { z } from 'zod';

/**
 * Branch and tag names as git accepts them (`git check-ref-format` rules on the short
 * name), with two rules of ours: no leading "-" (never read as an option), and only
 * letters, digits and `. _ / + @ -` — `$(id)` is a valid git branch name, yet in a build
 * system it is only ever an attack. Undefined when the name is fine.
 */
export function refNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > 200) return 'is longer than 200 characters';
  if (name.startsWith('-')) return 'starts with "-"';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we refuse
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) {
    return 'contains a space, a control character or one of ~ ^ : ? * [ \\';
  }
  if (!/^[A-Za-z0-9._/+@-]+$/.test(name)) return 'may only contain letters, digits and . _ / + @ -';
  if (name.includes('..')) return 'contains ".."';
  if (name === '@') return 'is "@"';
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//')) return 'has an empty path component';
  if (name.endsWith('.')) return 'ends with "."';
  for (const component of name.split('/')) {
    if (component.startsWith('.')) return 'has a path component starting with "."';
    if (component.endsWith('.lock')) return 'has a path component ending with ".lock"';
  }
  return undefined;
}

/** A commit id: 7 to 40 hex digits (abbreviated or full SHA-1), or a full SHA-256. */
export function isCommitId(value: string): boolean {
  return /^[0-9a-f]{7,40}$/.test(value) || /^[0-9a-f]{64}$/.test(value);
}

/** An image tag as the registry accepts it (distribution's reference grammar). */
export function isImageTag(value: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(value);
}

export const GitRefNameSchema = z.string().superRefine((name, ctx) => {
  const problem = refNameProblem(name);
  if (problem) ctx.addIssue({ code: 'custom', message: `not a valid branch or tag name: it ${problem}` });
});
export const CommitIdSchema = z.string().refine(isCommitId, 'a commit id (7 to 40 hex digits)');
export const ImageTagSchema = z
  .string()
  .refine(isImageTag, 'an image tag: letters, digits, "_", "." and "-"');

export const BUILD_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'canceled'] as const;
export const BUILD_STEPS = ['clone', 'compile', 'image', 'push'] as const;

/** A relative path inside the repository: no "..", no leading "/" or "-". */
export const RepoPathSchema = z
  .string()
  .min(1)
  .max(255)
  .refine(
    (p) =>
      p === '.' ||
      (!p.startsWith('/') && !p.startsWith('-') && !p.split('/').includes('..') && !/[\0\n\r]/.test(p)),
    'a relative path inside the repository, without ".."',
  );

export const CompileStepSchema = z
  .object({
    /** Builder image, in the region registry (`host/group/name:tag`). */
    image: z.string().regex(/^[a-z0-9][A-Za-z0-9._/:@-]{0,254}$/, 'an image reference'),
    /** argv run in /workspace (the checkout); never passed through a shell by LeEngine. */
    command: z.array(z.string().max(4096)).min(1).max(64),
    /** Where the dependency cache lives in the container (e.g. /root/.m2). */
    cachePath: z
      .string()
      .regex(/^\/[A-Za-z0-9._/-]{1,200}$/, 'an absolute path')
      .refine((p) => !p.split('/').includes('..'), 'without ".."'),
  })
  .meta({ id: 'CompileStep' });
export type CompileStep = z.infer<typeof CompileStepSchema>;

/**
 * Build settings kept on the platform (the seed's problem 3): a branch cannot change the
 * compile step, and with `dockerfileSha256` set, a build whose Dockerfile differs fails
 * until a Master pins the new one.
 */
export const BuildSettingsSchema = z
  .object({
    contextPath: RepoPathSchema,
    compile: CompileStepSchema.nullable(),
    /** `commit`: the short commit id; `git-tag`: a git tag's name when building a tag. */
    tagRule: z.enum(['commit', 'git-tag']),
    dockerfileSha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .nullable(),
    /** Branches the push webhook builds: exact names or `prefix/*`; empty = the default branch only. */
    branchFilters: z.array(z.string().min(1).max(200)).max(50),
    /** Tag pushes trigger builds. */
    buildTags: z.boolean(),
    timeoutSeconds: z.number().int().min(30).max(86_400),
    /** Whether a webhook secret is set (the secret itself is shown once). */
    webhookConfigured: z.boolean(),
  })
  .meta({ id: 'BuildSettings' });
export type BuildSettings = z.infer<typeof BuildSettingsSchema>;

export const UpdateBuildSettingsSchema = BuildSettingsSchema.omit({ webhookConfigured: true })
  .partial()
  .strict()
  .meta({ id: 'UpdateBuildSettings' });
export type UpdateBuildSettings = z.infer<typeof UpdateBuildSettingsSchema>;

export const WebhookSecretSchema = z
  .object({ url: z.string(), secret: z.string() })
  .meta({ id: 'WebhookSecret' });

export const TriggerBuildSchema = z
  .strictObject({
    /** Branch to build (default: the project's branch); exclusive with gitTag. */
    branch: GitRefNameSchema.optional(),
    gitTag: GitRefNameSchema.optional(),
    commit: CommitIdSchema.optional(),
    /** Image tag; default from the tag rule (short commit id). */
    imageTag: ImageTagSchema.optional(),
    /** Compile with the project's dependency cache (default true). */
    useCache: z.boolean().default(true),
  })
  .refine((b) => !(b.branch && b.gitTag), 'give a branch or a git tag, not both')
  .meta({ id: 'TriggerBuild' });
export type TriggerBuild = z.infer<typeof TriggerBuildSchema>;

export const BuildStepSchema = z.object({
  step: z.enum(BUILD_STEPS),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  ok: z.boolean().nullable(),
  skipped: z.boolean(),
});

export const BuildSchema = z
  .object({
    project: z.string(),
    number: z.number().int(),
    status: z.enum(BUILD_STATUSES),
    trigger: z.enum(['manual', 'webhook']),
    triggeredBy: z.string().nullable(),
    branch: z.string().nullable(),
    gitTag: z.string().nullable(),
    commit: z.string().nullable(),
    imageTag: z.string().nullable(),
    image: z.string().nullable(),
    digest: z.string().nullable(),
    useCache: z.boolean(),
    agent: z.string().nullable(),
    attempts: z.number().int(),
    steps: z.array(BuildStepSchema),
    failedStep: z.enum(BUILD_STEPS).nullable(),
    error: z.string().nullable(),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    durationMs: z.number().nullable(),
  })
  .meta({ id: 'Build' });
export type Build = z.infer<typeof BuildSchema>;

export const BuildLogLineSchema = z.object({ seq: z.number().int(), step: z.string(), text: z.string() });
export type BuildLogLine = z.infer<typeof BuildLogLineSchema>;
