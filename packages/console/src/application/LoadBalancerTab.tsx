import {
  type BindDomainInput,
  BindDomainSchema,
  type DomainConfig,
  type DomainView,
  type SlbGroup,
  UpdateDomainSchema,
} from '@leengine/common';
import { useEffect, useState } from 'react';
import { api, seg } from '../api.ts';
import { useConfirm } from '../components/Confirm.tsx';
import { Field, FormError } from '../components/Field.tsx';
import { Pages } from '../components/Pages.tsx';
import { useSubmit } from '../components/useSubmit.ts';
import { useApi } from '../useApi.ts';

/**
 * The application's domains on the SLB: each domain's settings, its backends, which
 * agents serve it, and the nginx server block the agents render (always read-only).
 * Masters and Owners (`manage-domains`) bind, change and unbind domains; only admins
 * change the "special" settings; everyone else reads.
 */
export function LoadBalancerTab(props: { application: string; canManage: boolean; admin: boolean }) {
  const base = `/applications/${seg(props.application)}/domains`;
  const domains = useApi<DomainConfig[]>(base);
  const groups = useApi<SlbGroup[]>('/slb/groups');
  const [open, setOpen] = useState<string | null>(null);
  const confirm = useConfirm(domains.reload);
  if (domains.error) {
    return <p className="error">{domains.error.message}</p>;
  }
  return (
    <div className="load-balancer">
      {props.canManage ? <BindDomain base={base} onBound={domains.reload} /> : null}
      <Pages
        items={domains.data ?? []}
        label="domains"
        size={10}
        empty={domains.loading ? 'Loading…' : 'No domain is bound to this application.'}
        render={(items) => (
          <ul className="items">
            {items.map((d) => (
              <li key={d.domain} data-domain={d.domain}>
                <button
                  type="button"
                  className="link"
                  aria-expanded={open === d.domain}
                  onClick={() => setOpen(open === d.domain ? null : d.domain)}
                >
                  {d.domain}
                </button>
                <span className="muted">
                  {' '}
                  on SLB group {d.group}
                  {pointAt(groups.data?.find((g) => g.name === d.group))}
                </span>
                {props.canManage ? (
                  <button
                    type="button"
                    className="link danger-link"
                    aria-label={`unbind ${d.domain}`}
                    onClick={() =>
                      confirm.ask({
                        title: `Unbind ${d.domain}?`,
                        description: `The SLB group ${d.group} stops routing ${d.domain} to ${props.application}.`,
                        confirmLabel: 'Unbind domain',
                        action: () => api.delete(`${base}/${seg(d.domain)}`),
                      })
                    }
                  >
                    Unbind
                  </button>
                ) : null}
              </li>
            ))}
          </ul>
        )}
      />
      {open ? (
        <DomainDetail
          key={open}
          path={`${base}/${seg(open)}`}
          canManage={props.canManage}
          admin={props.admin}
        />
      ) : null}
      {confirm.element}
    </div>
  );
}

/** How to point a name at a group: its CNAME and VIP, when it has them. */
export function pointAt(group: SlbGroup | undefined): string {
  if (!group) return '';
  const parts = [group.cname ? `CNAME ${group.cname}` : '', group.vip ? `VIP ${group.vip}` : ''].filter(
    Boolean,
  );
  return parts.length ? ` (${parts.join(', ')})` : '';
}

/** The application's domains in one line each, for its overview. */
export function DomainsSummary(props: { application: string }) {
  const domains = useApi<DomainConfig[]>(`/applications/${seg(props.application)}/domains`);
  const groups = useApi<SlbGroup[]>('/slb/groups');
  if (domains.error) return <span className="muted">{domains.error.message}</span>;
  if (!domains.data?.length) return <span>—</span>;
  return (
    <ul className="plain">
      {domains.data.map((d) => (
        <li key={d.domain}>
          {d.domain}
          <span className="muted">
            {' '}
            on {d.group}
            {pointAt(groups.data?.find((g) => g.name === d.group))}
          </span>
        </li>
      ))}
    </ul>
  );
}

function BindDomain(props: { base: string; onBound: () => void }) {
  const groups = useApi<SlbGroup[]>('/slb/groups');
  const [domain, setDomain] = useState('');
  const [group, setGroup] = useState('');
  const { errors, formError, busy, send } = useSubmit();
  const chosen = group || groups.data?.[0]?.name || '';
  const submit = async () => {
    const input: BindDomainInput = { domain, group: chosen };
    await send(BindDomainSchema, input, async () => {
      await api.post(props.base, input);
      setDomain('');
      props.onBound();
    });
  };
  return (
    <form
      className="inline"
      aria-label="bind a domain"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <Field label="Domain" error={errors.domain} hint="e.g. shop.example.com">
        <input name="domain" value={domain} onChange={(e) => setDomain(e.target.value)} />
      </Field>
      <Field label="SLB group" error={errors.group ?? groups.error?.message}>
        <select name="group" value={chosen} onChange={(e) => setGroup(e.target.value)}>
          {(groups.data ?? []).map((g) => (
            <option key={g.name} value={g.name}>
              {g.name}
              {g.vip ? ` (VIP ${g.vip})` : ''}
              {g.cname ? ` (CNAME ${g.cname})` : ''}
            </option>
          ))}
        </select>
      </Field>
      <button type="submit" disabled={busy}>
        Bind domain
      </button>
      <FormError error={formError} />
    </form>
  );
}

function DomainDetail(props: { path: string; canManage: boolean; admin: boolean }) {
  const view = useApi<DomainView>(props.path);
  const [nginx, setNginx] = useState<string | undefined>();
  const [nginxError, setNginxError] = useState<string | undefined>();
  const pending = !view.data || view.data.agents.some((a) => !a.applied);
  const reload = view.reload;
  // Until every agent of the group serves the current config, ask again every few seconds.
  useEffect(() => {
    if (!pending) return;
    const timer = setInterval(reload, 3000);
    return () => clearInterval(timer);
  }, [pending, reload]);
  if (view.error) return <p className="error">{view.error.message}</p>;
  if (!view.data) return <p className="muted">Loading…</p>;
  const d = view.data;
  const showNginx = () =>
    void fetch(`/api/v1${props.path}/nginx`, { credentials: 'same-origin' }).then(async (r) => {
      const text = await r.text();
      if (r.ok) {
        setNginx(text);
        setNginxError(undefined);
      } else setNginxError(text);
    });
  return (
    <section className="domain-detail" aria-label={`domain ${d.domain}`}>
      <h2>{d.domain}</h2>
      <dl className="facts">
        <dt>SLB group</dt>
        <dd>{d.group}</dd>
        <dt>Locations</dt>
        <dd>{d.locations.map((l) => `${l.match} ${l.path}`).join(', ')}</dd>
        <dt>Proxy</dt>
        <dd>
          connect {d.proxy.connectTimeoutSeconds} s, read {d.proxy.readTimeoutSeconds} s, send{' '}
          {d.proxy.sendTimeoutSeconds} s, body ≤ {d.proxy.clientMaxBodySizeMb} MB
          {d.proxy.websocket ? ', websocket' : ''}
          {d.proxy.buffering ? ', buffering' : ', no buffering'}
        </dd>
        <dt>TLS</dt>
        <dd>{d.tls ? `certificate ${d.tls.certificate}` : 'none'}</dd>
        <dt>Canary</dt>
        <dd>{d.canary ? `${d.canary.version}: ${d.canary.weight}%` : 'none'}</dd>
        <dt>Special (admins)</dt>
        <dd>
          <code>{JSON.stringify(d.special)}</code>
        </dd>
        <dt>Backends</dt>
        <dd>
          {d.upstreams.length
            ? d.upstreams.map((u) => `${u.ip}:${u.port} (${u.cell} ${u.version})`).join(', ')
            : 'none yet'}
        </dd>
        <dt>Agents</dt>
        <dd>
          {d.agents.length
            ? d.agents.map((a) => (
                <span key={a.host} className={a.error ? 'error' : ''}>
                  {a.host}: {a.applied ? 'serving' : 'not yet applied'}
                  {a.error ? ` — ${a.error}` : ''}{' '}
                </span>
              ))
            : 'no live agent'}
        </dd>
      </dl>
      {props.canManage ? (
        <DomainSettingsForm
          // A new form (from the stored values) whenever the stored settings change.
          key={JSON.stringify([d.locations, d.proxy, d.special])}
          path={props.path}
          config={d}
          admin={props.admin}
          onSaved={() => {
            view.reload();
            setNginx(undefined);
          }}
        />
      ) : (
        <p className="muted">Read-only: Masters and Owners of the application change domains.</p>
      )}
      <button type="button" className="secondary" onClick={showNginx}>
        Show the rendered nginx config
      </button>
      {nginxError ? <p className="error">{nginxError}</p> : null}
      {nginx !== undefined ? (
        <pre className="copy nginx" data-testid="nginx-config">
          {nginx}
        </pre>
      ) : null}
    </section>
  );
}

const PROXY_FIELDS: [keyof DomainConfig['proxy'], string][] = [
  ['connectTimeoutSeconds', 'Connect timeout (s)'],
  ['readTimeoutSeconds', 'Read timeout (s)'],
  ['sendTimeoutSeconds', 'Send timeout (s)'],
  ['clientMaxBodySizeMb', 'Max body size (MB)'],
];

/** The settings a Master may change; `special` only for admins (sent unchanged otherwise). */
function DomainSettingsForm(props: {
  path: string;
  config: DomainConfig;
  admin: boolean;
  onSaved: () => void;
}) {
  const c = props.config;
  const [proxy, setProxy] = useState<Record<string, string | boolean>>(() => ({
    ...Object.fromEntries(PROXY_FIELDS.map(([k]) => [k, String(c.proxy[k])])),
    websocket: c.proxy.websocket,
    buffering: c.proxy.buffering,
  }));
  const [locations, setLocations] = useState(c.locations.map((l) => `${l.match} ${l.path}`).join('\n'));
  const [special, setSpecial] = useState(JSON.stringify(c.special, null, 2));
  const [saved, setSaved] = useState(false);
  const fieldOf = (path: string[]) => (path[0] === 'proxy' ? `proxy.${path[1] ?? ''}` : (path[0] ?? ''));
  const { errors, setErrors, formError, setFormError, busy, send } = useSubmit({
    issueField: fieldOf,
    apiField: (path) => fieldOf(path.split('.')),
  });
  const submit = async () => {
    setFormError(undefined);
    setSaved(false);
    let specialValue: unknown = c.special;
    if (props.admin) {
      try {
        specialValue = JSON.parse(special || '{}');
      } catch {
        setErrors({ special: 'must be JSON' });
        return;
      }
    }
    const body = {
      locations: locations
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
        .map((l) => {
          const [match, path] = l.includes(' ') ? l.split(/\s+/, 2) : ['prefix', l];
          return { match, path };
        }),
      proxy: {
        ...Object.fromEntries(PROXY_FIELDS.map(([k]) => [k, Number(proxy[k])])),
        websocket: Boolean(proxy.websocket),
        buffering: Boolean(proxy.buffering),
      },
      headers: c.headers,
      ...(c.tls ? { tls: c.tls } : {}),
      ...(c.canary ? { canary: c.canary } : {}),
      ...(props.admin ? { special: specialValue } : {}),
    };
    await send(UpdateDomainSchema, body, async () => {
      await api.put(props.path, body);
      setSaved(true);
      props.onSaved();
    });
  };
  return (
    <form
      className="create"
      aria-label="domain settings"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <Field label="Locations" error={errors.locations} hint='one a line: "prefix /path" or "exact /path"'>
        <textarea
          name="locations"
          rows={3}
          value={locations}
          onChange={(e) => setLocations(e.target.value)}
        />
      </Field>
      <div className="inline-fields">
        {PROXY_FIELDS.map(([k, label]) => (
          <Field key={k} label={label} error={errors[`proxy.${k}`]}>
            <input
              name={`proxy.${k}`}
              inputMode="numeric"
              value={String(proxy[k] ?? '')}
              onChange={(e) => setProxy((p) => ({ ...p, [k]: e.target.value }))}
            />
          </Field>
        ))}
        <Field label="WebSocket" error={errors['proxy.websocket']}>
          <input
            type="checkbox"
            name="proxy.websocket"
            checked={Boolean(proxy.websocket)}
            onChange={(e) => setProxy((p) => ({ ...p, websocket: e.target.checked }))}
          />
        </Field>
        <Field label="Buffering" error={errors['proxy.buffering']}>
          <input
            type="checkbox"
            name="proxy.buffering"
            checked={Boolean(proxy.buffering)}
            onChange={(e) => setProxy((p) => ({ ...p, buffering: e.target.checked }))}
          />
        </Field>
      </div>
      {props.admin ? (
        <Field label="Special settings (admins, JSON)" error={errors.special}>
          <textarea name="special" rows={4} value={special} onChange={(e) => setSpecial(e.target.value)} />
        </Field>
      ) : null}
      <FormError error={formError} />
      <button type="submit" disabled={busy}>
        Save domain settings
      </button>
      {saved ? <span className="ok">Saved</span> : null}
    </form>
  );
}
