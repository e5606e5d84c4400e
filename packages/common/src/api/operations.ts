import { z } from 'zod';

const Timestamp = z.iso.datetime();

export const OPERATION_KINDS = ['deploy', 'rollback', 'scale'] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

/** running -> succeeded; or running -> rolling-back -> failed/aborted (the previous version keeps serving). */
export const OPERATION_STATES = ['running', 'rolling-back', 'succeeded', 'failed', 'aborted'] as const;
export type OperationState = (typeof OPERATION_STATES)[number];

export const STEP_STATES = ['pending', 'running', 'done', 'failed', 'skipped'] as const;
export type StepState = (typeof STEP_STATES)[number];

export const OperationStepSchema = z.object({
  /** create, ready, routable, drain, retire, select, scale, rollback. */
  name: z.string(),
  title: z.string(),
  state: z.enum(STEP_STATES),
  /** Instances done out of instances to do, where the step counts them. */
  progress: z.object({ done: z.number().int(), total: z.number().int() }).nullable(),
  message: z.string(),
  startedAt: Timestamp.nullable(),
  finishedAt: Timestamp.nullable(),
});
export type OperationStep = z.infer<typeof OperationStepSchema>;

export const OperationSchema = z
  .object({
    id: z.number().int(),
    application: z.string(),
    kind: z.enum(OPERATION_KINDS),
    state: z.enum(OPERATION_STATES),
    /** The version being deployed, rolled back to, or scaled. */
    version: z.string(),
    /** Versions a deploy or rollback replaces. */
    replaces: z.array(z.string()),
    steps: z.array(OperationStepSchema),
    error: z.string().nullable(),
    /** Until when the new version may take to become Ready and routable. */
    deadline: Timestamp.nullable(),
    createdBy: z.string(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    finishedAt: Timestamp.nullable(),
  })
  .meta({ id: 'Operation' });
export type Operation = z.infer<typeof OperationSchema>;
