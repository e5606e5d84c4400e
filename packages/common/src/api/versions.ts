import { z } from 'zod';
import { hasControlCharacters } from './names.ts';
import { CellNameSchema } from './regions.ts';
import { ImageRepositoryPathSchema } from './resources.ts';

const Timestamp = z.iso.datetime();

/** A registry tag (the distribution grammar). */
const TagSchema = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'must be a registry tag: letters, digits, "_", "." and "-"');

/** An environment variable name: a C identifier, as shells and most runtimes expect. */
export const EnvNameSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be letters, digits and "_", not starting with a digit');

const EnvValueSchema = z
  .string()
  .max(32 * 1024)
  .refine((s) => !hasControlCharacters(s, '\n\t'), { message: 'must not contain control characters' });

/** An env var to deploy. A secret without a value keeps the previous version's value. */
export const EnvVarInputSchema = z
  .strictObject({
    name: EnvNameSchema,
    value: EnvValueSchema.optional(),
    /** Stored encrypted, put into a Secret in the cells, never shown again. */
    secret: z.boolean().default(false),
  })
  .refine((e) => e.secret || e.value !== undefined, { message: 'needs a value', path: ['value'] });
export type EnvVarInput = z.infer<typeof EnvVarInputSchema>;

export const HealthCheckSchema = z
  .strictObject({
    /** HTTP GET path; any 2xx/3xx answer is healthy. */
    path: z
      .string()
      .max(255)
      .regex(/^\/[\x21-\x7e]*$/, 'must be an absolute path of printable characters'),
    /** Default: the container port. */
    port: z.number().int().min(1).max(65535).optional(),
    initialDelaySeconds: z.number().int().min(0).max(600).default(0),
    periodSeconds: z.number().int().min(1).max(300).default(5),
    timeoutSeconds: z.number().int().min(1).max(60).default(1),
    failureThreshold: z.number().int().min(1).max(30).default(3),
    /** Also restart the container when it fails (liveness), not only keep traffic from it. */
    liveness: z.boolean().default(false),
  })
  .meta({ id: 'HealthCheck' });
export type HealthCheck = z.infer<typeof HealthCheckSchema>;

const Instances = z.number().int().min(0).max(100);

export const CpuSchema = z
  .strictObject({
    requestMillicores: z.number().int().min(1).max(64_000),
    limitMillicores: z.number().int().min(1).max(64_000),
  })
  .refine((c) => c.limitMillicores >= c.requestMillicores, {
    message: 'must not be below the request',
    path: ['limitMillicores'],
  });

export const MemorySchema = z
  .strictObject({
    requestMib: z.number().int().min(4).max(262_144),
    limitMib: z.number().int().min(4).max(262_144),
  })
  .refine((m) => m.limitMib >= m.requestMib, {
    message: 'must not be below the request',
    path: ['limitMib'],
  });

/** Instances of a version: the same number in every cell, or a number per cell. */
export const InstancesSchema = z.union([
  Instances,
  z.record(CellNameSchema, Instances).refine((r) => Object.keys(r).length > 0, { message: 'names no cell' }),
]);

export const DeployVersionSchema = z
  .strictObject({
    image: z.strictObject({ repository: ImageRepositoryPathSchema, tag: TagSchema }),
    /** Per cell: a number for every cell of the application, or `{cell: n}`. */
    instances: InstancesSchema,
    /** The container port traffic goes to. */
    port: z.number().int().min(1).max(65535).default(8080),
    cpu: CpuSchema,
    memory: MemorySchema,
    env: z.array(EnvVarInputSchema).max(100).default([]),
    healthCheck: HealthCheckSchema.optional(),
    /** Seconds an instance gets between SIGTERM and SIGKILL when it stops. */
    terminationGracePeriodSeconds: z.number().int().min(0).max(600).default(30),
    /** How long the new version may take to be Ready and routable before the upgrade is rolled back. */
    timeoutSeconds: z.number().int().min(5).max(3600).default(300),
  })
  .refine((v) => new Set(v.env.map((e) => e.name)).size === v.env.length, {
    message: 'env names must be unique',
    path: ['env'],
  })
  .meta({ id: 'DeployVersion' });
export type DeployVersion = z.infer<typeof DeployVersionSchema>;
export type DeployVersionInput = z.input<typeof DeployVersionSchema>;

/** A version's observed state in one cell, as the reconciler last saw it. */
export const VersionCellStatusSchema = z.object({
  cell: z.string(),
  desired: z.number().int(),
  ready: z.number().int(),
  /** The workload exists in the cell. */
  exists: z.boolean(),
  observedAt: Timestamp.nullable(),
});

export const VERSION_STATES = ['active', 'retired'] as const;

export const VersionSchema = z
  .object({
    name: z.string(),
    number: z.number().int(),
    image: z.object({ repository: z.string(), tag: z.string(), reference: z.string() }),
    port: z.number().int(),
    cpu: z.object({ requestMillicores: z.number().int(), limitMillicores: z.number().int() }),
    memory: z.object({ requestMib: z.number().int(), limitMib: z.number().int() }),
    /** Secret values are never returned (null). */
    env: z.array(z.object({ name: z.string(), value: z.string().nullable(), secret: z.boolean() })),
    healthCheck: HealthCheckSchema.nullable(),
    terminationGracePeriodSeconds: z.number().int(),
    /** Desired instances per cell. */
    instances: z.record(z.string(), z.number().int()),
    /** active: should run in the cells; retired: removed (kept for rollback). */
    state: z.enum(VERSION_STATES),
    status: z.array(VersionCellStatusSchema),
    createdBy: z.string(),
    createdAt: Timestamp,
  })
  .meta({ id: 'Version' });
export type Version = z.infer<typeof VersionSchema>;

/** The deploy form for the next version, prefilled from the newest one (secret values left out). */
export const NewVersionSchema = z
  .object({
    previous: z.string().nullable(),
    cells: z.array(z.string()),
    template: z.object({
      image: z.object({ repository: z.string(), tag: z.string() }).nullable(),
      instances: z.union([z.number().int(), z.record(z.string(), z.number().int())]),
      port: z.number().int(),
      cpu: z.object({ requestMillicores: z.number().int(), limitMillicores: z.number().int() }),
      memory: z.object({ requestMib: z.number().int(), limitMib: z.number().int() }),
      env: z.array(z.object({ name: z.string(), value: z.string().optional(), secret: z.boolean() })),
      healthCheck: HealthCheckSchema.nullable(),
      terminationGracePeriodSeconds: z.number().int(),
      timeoutSeconds: z.number().int(),
    }),
  })
  .meta({ id: 'NewVersion' });
export type NewVersion = z.infer<typeof NewVersionSchema>;

export const ScaleVersionSchema = z
  .strictObject({
    /** A number: the total, spread evenly over the application's cells; or `{cell: n}` for those cells. */
    instances: z.union([
      z.number().int().min(0).max(1000),
      z
        .record(CellNameSchema, Instances)
        .refine((r) => Object.keys(r).length > 0, { message: 'names no cell' }),
    ]),
    /** How long new instances may take to be Ready before the scaling is marked failed. */
    timeoutSeconds: z.number().int().min(5).max(3600).default(300),
  })
  .meta({ id: 'ScaleVersion' });
export type ScaleVersion = z.infer<typeof ScaleVersionSchema>;

export const RollbackSchema = z
  .strictObject({
    /** An earlier version's name (`v3`). */
    version: z.string().min(1).max(20),
    timeoutSeconds: z.number().int().min(5).max(3600).default(300),
  })
  .meta({ id: 'Rollback' });
export type Rollback = z.infer<typeof RollbackSchema>;
