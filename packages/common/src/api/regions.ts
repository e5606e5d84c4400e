import { z } from 'zod';
import { DescriptionSchema, DNS_LABEL, hasControlCharacters } from './names.ts';

const Timestamp = z.iso.datetime();

/** Region and cell names: DNS labels (a cell's name is also its etcd prefix and in pod labels). */
export const RegionNameSchema = z
  .string()
  .min(1)
  .max(32)
  .regex(DNS_LABEL, 'must be a DNS label: lowercase letters, digits and "-", starting with a letter');
export const CellNameSchema = RegionNameSchema;

/** A cell's admin kubeconfig (YAML or JSON text); stored encrypted, never returned. */
export const KubeconfigSchema = z
  .string()
  .min(1)
  .max(64 * 1024)
  .refine((s) => !hasControlCharacters(s, '\n\r\t'), { message: 'must not contain control characters' });

export const CELL_HEALTH = ['unknown', 'healthy', 'unreachable'] as const;
export type CellHealthState = (typeof CELL_HEALTH)[number];

export const CellHealthSchema = z.object({
  state: z.enum(CELL_HEALTH),
  /** Why it is unreachable, or the apiserver's version when healthy. */
  message: z.string(),
  checkedAt: Timestamp.nullable(),
});

export const CellSchema = z
  .object({
    name: z.string(),
    region: z.string(),
    description: z.string(),
    /** The apiserver's URL (from the kubeconfig). */
    server: z.string(),
    /** No new applications are placed on a cordoned cell. */
    cordoned: z.boolean(),
    health: CellHealthSchema,
    /** Applications placed on it. */
    applications: z.number().int(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Cell' });
export type Cell = z.infer<typeof CellSchema>;

export const RegionSchema = z
  .object({
    name: z.string(),
    description: z.string(),
    cells: z.array(CellSchema),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Region' });
export type Region = z.infer<typeof RegionSchema>;

export const CreateRegionSchema = z
  .strictObject({ name: RegionNameSchema, description: DescriptionSchema.default('') })
  .meta({ id: 'CreateRegion' });
export type CreateRegion = z.infer<typeof CreateRegionSchema>;

export const UpdateRegionSchema = z
  .strictObject({ description: DescriptionSchema.optional() })
  .meta({ id: 'UpdateRegion' });
export type UpdateRegion = z.infer<typeof UpdateRegionSchema>;

export const CreateCellSchema = z
  .strictObject({
    name: CellNameSchema,
    description: DescriptionSchema.default(''),
    kubeconfig: KubeconfigSchema,
  })
  .meta({ id: 'CreateCell' });
export type CreateCell = z.infer<typeof CreateCellSchema>;

export const UpdateCellSchema = z
  .strictObject({ description: DescriptionSchema.optional(), kubeconfig: KubeconfigSchema.optional() })
  .meta({ id: 'UpdateCell' });
export type UpdateCell = z.infer<typeof UpdateCellSchema>;

const Resources = z.object({ cpuMillicores: z.number().int(), memoryMib: z.number().int() });
const Allocatable = Resources.extend({ pods: z.number().int() });

export const CellCapacitySchema = z
  .object({
    cell: z.string(),
    health: CellHealthSchema,
    nodes: z.array(
      z.object({
        name: z.string(),
        ready: z.boolean(),
        unschedulable: z.boolean(),
        allocatable: Allocatable,
        requested: Resources,
        pods: z.number().int(),
      }),
    ),
    /** Over ready, schedulable nodes. */
    total: z.object({ allocatable: Allocatable, requested: Resources, pods: z.number().int() }),
  })
  .meta({ id: 'CellCapacity' });
export type CellCapacityView = z.infer<typeof CellCapacitySchema>;

/** What an evacuation moved: each application's instances, from the cell to others (none: it stays). */
export const EvacuationSchema = z
  .object({
    cell: z.string(),
    moves: z.array(z.object({ application: z.string(), to: z.array(z.string()) })),
  })
  .meta({ id: 'Evacuation' });
export type Evacuation = z.infer<typeof EvacuationSchema>;
