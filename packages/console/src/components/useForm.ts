import { type FormEvent, useState } from 'react';
import type { z } from 'zod';
import { ApiError } from '../api.ts';

/**
 * A form checked with the same zod schema the API uses before anything is sent; the
 * API's own field errors (problem+json `errors`) land on the same fields.
 */
export function useForm<S extends z.ZodType>(
  schema: S,
  initial: Record<string, unknown>,
  /** Turns the form's values into the API's body before the check (textareas into arrays...). */
  toInput: (values: Record<string, unknown>) => unknown = (values) => values,
) {
  const [values, setValues] = useState<Record<string, unknown>>(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const set = (name: string, value: unknown) => setValues((v) => ({ ...v, [name]: value }));

  async function submit(send: (input: z.infer<S>) => Promise<unknown>): Promise<boolean> {
    setFormError(undefined);
    const parsed = schema.safeParse(toInput(values));
    if (!parsed.success) {
      setErrors(
        Object.fromEntries(
          parsed.error.issues.map((i) => [
            i.path.join('.'),
            i.code === 'invalid_type' && values[String(i.path[0])] === undefined ? 'is required' : i.message,
          ]),
        ),
      );
      return false;
    }
    setErrors({});
    setBusy(true);
    try {
      await send(parsed.data);
      return true;
    } catch (error) {
      if (error instanceof ApiError) {
        const fields = error.fields;
        setErrors(fields);
        if (Object.keys(fields).length === 0) setFormError(error.message);
      } else {
        setFormError(error instanceof Error ? error.message : String(error));
      }
      return false;
    } finally {
      setBusy(false);
    }
  }

  const reset = () => setValues(initial);

  /** `onSubmit` of a form that creates something: sends and, once it is made, clears the form and calls `created`. */
  const submitNew =
    (send: (input: z.infer<S>) => Promise<unknown>, created: () => void) => (e: FormEvent) => {
      e.preventDefault();
      void submit(send).then((ok) => {
        if (ok) {
          reset();
          created();
        }
      });
    };

  return { values, set, errors, formError, busy, submit, reset, submitNew };
}
