import { CreateCellSchema, CreateRegionSchema } from '@leengine/common';
import { useState } from 'react';
import { api, seg } from '../api.ts';
import { Field, FormError } from '../components/Field.tsx';
import { useSubmit } from '../components/useSubmit.ts';

/** Creates a region (admins): a name and a description; cells are added to it after. */
export function NewRegion(props: { onSaved: () => void }) {
  const empty = { name: '', description: '' };
  const [values, setValues] = useState(empty);
  const { errors, formError, busy, send } = useSubmit();
  const submit = () =>
    send(CreateRegionSchema, values, async (input) => {
      await api.post('/regions', input);
      setValues(empty);
      props.onSaved();
    });
  return (
    <form
      className="inline"
      aria-label="new region"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <Field label="Region name" error={errors.name}>
        <input
          name="region-name"
          value={values.name}
          onChange={(e) => setValues({ ...values, name: e.target.value })}
        />
      </Field>
      <Field label="Description" error={errors.description}>
        <input
          name="region-description"
          value={values.description}
          onChange={(e) => setValues({ ...values, description: e.target.value })}
        />
      </Field>
      <button type="submit" disabled={busy}>
        Create region
      </button>
      <FormError error={formError} />
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
  const empty = { name: '', description: '', kubeconfig: '' };
  const [values, setValues] = useState(empty);
  const { errors, formError, busy, send } = useSubmit();
  const submit = () =>
    send(CreateCellSchema, values, async (input) => {
      await api.post(`/regions/${seg(props.region)}/cells`, input);
      setValues(empty);
      props.onSaved();
    });
  return (
    <form
      className="add-cell"
      aria-label={`add a cell to ${props.region}`}
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <Field label="Cell name" error={errors.name}>
        <input
          name="cell-name"
          value={values.name}
          onChange={(e) => setValues({ ...values, name: e.target.value })}
        />
      </Field>
      <Field label="Description" error={errors.description}>
        <input
          name="cell-description"
          value={values.description}
          onChange={(e) => setValues({ ...values, description: e.target.value })}
        />
      </Field>
      <Field label="Kubeconfig" error={errors.kubeconfig} hint="paste it, or choose the file below">
        <textarea
          name="cell-kubeconfig"
          rows={4}
          spellCheck={false}
          value={values.kubeconfig}
          onChange={(e) => setValues({ ...values, kubeconfig: e.target.value })}
        />
      </Field>
      <input
        type="file"
        aria-label={`kubeconfig file for a cell of ${props.region}`}
        onChange={(e) => {
          const file = e.target.files?.[0];
          if (file) void file.text().then((kubeconfig) => setValues((v) => ({ ...v, kubeconfig })));
        }}
      />
      <button type="submit" disabled={busy}>
        Add cell
      </button>
      <FormError error={formError} />
    </form>
  );
}
