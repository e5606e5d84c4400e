import { FormError } from './Field.tsx';

/**
 * The end of a `useForm` form: its submit button (disabled while sending), what the last
 * submit did (`status`, announced as a status) and the problem that is not about one field.
 */
export function FormSubmit(props: {
  label: string;
  form: { busy: boolean; formError: string | undefined };
  status?: string | undefined;
}) {
  return (
    <>
      <button type="submit" disabled={props.form.busy}>
        {props.label}
      </button>
      {props.status ? (
        <span className="muted" role="status">
          {' '}
          {props.status}
        </span>
      ) : null}
      <FormError error={props.form.formError} />
    </>
  );
}
