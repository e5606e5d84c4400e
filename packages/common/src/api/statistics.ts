import { z } from 'zod';

const Day = z.iso.date();

const bothValid = (q: { from: string; to: string }) => !Number.isNaN(Date.parse(q.from) + Date.parse(q.to));

export const OperationStatsQuerySchema = z
  .strictObject({ from: Day, to: Day })
  .refine((q) => !bothValid(q) || q.from <= q.to, { message: '"from" must not be after "to"', path: ['to'] })
  .refine((q) => !bothValid(q) || (Date.parse(q.to) - Date.parse(q.from)) / 86_400_000 < 366, {
    message: 'at most 366 days at once',
    path: ['to'],
  });
export type OperationStatsQuery = z.infer<typeof OperationStatsQuerySchema>;

/**
 * Per day (UTC), how many requests of each counted operation the platform accepted
 * (deploys include rollbacks; an accepted deploy counts even if it fails later).
 */
export const OperationStatsSchema = z
  .object({
    days: z.array(
      z.object({
        day: Day,
        deploys: z.number().int(),
        builds: z.number().int(),
        imagePushes: z.number().int(),
        scalings: z.number().int(),
      }),
    ),
  })
  .meta({ id: 'OperationStats' });
export type OperationStats = z.infer<typeof OperationStatsSchema>;

/** How much the platform holds right now. */
export const SummaryStatsSchema = z
  .object({
    users: z.number().int(),
    applications: z.number().int(),
    imageGroups: z.number().int(),
    imageRepositories: z.number().int(),
    buildProjects: z.number().int(),
  })
  .meta({ id: 'SummaryStats' });
export type SummaryStats = z.infer<typeof SummaryStatsSchema>;
