import {
  type BuildProject,
  type BuildSettings,
  UpdateBuildProjectSchema,
  UpdateBuildSettingsSchema,
} from '@leengine/common';
import { useState } from 'react';
import { api, seg } from '../api.ts';
import { useConfirm } from '../components/Confirm.tsx';
import { Field } from '../components/Field.tsx';
import { FormSubmit } from '../components/FormSubmit.tsx';
import { SecretDialog } from '../components/SecretDialog.tsx';
import { useForm } from '../components/useForm.ts';
import { useApi } from '../useApi.ts';

/** Lines of a textarea, trimmed, without the empty ones (argv elements, branch filters). */
function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/**
 * The form's strings and switches as the API's body, checked with the API's own schema;
 * issues keep the API's paths (`compile.image`, `branchFilters.1`), so the API's field
 * errors land on the same fields.
 */
function settingsInput(v: Record<string, unknown>): unknown {
  const str = (k: string) => String(v[k] ?? '').trim();
  return {
    contextPath: str('contextPath'),
    compile: v.compileOn
      ? {
          image: str('compileImage'),
          command: lines(str('compileCommand')),
          cachePath: str('compileCachePath'),
        }
      : null,
    tagRule: v.tagRule,
    branchFilters: lines(str('branchFilters')),
    buildTags: Boolean(v.buildTags),
    timeoutSeconds: str('timeoutSeconds') === '' ? Number.NaN : Number(str('timeoutSeconds')),
    dockerfileSha256: str('dockerfileSha256') || null,
  };
}

/** The error on `path` or on an element under it (`branchFilters.2`). */
function errorAt(errors: Record<string, string>, path: string): string | undefined {
  const key = Object.keys(errors).find((k) => k === path || k.startsWith(`${path}.`));
  return key === undefined ? undefined : errors[key];
}

/**
 * A build project's settings: the project (git URL, default branch, Dockerfile, target
 * repository) and its platform-pinned build settings (context, compile step, tag rule,
 * branch filters, timeout, pinned Dockerfile), editable with `update`, read-only
 * otherwise; the GitLab webhook URL and its secret (set or rotated, shown once).
 */
export function BuildSettingsTab(props: { project: BuildProject; canEdit: boolean; onSaved: () => void }) {
  const p = props.project;
  const settings = useApi<BuildSettings>(`/build-projects/${seg(p.name)}/settings`);
  if (!props.canEdit) return <ReadOnlySettings project={p} settings={settings.data} />;
  return (
    <div className="build-settings">
      <ProjectForm project={p} onSaved={props.onSaved} />
      {settings.error ? <p className="error">{settings.error.message}</p> : null}
      {settings.data ? (
        <>
          <SettingsForm project={p.name} settings={settings.data} onSaved={settings.reload} />
          <Webhook
            project={p.name}
            configured={settings.data.webhookConfigured}
            onChanged={settings.reload}
          />
        </>
      ) : null}
    </div>
  );
}

function ProjectForm(props: { project: BuildProject; onSaved: () => void }) {
  const p = props.project;
  const initial = {
    description: p.description,
    gitUrl: p.gitUrl,
    branch: p.branch,
    dockerfilePath: p.dockerfilePath,
    imageRepository: p.imageRepository,
  };
  const form = useForm(UpdateBuildProjectSchema, initial);
  const [saved, setSaved] = useState(false);
  const text = (name: keyof typeof initial) => ({
    name,
    value: String(form.values[name] ?? ''),
    onChange: (e: { target: { value: string } }) => {
      setSaved(false);
      form.set(name, e.target.value);
    },
  });
  return (
    <form
      aria-label="project settings"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void form
          .submit((input) => {
            // Only what changed: an unchanged target repository is not re-checked for push.
            const changed = Object.fromEntries(
              Object.entries(input).filter(([k, v]) => v !== initial[k as keyof typeof initial]),
            );
            return api.patch(`/build-projects/${seg(p.name)}`, changed);
          })
          .then((ok) => {
            setSaved(ok);
            if (ok) props.onSaved();
          });
      }}
    >
      <h2>Project</h2>
      <Field label="Git URL" error={form.errors.gitUrl}>
        <input {...text('gitUrl')} />
      </Field>
      <Field label="Default branch" error={form.errors.branch}>
        <input {...text('branch')} />
      </Field>
      <Field
        label="Dockerfile path"
        error={form.errors.dockerfilePath}
        hint="relative to the repository's root"
      >
        <input {...text('dockerfilePath')} />
      </Field>
      <Field
        label="Image repository"
        error={form.errors.imageRepository}
        hint="group/name; you need push on it"
      >
        <input {...text('imageRepository')} />
      </Field>
      <Field label="Description" error={form.errors.description}>
        <input {...text('description')} />
      </Field>
      <FormSubmit label="Save project" form={form} status={saved ? 'Saved.' : undefined} />
    </form>
  );
}

function SettingsForm(props: { project: string; settings: BuildSettings; onSaved: () => void }) {
  const s = props.settings;
  const form = useForm(
    UpdateBuildSettingsSchema,
    {
      contextPath: s.contextPath,
      compileOn: s.compile !== null,
      compileImage: s.compile?.image ?? '',
      compileCommand: s.compile?.command.join('\n') ?? '',
      compileCachePath: s.compile?.cachePath ?? '',
      tagRule: s.tagRule,
      branchFilters: s.branchFilters.join('\n'),
      buildTags: s.buildTags,
      timeoutSeconds: String(s.timeoutSeconds),
      dockerfileSha256: s.dockerfileSha256 ?? '',
    },
    settingsInput,
  );
  const [saved, setSaved] = useState(false);
  const value = (name: string) => String(form.values[name] ?? '');
  const change = (name: string) => (e: { target: { value: string } }) => {
    setSaved(false);
    form.set(name, e.target.value);
  };
  const check = (name: string) => ({
    type: 'checkbox',
    name,
    checked: Boolean(form.values[name]),
    onChange: (e: { target: { checked: boolean } }) => {
      setSaved(false);
      form.set(name, e.target.checked);
    },
  });
  const compileOn = Boolean(form.values.compileOn);
  return (
    <form
      aria-label="build settings"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void form
          .submit((input) => api.patch(`/build-projects/${seg(props.project)}/settings`, input))
          .then((ok) => {
            setSaved(ok);
            if (ok) props.onSaved();
          });
      }}
    >
      <h2>Build</h2>
      <Field
        label="Context path"
        error={errorAt(form.errors, 'contextPath')}
        hint="the image build's context; . is the root"
      >
        <input name="contextPath" value={value('contextPath')} onChange={change('contextPath')} />
      </Field>
      <Field label="Compile before the image build" error={errorAt(form.errors, 'compile')}>
        <input {...check('compileOn')} />
      </Field>
      {compileOn ? (
        <fieldset className="compile">
          <legend>Compile step</legend>
          <Field
            label="Builder image"
            error={errorAt(form.errors, 'compile.image')}
            hint="in the region registry, host/group/name:tag"
          >
            <input name="compileImage" value={value('compileImage')} onChange={change('compileImage')} />
          </Field>
          <Field
            label="Command"
            error={errorAt(form.errors, 'compile.command')}
            hint="one argument per line; run in /workspace without a shell"
          >
            <textarea
              name="compileCommand"
              rows={4}
              value={value('compileCommand')}
              onChange={change('compileCommand')}
            />
          </Field>
          <Field
            label="Cache path"
            error={errorAt(form.errors, 'compile.cachePath')}
            hint="absolute, e.g. /root/.m2"
          >
            <input
              name="compileCachePath"
              value={value('compileCachePath')}
              onChange={change('compileCachePath')}
            />
          </Field>
        </fieldset>
      ) : null}
      <Field
        label="Tag rule"
        error={errorAt(form.errors, 'tagRule')}
        hint="the image tag a build gets when none is given"
      >
        <select name="tagRule" value={value('tagRule')} onChange={change('tagRule')}>
          <option value="commit">commit (the short commit id)</option>
          <option value="git-tag">git-tag (the git tag's name)</option>
        </select>
      </Field>
      <Field
        label="Branch filters"
        error={errorAt(form.errors, 'branchFilters')}
        hint="branches the push webhook builds, one a line: exact names or prefix/*; none = the default branch"
      >
        <textarea
          name="branchFilters"
          rows={3}
          value={value('branchFilters')}
          onChange={change('branchFilters')}
        />
      </Field>
      <Field label="Build tag pushes" error={errorAt(form.errors, 'buildTags')}>
        <input {...check('buildTags')} />
      </Field>
      <Field label="Timeout (seconds)" error={errorAt(form.errors, 'timeoutSeconds')} hint="30 to 86400">
        <input
          name="timeoutSeconds"
          inputMode="numeric"
          value={value('timeoutSeconds')}
          onChange={change('timeoutSeconds')}
        />
      </Field>
      <Field
        label="Pinned Dockerfile sha256"
        error={errorAt(form.errors, 'dockerfileSha256')}
        hint="empty: any Dockerfile; set: a build whose Dockerfile differs fails"
      >
        <input
          name="dockerfileSha256"
          value={value('dockerfileSha256')}
          onChange={change('dockerfileSha256')}
        />
      </Field>
      <FormSubmit label="Save build settings" form={form} status={saved ? 'Saved.' : undefined} />
    </form>
  );
}

/** The URL GitLab posts to, and its secret: set once, rotated after confirming (the old one stops). */
function Webhook(props: { project: string; configured: boolean; onChanged: () => void }) {
  const url = `${location.origin}/api/v1/build-projects/${seg(props.project)}/webhooks/gitlab`;
  const [shown, setShown] = useState<{ url: string; secret: string } | null>(null);
  const [error, setError] = useState<string | undefined>();
  const confirm = useConfirm();
  const rotate = async () => {
    setError(undefined);
    const answer = await api.post<{ url: string; secret: string }>(
      `/build-projects/${seg(props.project)}/webhook-secret`,
    );
    setShown(answer);
    props.onChanged();
  };
  return (
    <section aria-label="GitLab webhook">
      <h2>GitLab webhook</h2>
      <p>
        In GitLab: <i>Settings → Webhooks</i>, this URL, the secret token below, <i>Push events</i> (and{' '}
        <i>Tag push events</i> to build tags).
      </p>
      <pre className="copy">
        <code data-webhook-url>{url}</code>
      </pre>
      <p data-webhook-state>
        {props.configured ? 'A secret is set.' : 'No secret yet: GitLab’s pushes are refused.'}
      </p>
      <button
        type="button"
        className={props.configured ? 'secondary' : ''}
        onClick={() =>
          props.configured
            ? confirm.ask({
                title: 'Rotate the webhook secret?',
                description: 'The current secret stops working at once: paste the new one into GitLab.',
                confirmLabel: 'Rotate secret',
                action: rotate,
              })
            : void rotate().catch((e: Error) => setError(e.message))
        }
      >
        {props.configured ? 'Rotate webhook secret…' : 'Set webhook secret'}
      </button>
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
      {shown ? (
        <SecretDialog
          title="Webhook secret"
          label="secret token"
          secret={shown.secret}
          details={[{ label: 'URL', value: shown.url }]}
          onClose={() => setShown(null)}
        />
      ) : null}
      {confirm.element}
    </section>
  );
}

function ReadOnlySettings(props: { project: BuildProject; settings: BuildSettings | undefined }) {
  const p = props.project;
  const s = props.settings;
  return (
    <dl className="facts">
      <dt>Git URL</dt>
      <dd>{p.gitUrl}</dd>
      <dt>Branch</dt>
      <dd>{p.branch}</dd>
      <dt>Dockerfile</dt>
      <dd>{p.dockerfilePath}</dd>
      <dt>Image repository</dt>
      <dd>{p.imageRepository}</dd>
      {s ? (
        <>
          <dt>Context</dt>
          <dd>{s.contextPath}</dd>
          <dt>Compile step</dt>
          <dd>
            {s.compile ? (
              <code>
                {s.compile.image} {s.compile.command.join(' ')} (cache {s.compile.cachePath})
              </code>
            ) : (
              'none'
            )}
          </dd>
          <dt>Tag rule</dt>
          <dd>{s.tagRule}</dd>
          <dt>Branch filters</dt>
          <dd>{s.branchFilters.length ? s.branchFilters.join(', ') : 'the default branch'}</dd>
          <dt>Tag pushes</dt>
          <dd>{s.buildTags ? 'build' : 'ignored'}</dd>
          <dt>Timeout</dt>
          <dd>{s.timeoutSeconds} s</dd>
          <dt>Pinned Dockerfile</dt>
          <dd>{s.dockerfileSha256 ?? 'none'}</dd>
          <dt>Webhook</dt>
          <dd>{s.webhookConfigured ? 'configured' : 'not configured'}</dd>
        </>
      ) : null}
    </dl>
  );
}
