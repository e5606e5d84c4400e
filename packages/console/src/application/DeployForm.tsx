import { DeployVersionSchema, type NewVersion, type Operation } from '@leengine/common';
import { useState } from 'react';
import { ApiError, api, seg } from '../api.ts';
import { Field, FormError } from '../components/Field.tsx';

type Flat = Record<string, string>;

/** The form's flat fields, prefilled from the previous version (GET …/versions/new). */
function fromTemplate(t: NewVersion['template']): Flat {
  return {
    'image.repository': t.image?.repository ?? '',
    'image.tag': '',
    instances: typeof t.instances === 'number' ? String(t.instances) : JSON.stringify(t.instances),
    port: String(t.port),
    'cpu.requestMillicores': String(t.cpu.requestMillicores),
    'cpu.limitMillicores': String(t.cpu.limitMillicores),
    'memory.requestMib': String(t.memory.requestMib),
    'memory.limitMib': String(t.memory.limitMib),
    // One variable a line: NAME=value, or NAME (secret) to keep the previous secret value.
    env: t.env.map((e) => (e.secret ? `${e.name} (secret)` : `${e.name}=${e.value ?? ''}`)).join('\n'),
    'healthCheck.path': t.healthCheck?.path ?? '',
    'healthCheck.port': t.healthCheck?.port ? String(t.healthCheck.port) : '',
    terminationGracePeriodSeconds: String(t.terminationGracePeriodSeconds),
    timeoutSeconds: String(t.timeoutSeconds),
  };
}

/** The request body; what the form does not show (health check timings) is kept from the template. */
function toInput(f: Flat, t: NewVersion['template']): unknown {
  const num = (s: string | undefined) => (s === undefined || s.trim() === '' ? undefined : Number(s));
  const instances = f.instances?.trim().startsWith('{') ? safeJson(f.instances) : num(f.instances);
  const env = (f.env ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const secret = /^(.+?)\s+\(secret\)(?:=(.*))?$/.exec(line);
      if (secret)
        return secret[2] === undefined
          ? { name: secret[1], secret: true }
          : { name: secret[1], value: secret[2], secret: true };
      const at = line.indexOf('=');
      return at < 0 ? { name: line } : { name: line.slice(0, at), value: line.slice(at + 1) };
    });
  return {
    image: { repository: f['image.repository'], tag: f['image.tag'] },
    instances,
    port: num(f.port),
    cpu: {
      requestMillicores: num(f['cpu.requestMillicores']),
      limitMillicores: num(f['cpu.limitMillicores']),
    },
    memory: { requestMib: num(f['memory.requestMib']), limitMib: num(f['memory.limitMib']) },
    env,
    ...(f['healthCheck.path']
      ? {
          healthCheck: {
            ...(t.healthCheck ?? {}),
            path: f['healthCheck.path'],
            port: num(f['healthCheck.port']),
          },
        }
      : {}),
    terminationGracePeriodSeconds: num(f.terminationGracePeriodSeconds),
    timeoutSeconds: num(f.timeoutSeconds),
  };
}

function safeJson(s: string | undefined): unknown {
  try {
    return JSON.parse(s ?? '');
  } catch {
    return s;
  }
}

const FIELDS: [string, string, string?][] = [
  ['image.repository', 'Image repository', 'group/name'],
  ['image.tag', 'Image tag', 'pick the new tag: everything else is the previous version’s'],
  ['instances', 'Instances per cell', 'a number for every cell, or {"cell": n}'],
  ['port', 'Container port'],
  ['cpu.requestMillicores', 'CPU request (m)'],
  ['cpu.limitMillicores', 'CPU limit (m)'],
  ['memory.requestMib', 'Memory request (MiB)'],
  ['memory.limitMib', 'Memory limit (MiB)'],
  ['healthCheck.path', 'Health check path', 'HTTP GET; empty for none'],
  ['healthCheck.port', 'Health check port', 'default: the container port'],
  ['terminationGracePeriodSeconds', 'Stop grace period (s)', 'between SIGTERM and SIGKILL'],
  ['timeoutSeconds', 'Upgrade timeout (s)', 'rolled back if not Ready and routable by then'],
];

/** Deploy a new version: the seed's most used flow (prefilled, pick a new tag, go). */
export function DeployForm(props: {
  application: string;
  template: NewVersion;
  onStarted: (op: Operation) => void;
  onCancel: () => void;
}) {
  const [values, setValues] = useState<Flat>(() => fromTemplate(props.template.template));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    setFormError(undefined);
    const parsed = DeployVersionSchema.safeParse(toInput(values, props.template.template));
    if (!parsed.success) {
      setErrors(Object.fromEntries(parsed.error.issues.map((i) => [fieldOf(i.path.map(String)), i.message])));
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      props.onStarted(
        await api.post<Operation>(`/applications/${seg(props.application)}/versions`, parsed.data),
      );
    } catch (error) {
      if (error instanceof ApiError) {
        const fields = Object.fromEntries(
          Object.entries(error.fields).map(([k, v]) => [fieldOf(k.split('.')), v]),
        );
        setErrors(fields);
        if (Object.keys(fields).length === 0) setFormError(error.message);
      } else setFormError(String(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      className="create deploy"
      aria-label="deploy a version"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <p className="muted">
        {props.template.previous ? `Prefilled from ${props.template.previous}.` : 'The first version.'} Cells:{' '}
        {props.template.cells.join(', ')}
      </p>
      {FIELDS.map(([name, label, hint]) => (
        <Field key={name} label={label} error={errors[name]} {...(hint ? { hint } : {})}>
          <input
            name={name}
            value={values[name] ?? ''}
            onChange={(e) => setValues((v) => ({ ...v, [name]: e.target.value }))}
          />
        </Field>
      ))}
      <Field
        label="Environment"
        error={errors.env}
        hint="NAME=value per line; NAME (secret)=value for a secret"
      >
        <textarea
          name="env"
          rows={4}
          value={values.env ?? ''}
          onChange={(e) => setValues((v) => ({ ...v, env: e.target.value }))}
        />
      </Field>
      <FormError error={formError} />
      <button type="submit" disabled={busy}>
        {busy ? 'Starting…' : 'Deploy (gray upgrade)'}
      </button>{' '}
      <button type="button" className="secondary" onClick={props.onCancel}>
        Cancel
      </button>
    </form>
  );
}

/** A problem path (`cpu.limitMillicores`, `env.2.name`, `instances.local-1`) to the field showing it. */
function fieldOf(path: string[]): string {
  const [head, second] = path;
  if (head === 'env' || head === 'instances') return head;
  if (head === 'healthCheck' && second && second !== 'path' && second !== 'port') return 'healthCheck.path';
  return second ? `${head}.${second}` : (head ?? '');
}
