import type { InputHTMLAttributes } from 'react';

/**
 * A number field of a `useForm` form: shows the value, sets the number typed or, when the
 * field is emptied, `undefined` (so the schema says "is required" or applies its default).
 * Other props (`inputMode`, `min`, and what `Field` adds: `id`, `aria-*`) go to the `<input>`.
 */
export function NumberInput(
  props: Omit<InputHTMLAttributes<HTMLInputElement>, 'form' | 'name' | 'value' | 'onChange'> & {
    form: { values: Record<string, unknown>; set: (name: string, value: unknown) => void };
    name: string;
  },
) {
  const { form, ...input } = props;
  return (
    <input
      {...input}
      value={String(form.values[props.name] ?? '')}
      onChange={(e) => form.set(props.name, e.target.value === '' ? undefined : Number(e.target.value))}
    />
  );
}
