import { type FixedAddresses, FixedAddressRequestSchema } from '@leengine/common';
import { api, seg } from '../api.ts';
import { useConfirm } from '../components/Confirm.tsx';
import { Field } from '../components/Field.tsx';
import { FormSubmit } from '../components/FormSubmit.tsx';
import { NumberInput } from '../components/NumberInput.tsx';
import { PagedTable } from '../components/Table.tsx';
import { useForm } from '../components/useForm.ts';
import { useApi } from '../useApi.ts';

/**
 * The application's fixed container addresses: its pool in each cell (one CIDR) and the
 * pods holding addresses of it; reserve and release with `manage-fixed-addresses`.
 */
export function FixedAddressesTab(props: { application: string; canManage: boolean }) {
  const path = `/applications/${seg(props.application)}/fixed-addresses`;
  const fixed = useApi<FixedAddresses>(path);
  const confirm = useConfirm(fixed.reload);
  if (fixed.error) return <p className="error">{fixed.error.message}</p>;
  if (!fixed.data) return <p className="muted">Loading…</p>;
  const f = fixed.data;
  return (
    <div className="fixed-addresses">
      <p className="muted">
        With fixed addresses, every pod of {props.application} in a cell takes its address from the
        application's pool there, so others can allow it by one CIDR. Size the pool for the instances of a
        cell plus those of a gray upgrade running beside them: a deploy or scale that needs more is refused.
      </p>
      {f.size === null ? (
        <p>{props.application} has no fixed addresses: its pods take any free address of their cell.</p>
      ) : (
        <p>
          <b>{f.size}</b> addresses per cell.
        </p>
      )}
      {f.pools.map((pool) => (
        <section key={pool.cell} aria-label={`fixed addresses in ${pool.cell}`} data-cell={pool.cell}>
          <h3>{pool.cell}</h3>
          <dl className="facts">
            <dt>CIDR</dt>
            <dd data-fact="cidr">
              <code>{pool.cidr}</code>
            </dd>
            <dt>Addresses</dt>
            <dd>
              {pool.size} asked for, {pool.capacity} usable, {pool.inUse.length} in use
            </dd>
            <dt>Reserved</dt>
            <dd>{new Date(pool.createdAt).toLocaleString()}</dd>
          </dl>
          <PagedTable
            items={pool.inUse}
            size={10}
            label={`addresses in use in ${pool.cell}`}
            empty="No pod holds one of these addresses yet (pods take them when they are next replaced)."
            className="fixed-in-use"
            headers={['Address', 'Pod']}
            row={(u) => (
              <tr key={u.ip}>
                <td>{u.ip}</td>
                <td>{u.pod}</td>
              </tr>
            )}
          />
        </section>
      ))}
      {props.canManage ? (
        f.size === null ? (
          <ReserveForm path={path} onReserved={fixed.reload} />
        ) : (
          <button
            type="button"
            className="danger"
            onClick={() =>
              confirm.ask({
                title: `Release the fixed addresses of ${props.application}?`,
                description: `The pools go back to their cells in every cell at once (refused while a pod holds one of their addresses); ${props.application}'s new pods then take any free address, and rules that name the pools' CIDRs stop matching them.`,
                confirmLabel: 'Release fixed addresses',
                action: () => api.delete(path),
              })
            }
          >
            Release fixed addresses
          </button>
        )
      ) : (
        <p className="muted">Read-only: reserving and releasing takes a Master or Owner.</p>
      )}
      {confirm.element}
    </div>
  );
}

function ReserveForm(props: { path: string; onReserved: () => void }) {
  const form = useForm(FixedAddressRequestSchema, { size: undefined });
  return (
    <form
      className="inline"
      aria-label="reserve fixed addresses"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void form.submit((input) => api.put(props.path, input)).then((ok) => ok && props.onReserved());
      }}
    >
      <Field
        label="Addresses per cell"
        error={form.errors.size}
        hint="1–1024, in every cell of the application"
      >
        <NumberInput form={form} name="size" inputMode="numeric" />
      </Field>
      <FormSubmit label="Reserve" form={form} />
    </form>
  );
}
