import { cloneElement, isValidElement, type ReactElement, type ReactNode, useId } from 'react';

/**
 * A labelled form field with the error the client-side check or the API gave for it.
 * The label names the control (`for`/`id`); the hint or the error describes it
 * (`aria-describedby`), and an error marks it `aria-invalid`.
 */
export function Field(props: {
  label: string;
  error?: string | undefined;
  hint?: string;
  children: ReactNode;
}) {
  const id = useId();
  const noteId = useId();
  const note = props.error ?? props.hint;
  const control = isValidElement(props.children)
    ? cloneElement(props.children as ReactElement<Record<string, unknown>>, {
        id,
        ...(note ? { 'aria-describedby': noteId } : {}),
        ...(props.error ? { 'aria-invalid': true } : {}),
      })
    : props.children;
  return (
    <div className={`field${props.error ? ' field-error' : ''}`}>
      <label htmlFor={id} className="field-label">
        {props.label}
      </label>
      {control}
      {props.error ? (
        <span id={noteId} className="error" role="alert">
          {props.error}
        </span>
      ) : props.hint ? (
        <span id={noteId} className="hint">
          {props.hint}
        </span>
      ) : null}
    </div>
  );
}

/** The problem's detail when it is not about one field. */
export function FormError(props: { error: string | undefined }) {
  return props.error ? (
    <p className="error banner" role="alert">
      {props.error}
    </p>
  ) : null;
}
