import { type AgentStatus, type SlbGroup, SlbGroupSchema } from '@leengine/common';
import { useState } from 'react';
import { api, seg } from '../api.ts';
import { useConfirm } from '../components/Confirm.tsx';
import { Field, FormError } from '../components/Field.tsx';
import { Pages } from '../components/Pages.tsx';
import { PagedTable } from '../components/Table.tsx';
import { useSubmit } from '../components/useSubmit.ts';
import { useApi } from '../useApi.ts';

/** SLB groups (nginx clusters) and, per group, its live agents: applied revision, errors. */
export function SlbGroups() {
  const groups = useApi<SlbGroup[]>('/slb/groups');
  const confirm = useConfirm(groups.reload);
  return (
    <section aria-labelledby="slb-title">
      <h2 id="slb-title">SLB groups and agents</h2>
      {groups.error ? <p className="error">{groups.error.message}</p> : null}
      <NewGroup onSaved={groups.reload} />
      <Pages
        items={groups.data ?? []}
        label="SLB groups"
        size={10}
        empty={groups.loading ? 'Loading…' : 'No SLB group yet.'}
        render={(items) =>
          items.map((g) => (
            <div key={g.name} className="slb-group" data-group={g.name}>
              <h3>
                {g.name} <span className="muted">{g.description}</span>{' '}
                <button
                  type="button"
                  className="link danger-link"
                  aria-label={`delete SLB group ${g.name}`}
                  onClick={() =>
                    confirm.ask({
                      title: `Delete SLB group ${g.name}?`,
                      description: 'Only a group without domains can be deleted; its agents stop serving.',
                      confirmLabel: 'Delete group',
                      action: () => api.delete(`/slb/groups/${seg(g.name)}`),
                    })
                  }
                >
                  Delete
                </button>
              </h3>
              <p className="muted">
                Hosts: {g.hosts.join(', ') || 'none'} · VIP {g.vip ?? '—'} · CNAME {g.cname ?? '—'}
              </p>
              <Agents group={g.name} />
            </div>
          ))
        }
      />
      {confirm.element}
    </section>
  );
}

function Agents(props: { group: string }) {
  const agents = useApi<AgentStatus[]>(`/slb/groups/${seg(props.group)}/agents`);
  if (agents.error) return <p className="error">{agents.error.message}</p>;
  return (
    <PagedTable
      items={agents.data ?? []}
      label={`agents of ${props.group}`}
      empty={agents.loading ? 'Loading…' : 'No live agent.'}
      className="agents"
      headers={['Agent host', 'Applied revision', 'Applied at', 'Reloads', 'Errors']}
      row={(a) => (
        <tr key={a.host} className={a.error || Object.keys(a.domainErrors).length ? 'failed' : ''}>
          <td>{a.host}</td>
          <td>{a.revision}</td>
          <td>{new Date(a.appliedAt).toLocaleString()}</td>
          <td>{a.reloads}</td>
          <td>
            {a.error ?? ''}
            {Object.entries(a.domainErrors).map(([d, e]) => (
              <div key={d}>
                {d}: {e}
              </div>
            ))}
            {!a.error && Object.keys(a.domainErrors).length === 0 ? 'none' : null}
          </td>
        </tr>
      )}
    />
  );
}

function NewGroup(props: { onSaved: () => void }) {
  const [values, setValues] = useState<Record<string, string>>({
    name: '',
    description: '',
    hosts: '',
    vip: '',
    cname: '',
  });
  const { errors, formError, busy, send } = useSubmit();
  const set = (k: string, v: string) => setValues((old) => ({ ...old, [k]: v }));
  const submit = async () => {
    const input = {
      name: values.name ?? '',
      description: values.description ?? '',
      hosts: (values.hosts ?? '')
        .split(/[\s,]+/)
        .map((h) => h.trim())
        .filter(Boolean),
      ...(values.vip ? { vip: values.vip } : {}),
      ...(values.cname ? { cname: values.cname } : {}),
    };
    await send(SlbGroupSchema, input, async () => {
      const { name, ...body } = input;
      await api.put(`/slb/groups/${seg(name)}`, body);
      setValues({ name: '', description: '', hosts: '', vip: '', cname: '' });
      props.onSaved();
    });
  };
  return (
    <form
      className="inline"
      aria-label="new SLB group"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <Field label="Group name" error={errors.name}>
        <input name="slb-name" value={values.name} onChange={(e) => set('name', e.target.value)} />
      </Field>
      <Field label="Hosts" error={errors.hosts} hint="nginx host names, comma-separated">
        <input name="slb-hosts" value={values.hosts} onChange={(e) => set('hosts', e.target.value)} />
      </Field>
      <Field label="VIP" error={errors.vip}>
        <input name="slb-vip" value={values.vip} onChange={(e) => set('vip', e.target.value)} />
      </Field>
      <Field label="CNAME" error={errors.cname}>
        <input name="slb-cname" value={values.cname} onChange={(e) => set('cname', e.target.value)} />
      </Field>
      <Field label="Description" error={errors.description}>
        <input
          name="slb-description"
          value={values.description}
          onChange={(e) => set('description', e.target.value)}
        />
      </Field>
      <button type="submit" disabled={busy}>
        Save SLB group
      </button>
      <FormError error={formError} />
    </form>
  );
}
