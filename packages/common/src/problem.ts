import { z } from 'zod';

/** Problem `type` URIs are `urn:leengine:problem:<code>`, stable across versions. */
export const PROBLEM_TYPE_PREFIX = 'urn:leengine:problem:';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export const FieldErrorSchema = z.object({
  in: z.enum(['body', 'query', 'params', 'headers', 'config']).optional(),
  path: z.string(),
  message: z.string(),
});

/** The one error body of the API (RFC 9457), decoded by the console and the CLI. */
export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    errors: z.array(FieldErrorSchema).optional(),
  })
  .meta({ id: 'Problem' });

export type Problem = z.infer<typeof ProblemSchema>;

/** The problem type URI for an error code. */
export function problemType(code: string): string {
  return `${PROBLEM_TYPE_PREFIX}${code}`;
}
