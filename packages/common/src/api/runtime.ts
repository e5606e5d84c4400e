import { z } from 'zod';
import { hasControlCharacters } from './names.ts';

const Timestamp = z.iso.datetime();

/** A Kubernetes event from one of the application's cells, or (cell null) the platform's own. */
export const ApplicationEventSchema = z
  .object({
    id: z.number().int(),
    /** null: written by LeEngine itself (operation steps). */
    cell: z.string().nullable(),
    type: z.string(),
    reason: z.string(),
    message: z.string(),
    /** kind/name of what it is about (Pod/web-v2-abc12, Deployment/v2, Version/v2). */
    object: z.string(),
    count: z.number().int(),
    firstSeen: Timestamp,
    lastSeen: Timestamp,
  })
  .meta({ id: 'ApplicationEvent' });
export type ApplicationEvent = z.infer<typeof ApplicationEventSchema>;

/** One container (pod) of the application: where it runs and how it is. */
export const ContainerSchema = z
  .object({
    cell: z.string(),
    name: z.string(),
    version: z.string(),
    node: z.string(),
    ip: z.string(),
    phase: z.string(),
    ready: z.boolean(),
    restarts: z.number().int(),
    startedAt: Timestamp.nullable(),
    reason: z.string().nullable(),
  })
  .meta({ id: 'Container' });
export type ContainerView = z.infer<typeof ContainerSchema>;

export const ContainerListSchema = z
  .object({
    items: z.array(ContainerSchema),
    /** Cells that did not answer: their containers are missing from `items`. */
    unreachableCells: z.array(z.object({ cell: z.string(), error: z.string() })),
  })
  .meta({ id: 'ContainerList' });
export type ContainerList = z.infer<typeof ContainerListSchema>;

export const LogQuerySchema = z.strictObject({
  tail: z.coerce.number().int().min(1).max(10_000).default(200),
  /** Keep the response open and stream new lines until the client goes away. */
  follow: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
});
export type LogQuery = z.infer<typeof LogQuerySchema>;

/**
 * A command to run in a container, as `kubectl exec POD -- COMMAND...`: the program and
 * its arguments as given, run without a shell on LeEngine's side (send `["sh", "-c",
 * "..."]` to have the container's shell read a line), without a TTY or stdin.
 */
export const ExecRequestSchema = z
  .strictObject({
    command: z
      .array(
        z
          .string()
          .min(1)
          .max(4096)
          .refine((s) => !hasControlCharacters(s, '\n\t'), {
            message: 'must not contain control characters',
          }),
      )
      .min(1)
      .max(64),
    /** The command is stopped after this long; what it wrote so far is returned. */
    timeoutSeconds: z.number().int().min(1).max(300).default(30),
  })
  .meta({ id: 'ExecRequest' });
export type ExecRequest = z.infer<typeof ExecRequestSchema>;

export const ExecResultSchema = z
  .object({
    /** The exit code; null when the command was stopped at its timeout. */
    exitCode: z.number().int().nullable(),
    timedOut: z.boolean(),
    stdout: z.string(),
    stderr: z.string(),
    /** Output beyond 1 MiB per stream was dropped. */
    truncated: z.boolean(),
    durationMs: z.number().int(),
  })
  .meta({ id: 'ExecResult' });
export type ExecResult = z.infer<typeof ExecResultSchema>;
