import {
  CreateUserSchema,
  type OperationStats,
  type QuotaLimits,
  QuotaLimitsSchema,
  QuotaOverridesSchema,
  type SummaryStats,
  type User,
  type UserQuota,
} from '@leengine/common';
import { useState } from 'react';
import { ApiError, api, query, seg } from '../api.ts';
import { Bars } from '../components/Bars.tsx';
import { useConfirm } from '../components/Confirm.tsx';
import { Dialog } from '../components/Dialog.tsx';
import { Field, FormError } from '../components/Field.tsx';
import { FormSubmit } from '../components/FormSubmit.tsx';
import { NumberInput } from '../components/NumberInput.tsx';
import { Paged } from '../components/Paged.tsx';
import { Table } from '../components/Table.tsx';
import { useForm } from '../components/useForm.ts';
import { useApi } from '../useApi.ts';
import { Regions } from './Regions.tsx';
import { RegistryGc } from './RegistryGc.tsx';
import { SlbGroups } from './SlbGroups.tsx';

const day = (d: Date) => d.toISOString().slice(0, 10);

/** The operators' console: operation frequency, regions and cells (IPAM), SLB, registry garbage collection, users and quotas. */
export function BossPage() {
  return (
    <div className="boss">
      <h1>Boss console</h1>
      <Statistics />
      <Regions />
      <SlbGroups />
      <RegistryGc />
      <Users />
      <DefaultQuota />
    </div>
  );
}

function Statistics() {
  const to = new Date();
  const from = new Date(to.getTime() - 29 * 86_400_000);
  const stats = useApi<OperationStats>(`/statistics/operations${query({ from: day(from), to: day(to) })}`);
  const summary = useApi<SummaryStats>('/statistics/summary');
  return (
    <section aria-labelledby="stats-title">
      <h2 id="stats-title">Operation frequency (last 30 days)</h2>
      <p className="muted">
        Requests per day the platform accepted, whatever their outcome; rollbacks count as deploys.
      </p>
      {summary.data ? (
        <p className="summary">
          {Object.entries(summary.data).map(([k, v]) => (
            <span key={k} className="stat">
              <b>{v}</b> {k.replace(/([A-Z])/g, ' $1').toLowerCase()}
            </span>
          ))}
        </p>
      ) : null}
      {stats.data ? (
        <Bars
          rows={stats.data.days.map((d) => ({ ...d, label: d.day }))}
          series={[
            { key: 'deploys', title: 'deploys (incl. rollbacks)', color: '#2f6fde' },
            { key: 'builds', title: 'builds', color: '#e08a1e' },
            { key: 'imagePushes', title: 'image pushes', color: '#2e9d5b' },
            { key: 'scalings', title: 'scalings', color: '#9b59b6' },
          ]}
        />
      ) : (
        <p className="muted">{stats.error?.message ?? 'Loading…'}</p>
      )}
    </section>
  );
}

function Users() {
  const [reloadKey, setReloadKey] = useState(0);
  const [error, setError] = useState<string | undefined>();
  const [quotaOf, setQuotaOf] = useState<string | null>(null);
  const form = useForm(CreateUserSchema, { username: undefined, password: undefined, admin: false });
  const reload = () => setReloadKey((k) => k + 1);
  const confirm = useConfirm(reload);
  const update = (u: User, change: Partial<User>) => {
    setError(undefined);
    void api.patch(`/users/${seg(u.username)}`, change).then(reload, (e: Error) => setError(e.message));
  };
  return (
    <section aria-labelledby="users-title">
      <h2 id="users-title">Users and quotas</h2>
      <form
        className="inline"
        aria-label="new user"
        noValidate
        onSubmit={form.submitNew((input) => api.post('/users', input), reload)}
      >
        <Field label="Username" error={form.errors.username}>
          <input
            name="new-username"
            autoComplete="off"
            value={String(form.values.username ?? '')}
            onChange={(e) => form.set('username', e.target.value || undefined)}
          />
        </Field>
        <Field label="Password" error={form.errors.password}>
          <input
            name="new-password"
            type="password"
            autoComplete="new-password"
            value={String(form.values.password ?? '')}
            onChange={(e) => form.set('password', e.target.value || undefined)}
          />
        </Field>
        <Field label="Admin">
          <input
            type="checkbox"
            name="new-admin"
            checked={Boolean(form.values.admin)}
            onChange={(e) => form.set('admin', e.target.checked)}
          />
        </Field>
        <FormSubmit label="Add user" form={form} />
      </form>
      <FormError error={error} />
      <Paged<User>
        path="/users"
        searchable
        reloadKey={reloadKey}
        empty="No users."
        render={(users) => (
          <Table
            className="users"
            headers={['User', 'Admin', 'Disabled', 'Since', { hidden: 'Quota' }]}
            items={users}
            row={(u) => (
              <tr key={u.username} data-user={u.username}>
                <td>
                  {u.displayName || u.username} <span className="muted">@{u.username}</span>
                </td>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`admin ${u.username}`}
                    checked={u.admin}
                    onChange={(e) => {
                      const admin = e.target.checked;
                      if (admin) update(u, { admin });
                      else
                        confirm.ask({
                          title: `Take admin rights from ${u.username}?`,
                          description: `${u.username} keeps only their roles on resources.`,
                          confirmLabel: 'Remove admin',
                          action: () => api.patch(`/users/${seg(u.username)}`, { admin: false }),
                        });
                    }}
                  />
                </td>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`disabled ${u.username}`}
                    checked={u.disabled}
                    onChange={(e) => {
                      const disabled = e.target.checked;
                      if (!disabled) update(u, { disabled });
                      else
                        confirm.ask({
                          title: `Disable ${u.username}?`,
                          description: `${u.username} is signed out everywhere and can no longer sign in; their tokens stop working.`,
                          confirmLabel: 'Disable user',
                          action: () => api.patch(`/users/${seg(u.username)}`, { disabled: true }),
                        });
                    }}
                  />
                </td>
                <td>{new Date(u.createdAt).toLocaleDateString()}</td>
                <td>
                  <button
                    type="button"
                    className="link"
                    aria-label={`quota of ${u.username}`}
                    onClick={() => setQuotaOf(u.username)}
                  >
                    Quota
                  </button>
                </td>
              </tr>
            )}
          />
        )}
      />
      {quotaOf ? <UserQuotaDialog username={quotaOf} onClose={() => setQuotaOf(null)} /> : null}
      {confirm.element}
    </section>
  );
}

const QUOTA_FIELDS: [keyof QuotaLimits, string][] = [
  ['applications', 'Applications'],
  ['instances', 'Instances (total)'],
  ['cpuMillicores', 'CPU (millicores)'],
  ['memoryMib', 'Memory (MiB)'],
];

/** A user's usage against their limits; overrides set here (empty: the default applies). */
function UserQuotaDialog(props: { username: string; onClose: () => void }) {
  const quota = useApi<UserQuota>(`/users/${seg(props.username)}/quota`);
  return (
    <Dialog title={`Quota of ${props.username}`} onClose={props.onClose}>
      {quota.error ? <p className="error">{quota.error.message}</p> : null}
      {quota.data ? (
        <QuotaOverridesForm quota={quota.data} onSaved={quota.reload} onClose={props.onClose} />
      ) : (
        <p className="muted">Loading…</p>
      )}
    </Dialog>
  );
}

function QuotaOverridesForm(props: { quota: UserQuota; onSaved: () => void; onClose: () => void }) {
  const q = props.quota;
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(QUOTA_FIELDS.map(([k]) => [k, q.overrides[k] === null ? '' : String(q.overrides[k])])),
  );
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | undefined>();
  const [saved, setSaved] = useState(false);
  const submit = async () => {
    setSaved(false);
    setFormError(undefined);
    const body = Object.fromEntries(
      QUOTA_FIELDS.map(([k]) => [k, values[k]?.trim() ? Number(values[k]) : null]),
    );
    const parsed = QuotaOverridesSchema.safeParse(body);
    if (!parsed.success) {
      setErrors(Object.fromEntries(parsed.error.issues.map((i) => [String(i.path[0]), i.message])));
      return;
    }
    setErrors({});
    try {
      await api.put(`/users/${seg(q.username)}/quota`, body);
      setSaved(true);
      props.onSaved();
    } catch (error) {
      if (error instanceof ApiError && Object.keys(error.fields).length) setErrors(error.fields);
      else setFormError(error instanceof Error ? error.message : String(error));
    }
  };
  return (
    <form
      aria-label={`quota of ${q.username}`}
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <Table
        className="quota"
        headers={['Limit', 'Used', 'Applies']}
        items={QUOTA_FIELDS}
        row={([k, label]) => (
          <tr key={k}>
            <td>{label}</td>
            <td>
              <meter min={0} max={Math.max(1, q.limits[k])} value={q.usage[k]} aria-label={`${label} used`} />{' '}
              {q.usage[k]}
            </td>
            <td>{q.limits[k]}</td>
          </tr>
        )}
      />
      {QUOTA_FIELDS.map(([k, label]) => (
        <Field key={k} label={`${label} override`} error={errors[k]} hint="empty: the default">
          <input
            name={`quota-${k}`}
            inputMode="numeric"
            value={values[k] ?? ''}
            onChange={(e) => setValues((v) => ({ ...v, [k]: e.target.value }))}
          />
        </Field>
      ))}
      <FormError error={formError} />
      <div className="dialog-buttons">
        <button type="button" className="secondary" onClick={props.onClose}>
          Close
        </button>
        <button type="submit">Save overrides</button>
        {saved ? <span className="ok">Saved</span> : null}
      </div>
    </form>
  );
}

function DefaultQuota() {
  const current = useApi<QuotaLimits>('/quotas/default');
  if (!current.data) return <p className="muted">{current.error?.message ?? 'Loading…'}</p>;
  return <QuotaForm initial={current.data} />;
}

function QuotaForm(props: { initial: QuotaLimits }) {
  const form = useForm(QuotaLimitsSchema, { ...props.initial });
  const [saved, setSaved] = useState(false);
  const fields: [keyof QuotaLimits, string][] = [
    ['applications', 'Applications'],
    ['instances', 'Instances (total)'],
    ['cpuMillicores', 'CPU (millicores)'],
    ['memoryMib', 'Memory (MiB)'],
  ];
  return (
    <section aria-labelledby="default-quota-title">
      <h2 id="default-quota-title">Default quota per user</h2>
      <form
        className="inline"
        aria-label="default quota"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          setSaved(false);
          void form.submit((input) => api.put('/quotas/default', input)).then(setSaved);
        }}
      >
        {fields.map(([key, label]) => (
          <Field key={key} label={label} error={form.errors[key]}>
            <NumberInput form={form} name={key} inputMode="numeric" />
          </Field>
        ))}
        <button type="submit" disabled={form.busy}>
          Save
        </button>
        {saved ? <span className="ok">Saved</span> : null}
        <FormError error={form.formError} />
      </form>
    </section>
  );
}
