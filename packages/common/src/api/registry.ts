import { z } from 'zod';
import { DescriptionSchema } from './names.ts';

const Timestamp = z.iso.datetime();

/** Registry actions a robot account can hold (the token spec's names). */
export const ROBOT_ACTIONS = ['pull', 'push', 'delete'] as const;
export type RobotAction = (typeof ROBOT_ACTIONS)[number];

/** A robot's own name within its group or build project. */
export const RobotNameSchema = z
  .string()
  .min(1)
  .max(40)
  .regex(/^[a-z0-9]+(?:[-_][a-z0-9]+)*$/, 'must be lowercase letters and digits, separated by "-" or "_"');

export const CreateRobotSchema = z
  .strictObject({
    name: RobotNameSchema,
    description: DescriptionSchema.default(''),
    /** Default: pull for an image group's robot, pull and push for a build project's. */
    actions: z.array(z.enum(ROBOT_ACTIONS)).min(1).max(3).optional(),
    /** Days until the secret stops working (1..366). */
    expiresInDays: z.number().int().min(1).max(366).default(30),
  })
  .meta({ id: 'CreateRobot' });
export type CreateRobot = z.infer<typeof CreateRobotSchema>;

export const RobotSchema = z
  .object({
    name: z.string(),
    /** What it signs in to the registry with (`docker login -u ...`). */
    username: z.string(),
    description: z.string(),
    /** Registry actions on the group's repositories, or on the build project's repository. */
    actions: z.array(z.enum(ROBOT_ACTIONS)),
    createdBy: z.string(),
    createdAt: Timestamp,
    expiresAt: Timestamp,
    lastUsedAt: Timestamp.nullable(),
  })
  .meta({ id: 'Robot' });
export type Robot = z.infer<typeof RobotSchema>;

/** The one answer that carries the secret (`lee_robot_...`): it is stored only hashed. */
export const CreatedRobotSchema = RobotSchema.extend({ secret: z.string() }).meta({ id: 'CreatedRobot' });
export type CreatedRobot = z.infer<typeof CreatedRobotSchema>;

/** A tag of an image repository, as the registry holds it now. */
export const RegistryTagSchema = z
  .object({
    tag: z.string(),
    /** The manifest's digest (`sha256:...`): what a pull by digest names. */
    digest: z.string(),
    mediaType: z.string(),
    /** Bytes a pull downloads: manifest, config and layers (for an index: its manifests only). */
    size: z.number().int(),
    /** From the registry's push notification; null when core never heard of the push. */
    pushedAt: Timestamp.nullable(),
    /** A username or a robot's username; null as for pushedAt. */
    pushedBy: z.string().nullable(),
  })
  .meta({ id: 'RegistryTag' });
export type RegistryTag = z.infer<typeof RegistryTagSchema>;

/** Tags of an image repository (not paged: read from the registry in one list). */
export const RegistryTagListSchema = z
  .object({ items: z.array(RegistryTagSchema) })
  .meta({ id: 'RegistryTagList' });
export type RegistryTagList = z.infer<typeof RegistryTagListSchema>;

/** A registry image-tag name (distribution's grammar). */
export const RegistryTagNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/,
    'must be a tag: letters, digits, "_", "." and "-", at most 128',
  );

/** Starts a garbage collection of the region registry (admins). */
export const StartRegistryGcSchema = z
  .strictObject({
    /** Report what would go and delete nothing (the registry stays read-write). Default true. */
    dryRun: z.boolean().default(true),
    /**
     * Also delete manifests no tag points at, and then their blobs (`--delete-untagged`).
     * Distribution 2.8 counts a multi-arch index's platform manifests among them: only for
     * registries without indexes (docs/registry.md).
     */
    deleteUntagged: z.boolean().default(false),
  })
  .meta({ id: 'StartRegistryGc' });
export type StartRegistryGc = z.infer<typeof StartRegistryGcSchema>;

export const REGISTRY_GC_STEPS = ['read-only', 'collect', 'read-write'] as const;

/** A garbage collection of the region registry (or its dry run), while it runs and after. */
export const RegistryGcSchema = z
  .object({
    id: z.string(),
    dryRun: z.boolean(),
    deleteUntagged: z.boolean(),
    state: z.enum(['running', 'succeeded', 'failed']),
    /** The admin who started it. */
    startedBy: z.string(),
    startedAt: Timestamp,
    finishedAt: Timestamp.nullable(),
    /** A collection: read-only, collect, read-write; a dry run: collect only. */
    steps: z.array(
      z.object({
        name: z.enum(REGISTRY_GC_STEPS),
        state: z.enum(['pending', 'running', 'succeeded', 'failed']),
        startedAt: Timestamp.nullable(),
        finishedAt: Timestamp.nullable(),
        durationMs: z.number().int().nullable(),
      }),
    ),
    /** What the collection found: deleted, or for a dry run what would be. Null until it ran. */
    report: z
      .object({
        /** Blobs kept: referenced by a manifest that stays. */
        markedBlobs: z.number().int(),
        /** Blobs no kept manifest references, with their bytes. */
        blobs: z.array(z.object({ digest: z.string(), bytes: z.number().int() })),
        /** The reclaimable bytes: those blobs together. */
        bytes: z.number().int(),
        /** Untagged manifests (with deleteUntagged), by repository. */
        manifests: z.array(z.object({ repository: z.string(), digest: z.string() })),
        /** All blobs' bytes when the collection started. */
        blobBytes: z.number().int(),
      })
      .nullable(),
    /** What the storage shrank by (a collection that succeeded); null for a dry run. */
    bytesFreed: z.number().int().nullable(),
    /** From the read-only restart until read-write again: how long pushes were refused. */
    pushesRefusedMs: z.number().int().nullable(),
    error: z.string().nullable(),
  })
  .meta({ id: 'RegistryGc' });
export type RegistryGc = z.infer<typeof RegistryGcSchema>;

export const RegistryGcListSchema = z
  .object({ items: z.array(RegistryGcSchema) })
  .meta({ id: 'RegistryGcList' });
export type RegistryGcList = z.infer<typeof RegistryGcListSchema>;

/** GET /registry: where clients reach the region registry (null when core has none). */
export const RegistryInfoSchema = z.object({ host: z.string().nullable() }).meta({ id: 'RegistryInfo' });
export type RegistryInfo = z.infer<typeof RegistryInfoSchema>;
