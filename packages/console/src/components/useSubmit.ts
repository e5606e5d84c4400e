import { useState } from 'react';
import type { z } from 'zod';
import { ApiError } from '../api.ts';

/**
 * The state and the sending of a form that builds its own body (where `useForm`'s flat
 * values do not fit): `send` checks the body with the API's zod schema first, then runs
 * the request; the schema's issues and the API's field errors land on the form's fields,
 * any other failure is the form's banner.
 */
export function useSubmit(
  options: {
    /** The field an issue of the schema belongs to, from its path (default: the path's first key). */
    issueField?: (path: string[]) => string;
    /** The field an API field error belongs to, from its `errors[].path` (default: that path). */
    apiField?: (path: string) => string;
  } = {},
) {
  const issueField = options.issueField ?? ((path) => String(path[0]));
  const apiField = options.apiField ?? ((path) => path);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  async function send<S extends z.ZodType>(
    schema: S,
    body: unknown,
    request: (input: z.infer<S>) => Promise<unknown>,
  ): Promise<void> {
    setFormError(undefined);
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      setErrors(
        Object.fromEntries(parsed.error.issues.map((i) => [issueField(i.path.map(String)), i.message])),
      );
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      await request(parsed.data);
    } catch (error) {
      if (error instanceof ApiError && Object.keys(error.fields).length) {
        setErrors(Object.fromEntries(Object.entries(error.fields).map(([k, v]) => [apiField(k), v])));
      } else setFormError(error instanceof Error ? error.message : String(error));
    } finally {
      setBusy(false);
    }
  }

  return { errors, setErrors, formError, setFormError, busy, send };
}
