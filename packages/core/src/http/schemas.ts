import { hasControlCharacters, ProblemSchema } from '@leengine/common';
import { z } from 'zod';

/**
 * A path segment naming a resource. Its exact format is left to the lookup (no match:
 * 404); control characters are refused here (PostgreSQL refuses NUL in text).
 */
export const NameParamSchema = z
  .string()
  .min(1)
  .max(255)
  .refine((s) => !hasControlCharacters(s), { message: 'must not contain control characters' });

export const NameParamsSchema = z.strictObject({ name: NameParamSchema });
export const UsernameParamsSchema = z.strictObject({ username: NameParamSchema });

/** Problem responses for the OpenAPI document, by status. */
export function problems<S extends number>(...statuses: S[]): Record<S, typeof ProblemSchema> {
  return Object.fromEntries(statuses.map((s) => [s, ProblemSchema])) as Record<S, typeof ProblemSchema>;
}

/** The problems every authenticated route can answer. */
export const AUTHENTICATED = [400, 401, 403, 404] as const;

/** No body (204). */
export const NoContentSchema = z.null().describe('no content');
