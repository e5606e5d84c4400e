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

/**
 * Activity actions the operation statistics count: requests the platform accepted
 * (`result: succeeded` in the activity record), whatever the operation's outcome later;
 * a rollback deploys a version, so it counts as a deploy.
 */
export const COUNTED_OPERATIONS = {
  deploys: { kind: 'application', actions: ['deploy', 'rollback'] },
  scalings: { kind: 'application', actions: ['scale'] },
  builds: { kind: 'build-project', actions: ['trigger-build'] },
  imagePushes: { kind: 'image-repository', actions: ['push'] },
} as const satisfies Record<string, { kind: ActivityKind; actions: readonly string[] }>;
