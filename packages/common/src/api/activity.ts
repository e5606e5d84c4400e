import { z } from 'zod';
import { RESOURCE_KINDS } from '../permissions.ts';

/** What an activity record is about: one of the four resources, or a user account. */
export const ACTIVITY_KINDS = [...RESOURCE_KINDS, 'user'] as const;
export type ActivityKind = (typeof ACTIVITY_KINDS)[number];

export const ActivitySchema = z
  .object({
    id: z.number().int(),
    at: z.iso.datetime(),
    /** Username of who did it. */
    actor: z.string(),
    resource: z.object({ kind: z.enum(ACTIVITY_KINDS), name: z.string() }),
    /** The operation (`create`, `update`, `add-member`, `deploy`, ...). */
    action: z.string(),
    /** The operation's parameters, secrets replaced by "***". */
    params: z.record(z.string(), z.unknown()),
    result: z.enum(['succeeded', 'failed']),
    /** For a failed operation, the problem code (`not-allowed`, `conflict`, `quota-exceeded`). */
    error: z.string().nullable(),
  })
  .meta({ id: 'Activity' });
export type Activity = z.infer<typeof ActivitySchema>;

/** Activity actions the operation statistics count (written by later capabilities). */
export const COUNTED_OPERATIONS = {
  deploys: { kind: 'application', action: 'deploy' },
  scalings: { kind: 'application', action: 'scale' },
  builds: { kind: 'build-project', action: 'trigger-build' },
  imagePushes: { kind: 'image-repository', action: 'push' },
} as const satisfies Record<string, { kind: ActivityKind; action: string }>;
