import { z } from 'zod';

const limit = (max: number) => z.number().int().min(0).max(max);

/** The four limits (and, with the same shape, what is in use). */
export const QuotaLimitsSchema = z
  .strictObject({
    applications: limit(100_000),
    instances: limit(1_000_000),
    cpuMillicores: limit(1_000_000_000),
    memoryMib: limit(1_000_000_000),
  })
  .meta({ id: 'QuotaLimits' });
export type QuotaLimits = z.infer<typeof QuotaLimitsSchema>;

/** A user's overrides: a number replaces the default, null falls back to it. */
export const QuotaOverridesSchema = z
  .strictObject({
    applications: limit(100_000).nullable().optional(),
    instances: limit(1_000_000).nullable().optional(),
    cpuMillicores: limit(1_000_000_000).nullable().optional(),
    memoryMib: limit(1_000_000_000).nullable().optional(),
  })
  .meta({ id: 'QuotaOverrides' });
export type QuotaOverrides = z.infer<typeof QuotaOverridesSchema>;

export const UserQuotaSchema = z
  .object({
    username: z.string(),
    /** What applies: overrides where set, defaults elsewhere. */
    limits: z.object({
      applications: z.number().int(),
      instances: z.number().int(),
      cpuMillicores: z.number().int(),
      memoryMib: z.number().int(),
    }),
    overrides: z.object({
      applications: z.number().int().nullable(),
      instances: z.number().int().nullable(),
      cpuMillicores: z.number().int().nullable(),
      memoryMib: z.number().int().nullable(),
    }),
    usage: z.object({
      applications: z.number().int(),
      instances: z.number().int(),
      cpuMillicores: z.number().int(),
      memoryMib: z.number().int(),
    }),
  })
  .meta({ id: 'UserQuota' });
export type UserQuota = z.infer<typeof UserQuotaSchema>;
