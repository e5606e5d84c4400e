import { z } from 'zod';
import {
  ApplicationNameSchema,
  BranchSchema,
  BuildProjectNameSchema,
  DescriptionSchema,
  GitUrlSchema,
  ImageGroupNameSchema,
  ImageRepositoryNameSchema,
  RelativePathSchema,
} from './names.ts';
import { CellNameSchema, RegionNameSchema } from './regions.ts';
import { RoleSchema } from './roles.ts';

const Timestamp = z.iso.datetime();

/** Fields every resource answers with. */
const common = {
  description: z.string(),
  createdBy: z.string(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  /** The caller's effective role; null for admins and public readers who are not members. */
  callerRole: RoleSchema.nullable(),
};

// ---- application

export const ApplicationSchema = z
  .object({
    name: z.string(),
    ...common,
    /** What the application's running versions hold (counted against its creator's quota). */
    allocation: z.object({
      instances: z.number().int(),
      cpuMillicores: z.number().int(),
      memoryMib: z.number().int(),
    }),
    /** Its region (null: created before any region existed; it cannot deploy). */
    region: z.string().nullable(),
    /** The cells it runs in; `leaving` while an evacuation moves it off a cell. */
    cells: z.array(z.object({ name: z.string(), state: z.enum(['active', 'leaving']) })),
  })
  .meta({ id: 'Application' });
export type Application = z.infer<typeof ApplicationSchema>;

export const CreateApplicationSchema = z
  .strictObject({
    name: ApplicationNameSchema,
    description: DescriptionSchema.default(''),
    /** Default: the only region, when there is exactly one. */
    region: RegionNameSchema.optional(),
    /** Default: every cell of the region that is not cordoned (at least two when it has two). */
    cells: z.array(CellNameSchema).min(1).max(32).optional(),
  })
  .meta({ id: 'CreateApplication' });
export type CreateApplication = z.infer<typeof CreateApplicationSchema>;

export const UpdateApplicationSchema = z
  .strictObject({ description: DescriptionSchema.optional() })
  .meta({ id: 'UpdateApplication' });
export type UpdateApplication = z.infer<typeof UpdateApplicationSchema>;

// ---- image group

export const ImageGroupSchema = z.object({ name: z.string(), ...common }).meta({ id: 'ImageGroup' });
export type ImageGroup = z.infer<typeof ImageGroupSchema>;

export const CreateImageGroupSchema = z
  .strictObject({ name: ImageGroupNameSchema, description: DescriptionSchema.default('') })
  .meta({ id: 'CreateImageGroup' });
export type CreateImageGroup = z.infer<typeof CreateImageGroupSchema>;

export const UpdateImageGroupSchema = z
  .strictObject({ description: DescriptionSchema.optional() })
  .meta({ id: 'UpdateImageGroup' });
export type UpdateImageGroup = z.infer<typeof UpdateImageGroupSchema>;

// ---- image repository

export const ImageRepositorySchema = z
  .object({
    group: z.string(),
    name: z.string(),
    /** `group/name`, the path in the registry. */
    fullName: z.string(),
    public: z.boolean(),
    ...common,
  })
  .meta({ id: 'ImageRepository' });
export type ImageRepository = z.infer<typeof ImageRepositorySchema>;

export const CreateImageRepositorySchema = z
  .strictObject({
    name: ImageRepositoryNameSchema,
    description: DescriptionSchema.default(''),
    public: z.boolean().default(false),
  })
  .meta({ id: 'CreateImageRepository' });
export type CreateImageRepository = z.infer<typeof CreateImageRepositorySchema>;

export const UpdateImageRepositorySchema = z
  .strictObject({ description: DescriptionSchema.optional(), public: z.boolean().optional() })
  .meta({ id: 'UpdateImageRepository' });
export type UpdateImageRepository = z.infer<typeof UpdateImageRepositorySchema>;

/** `group/name` of an image repository. */
export const ImageRepositoryPathSchema = z
  .string()
  .max(200)
  .refine(
    (path) => {
      const [group, name, ...rest] = path.split('/');
      return (
        rest.length === 0 &&
        ImageGroupNameSchema.safeParse(group).success &&
        ImageRepositoryNameSchema.safeParse(name).success
      );
    },
    { message: 'must be "group/name" of an image repository' },
  );

// ---- build project

export const BuildProjectSchema = z
  .object({
    name: z.string(),
    gitUrl: z.string(),
    branch: z.string(),
    dockerfilePath: z.string(),
    /** `group/name` of the image repository its builds push to. */
    imageRepository: z.string(),
    ...common,
  })
  .meta({ id: 'BuildProject' });
export type BuildProject = z.infer<typeof BuildProjectSchema>;

export const CreateBuildProjectSchema = z
  .strictObject({
    name: BuildProjectNameSchema,
    description: DescriptionSchema.default(''),
    gitUrl: GitUrlSchema,
    branch: BranchSchema.default('master'),
    dockerfilePath: RelativePathSchema.default('Dockerfile'),
    imageRepository: ImageRepositoryPathSchema,
  })
  .meta({ id: 'CreateBuildProject' });
export type CreateBuildProject = z.infer<typeof CreateBuildProjectSchema>;

export const UpdateBuildProjectSchema = z
  .strictObject({
    description: DescriptionSchema.optional(),
    gitUrl: GitUrlSchema.optional(),
    branch: BranchSchema.optional(),
    dockerfilePath: RelativePathSchema.optional(),
    imageRepository: ImageRepositoryPathSchema.optional(),
  })
  .meta({ id: 'UpdateBuildProject' });
export type UpdateBuildProject = z.infer<typeof UpdateBuildProjectSchema>;
