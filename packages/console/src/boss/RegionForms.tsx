import { CreateCellSchema, CreateRegionSchema } from '@leengine/common';
import { api, seg } from '../api.ts';
import { Field } from '../components/Field.tsx';
import { FormSubmit } from '../components/FormSubmit.tsx';
import { useForm } from '../components/useForm.ts';

type Form = ReturnType<typeof useForm>;

/** A text input bound to one field of a `useForm` form. */
function TextField(props: { form: Form; name: string; label: string; hint?: string }) {
  const { form, name } = props;
  return (
    <Field label={props.label} error={form.errors[name]} {...(props.hint ? { hint: props.hint } : {})}>
      <input
        name={name}
        value={String(form.values[name] ?? '')}
        onChange={(e) => form.set(name, e.target.value)}
      />
    </Field>
  );
}

/** Creates a region (admins): a name and a description; cells are added to it after. */
export function NewRegion(props: { onSaved: () => void }) {
  const form = useForm(CreateRegionSchema, { name: '', description: '' });
  return (
    <form
      className="inline"
      aria-label="new region"
      noValidate
      onSubmit={form.submitNew((input) => api.post('/regions', input), props.onSaved)}
    >
      <TextField form={form} name="name" label="Region name" />
      <TextField form={form} name="description" label="Description" />
      <FormSubmit label="Create region" form={form} />
    </form>
  );
}

/**
 * Adds a cell to a region (admins): its name and the kubeconfig core reaches its
 * apiserver with (pasted, or read from a file). Core first asks the apiserver which
 * cluster it is (one cluster is one cell); the kubeconfig is stored sealed and never
 * shown again.
 */
export function AddCell(props: { region: string; onSaved: () => void }) {
  const form = useForm(CreateCellSchema, { name: '', description: '', kubeconfig: '' });
  return (
    <form
      className="add-cell"
      aria-label={`add a cell to ${props.region}`}
      noValidate
      onSubmit={form.submitNew(
        (input) => api.post(`/regions/${seg(props.region)}/cells`, input),
        props.onSaved,
      )}
    >
      <TextField form={form} name="name" label="Cell name" />
      <TextField form={form} name="description" label="Description" />
      <Field label="Kubeconfig" error={form.errors.kubeconfig} hint="paste it, or choose the file below">
        <textarea
          name="kubeconfig"
          rows={4}
          spellCheck={false}
          value={String(form.values.kubeconfig ?? '')}
          onChange={(e) => form.set('kubeconfig', e.target.value)}
        />
      </Field>
      <input
        type="file"
        aria-label={`kubeconfig file for a cell of ${props.region}`}
        onChange={(e) => {
          const file = e.target.files?.[0];
          if (file) void file.text().then((text) => form.set('kubeconfig', text));
        }}
      />
      <FormSubmit label="Add cell" form={form} />
    </form>
  );
}
