import type { ReactNode } from 'react';

/** A labelled form field with the error the client-side check or the API gave for it. */
export function Field(props: {
  label: string;
  error?: string | undefined;
  hint?: string;
  children: ReactNode;
}) {
  return (
    // biome-ignore lint/a11y/noLabelWithoutControl: the control is the label's child, passed in as `children`
    <label className={`field${props.error ? ' field-error' : ''}`}>
      <span className="field-label">{props.label}</span>
      {props.children}
      {props.error ? (
        <span className="error" role="alert">
          {props.error}
        </span>
      ) : props.hint ? (
        <span className="hint">{props.hint}</span>
      ) : null}
    </label>
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
