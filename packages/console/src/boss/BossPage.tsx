import {
  CreateUserSchema,
  type OperationStats,
  type QuotaLimits,
  QuotaLimitsSchema,
  type SummaryStats,
  type User,
} from '@leengine/common';
import { useState } from 'react';
import { api, query, seg } from '../api.ts';
import { Bars } from '../components/Bars.tsx';
import { Field, FormError } from '../components/Field.tsx';
import { Paged } from '../components/Paged.tsx';
import { useForm } from '../components/useForm.ts';
import { useApi } from '../useApi.ts';
import { Regions } from './Regions.tsx';

const day = (d: Date) => d.toISOString().slice(0, 10);

/** The operators' console: operation frequency, users and quotas. */
export function BossPage() {
  return (
    <div className="boss">
      <h1>Boss console</h1>
      <Statistics />
      <Regions />
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
    <section>
      <h2>Operation frequency (last 30 days)</h2>
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
            { key: 'deploys', title: 'deploys', color: '#2f6fde' },
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
  const form = useForm(CreateUserSchema, { username: undefined, password: undefined, admin: false });
  const update = (u: User, change: Partial<User>) =>
    void api.patch(`/users/${seg(u.username)}`, change).then(
      () => setReloadKey((k) => k + 1),
      (e: Error) => alert(e.message),
    );
  return (
    <section>
      <h2>Users</h2>
      <form
        className="inline"
        aria-label="new user"
        onSubmit={(e) => {
          e.preventDefault();
          void form
            .submit((input) => api.post('/users', input))
            .then((ok) => {
              if (ok) {
                form.reset();
                setReloadKey((k) => k + 1);
              }
            });
        }}
      >
        <Field label="Username" error={form.errors.username}>
          <input
            name="new-username"
            value={String(form.values.username ?? '')}
            onChange={(e) => form.set('username', e.target.value || undefined)}
          />
        </Field>
        <Field label="Password" error={form.errors.password}>
          <input
            name="new-password"
            type="password"
            value={String(form.values.password ?? '')}
            onChange={(e) => form.set('password', e.target.value || undefined)}
          />
        </Field>
        <Field label="Admin">
          <input
            type="checkbox"
            checked={Boolean(form.values.admin)}
            onChange={(e) => form.set('admin', e.target.checked)}
          />
        </Field>
        <button type="submit" disabled={form.busy}>
          Add user
        </button>
        <FormError error={form.formError} />
      </form>
      <Paged<User>
        path="/users"
        searchable
        reloadKey={reloadKey}
        empty="No users."
        render={(users) => (
          <table>
            <thead>
              <tr>
                <th>User</th>
                <th>Admin</th>
                <th>Disabled</th>
                <th>Since</th>
              </tr>
            </thead>
            <tbody>
              {users.map((u) => (
                <tr key={u.username}>
                  <td>
                    {u.displayName || u.username} <span className="muted">@{u.username}</span>
                  </td>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`admin ${u.username}`}
                      checked={u.admin}
                      onChange={(e) => update(u, { admin: e.target.checked })}
                    />
                  </td>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`disabled ${u.username}`}
                      checked={u.disabled}
                      onChange={(e) => update(u, { disabled: e.target.checked })}
                    />
                  </td>
                  <td>{new Date(u.createdAt).toLocaleDateString()}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      />
    </section>
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
    <section>
      <h2>Default quota per user</h2>
      <form
        className="inline"
        aria-label="default quota"
        onSubmit={(e) => {
          e.preventDefault();
          setSaved(false);
          void form.submit((input) => api.put('/quotas/default', input)).then(setSaved);
        }}
      >
        {fields.map(([key, label]) => (
          <Field key={key} label={label} error={form.errors[key]}>
            <input
              name={key}
              inputMode="numeric"
              value={String(form.values[key] ?? '')}
              onChange={(e) => form.set(key, e.target.value === '' ? undefined : Number(e.target.value))}
            />
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
