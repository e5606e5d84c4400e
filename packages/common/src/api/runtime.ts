import { z } from 'zod';

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
