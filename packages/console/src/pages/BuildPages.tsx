import {
  BUILD_STEPS,
  type Build,
  type BuildLogLine,
  type BuildProject,
  TriggerBuildSchema,
} from '@leengine/common';
import { useEffect, useRef, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api, query, seg } from '../api.ts';
import { BuildSettingsTab } from '../builds/BuildSettingsTab.tsx';
import { useConfirm } from '../components/Confirm.tsx';
import { Dialog } from '../components/Dialog.tsx';
import { Field, FormError } from '../components/Field.tsx';
import { ResourceList } from '../components/ResourceList.tsx';
import { ResourcePage } from '../components/ResourcePage.tsx';
import { Robots } from '../components/Robots.tsx';
import { Table } from '../components/Table.tsx';
import { useSubmit } from '../components/useSubmit.ts';
import { buildProjectKind } from '../resources.ts';
import { useApi } from '../useApi.ts';

const FINISHED = new Set(['succeeded', 'failed', 'canceled']);

export function BuildsPage() {
  return <ResourceList spec={buildProjectKind} />;
}

export function BuildProjectPage() {
  const { name = '' } = useParams();
  const apiPath = `/build-projects/${seg(name)}`;
  const project = useApi<BuildProject>(apiPath);
  return (
    <ResourcePage
      apiPath={apiPath}
      title={`Build project ${name}`}
      subtitle={project.data?.description}
      deletable={{
        what: `build project ${name}`,
        afterwards: '/builds',
        consequence: 'Its build history and logs go with it; the images it pushed stay in their repository.',
      }}
      tabs={[
        {
          id: 'builds',
          title: 'Builds',
          render: (access) => (
            <BuildHistory
              project={name}
              defaultBranch={project.data?.branch ?? ''}
              canTrigger={access.actions.includes('trigger-build')}
            />
          ),
        },
        {
          id: 'settings',
          title: 'Settings',
          render: (access) =>
            project.data ? (
              <BuildSettingsTab
                project={project.data}
                canEdit={access.actions.includes('update')}
                onSaved={project.reload}
              />
            ) : null,
        },
        {
          id: 'robots',
          title: 'Robots',
          action: 'manage-robots',
          render: () => <Robots apiPath={apiPath} owner="build-project" />,
        },
      ]}
    />
  );
}

function seconds(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`;
}

/** Build history, newest first, read page by page (`before` the last number shown). */
function BuildHistory(props: { project: string; defaultBranch: string; canTrigger: boolean }) {
  const base = `/build-projects/${seg(props.project)}/builds`;
  const [items, setItems] = useState<Build[]>([]);
  const [more, setMore] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [triggering, setTriggering] = useState(false);
  const navigate = useNavigate();
  const PAGE = 20;
  const load = (before?: number) =>
    void api
      .get<{ items: Build[] }>(`${base}${query({ limit: PAGE, before })}`)
      .then((page) => {
        setItems((old) => (before ? [...old, ...page.items] : page.items));
        setMore(page.items.length === PAGE);
      })
      .catch((e: Error) => setError(e.message));
  // biome-ignore lint/correctness/useExhaustiveDependencies: the first page, once per project
  useEffect(() => load(), [base]);
  return (
    <div>
      {props.canTrigger ? (
        <button type="button" onClick={() => setTriggering(true)}>
          Trigger a build
        </button>
      ) : null}
      {error ? <p className="error">{error}</p> : null}
      {items.length === 0 && !error ? <p className="muted">No builds yet.</p> : null}
      {items.length ? (
        <Table
          className="builds"
          headers={['#', 'Status', 'Ref', 'Commit', 'Image tag', 'By', 'Started', 'Duration']}
          items={items}
          row={(b) => (
            <tr key={b.number} data-build={b.number} className={b.status === 'failed' ? 'failed' : ''}>
              <td>
                <Link to={`/builds/${seg(props.project)}/${b.number}`}>#{b.number}</Link>
              </td>
              <td>{b.status}</td>
              <td>{b.gitTag ? `tag ${b.gitTag}` : (b.branch ?? '—')}</td>
              <td>
                <code>{b.commit?.slice(0, 12) ?? '—'}</code>
              </td>
              <td>{b.imageTag ?? '—'}</td>
              <td>{b.trigger === 'webhook' ? `webhook (${b.triggeredBy ?? ''})` : (b.triggeredBy ?? '—')}</td>
              <td>{b.startedAt ? new Date(b.startedAt).toLocaleString() : '—'}</td>
              <td>{seconds(b.durationMs)}</td>
            </tr>
          )}
        />
      ) : null}
      {more ? (
        <button type="button" className="link" onClick={() => load(items.at(-1)?.number)}>
          Load more
        </button>
      ) : null}
      {triggering ? (
        <TriggerDialog
          project={props.project}
          defaultBranch={props.defaultBranch}
          onClose={() => setTriggering(false)}
          onStarted={(b) => navigate(`/builds/${seg(props.project)}/${b.number}`)}
        />
      ) : null}
    </div>
  );
}

/** Start a build: a branch (default: the project's) or a git tag, optional commit and image tag, cache. */
function TriggerDialog(props: {
  project: string;
  defaultBranch: string;
  onClose: () => void;
  onStarted: (b: Build) => void;
}) {
  const [kind, setKind] = useState<'branch' | 'gitTag'>('branch');
  const [values, setValues] = useState<Record<string, string>>({
    branch: props.defaultBranch,
    gitTag: '',
    commit: '',
    imageTag: '',
  });
  const [useCache, setUseCache] = useState(true);
  const { errors, formError, busy, send } = useSubmit({ issueField: (path) => path[0] ?? kind });
  const set = (k: string, v: string) => setValues((old) => ({ ...old, [k]: v }));
  const submit = async () => {
    const body: Record<string, unknown> = { useCache };
    const ref = values[kind]?.trim();
    if (ref) body[kind] = ref;
    if (values.commit?.trim()) body.commit = values.commit.trim();
    if (values.imageTag?.trim()) body.imageTag = values.imageTag.trim();
    await send(TriggerBuildSchema, body, async () => {
      props.onStarted(await api.post<Build>(`/build-projects/${seg(props.project)}/builds`, body));
    });
  };
  return (
    <Dialog title="Trigger a build" onClose={props.onClose}>
      <form
        aria-label="trigger a build"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <fieldset className="choice">
          <legend>Build</legend>
          <label>
            <input
              type="radio"
              name="ref-kind"
              checked={kind === 'branch'}
              onChange={() => setKind('branch')}
            />{' '}
            a branch
          </label>
          <label>
            <input
              type="radio"
              name="ref-kind"
              checked={kind === 'gitTag'}
              onChange={() => setKind('gitTag')}
            />{' '}
            a git tag
          </label>
        </fieldset>
        {kind === 'branch' ? (
          <Field label="Branch" error={errors.branch} hint="default: the project's branch">
            <input name="branch" value={values.branch} onChange={(e) => set('branch', e.target.value)} />
          </Field>
        ) : (
          <Field label="Git tag" error={errors.gitTag}>
            <input name="gitTag" value={values.gitTag} onChange={(e) => set('gitTag', e.target.value)} />
          </Field>
        )}
        <Field label="Commit" error={errors.commit} hint="optional: default the ref's newest commit">
          <input name="commit" value={values.commit} onChange={(e) => set('commit', e.target.value)} />
        </Field>
        <Field label="Image tag" error={errors.imageTag} hint="optional: default from the tag rule">
          <input name="imageTag" value={values.imageTag} onChange={(e) => set('imageTag', e.target.value)} />
        </Field>
        <Field label="Use the dependency cache" error={errors.useCache}>
          <input
            type="checkbox"
            name="useCache"
            checked={useCache}
            onChange={(e) => setUseCache(e.target.checked)}
          />
        </Field>
        <FormError error={formError} />
        <div className="dialog-buttons">
          <button type="button" className="secondary" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" disabled={busy}>
            {busy ? 'Starting…' : 'Start build'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** One build, live: its steps with their durations and its log, streamed (SSE) until it ends. */
export function BuildLogPage() {
  const { name = '', number = '' } = useParams();
  const base = `/build-projects/${seg(name)}/builds/${seg(number)}`;
  const access = useApi<{ actions: string[] }>(`/build-projects/${seg(name)}/access`);
  const [build, setBuild] = useState<Build | undefined>();
  const [lines, setLines] = useState<BuildLogLine[]>([]);
  const [streaming, setStreaming] = useState(true);
  const [now, setNow] = useState(() => Date.now());
  const [error, setError] = useState<string | undefined>();
  const confirm = useConfirm();
  const logBox = useRef<HTMLPreElement>(null);

  useEffect(() => {
    setLines([]);
    setStreaming(true);
    // EventSource resumes after the last `id` (Last-Event-ID) on its own if the stream drops.
    const source = new EventSource(`/api/v1${base}/logs/stream`);
    source.addEventListener('log', (e) => {
      const line = JSON.parse((e as MessageEvent<string>).data) as BuildLogLine;
      setLines((old) => (old.length && (old.at(-1)?.seq ?? 0) >= line.seq ? old : [...old, line]));
    });
    source.addEventListener('build', (e) => setBuild(JSON.parse((e as MessageEvent<string>).data) as Build));
    source.addEventListener('end', () => {
      source.close();
      setStreaming(false);
    });
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        setStreaming(false);
        setError('the log stream closed');
      }
    };
    return () => source.close();
  }, [base]);

  useEffect(() => {
    if (!streaming) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [streaming]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: follow the log as lines arrive
  useEffect(() => {
    const box = logBox.current;
    if (box) box.scrollTop = box.scrollHeight;
  }, [lines.length]);

  const steps = BUILD_STEPS.map((step) => ({ step, s: build?.steps.find((x) => x.step === step) }));
  const done = steps.filter(({ s }) => s?.finishedAt).length;
  const finished = build ? FINISHED.has(build.status) : false;
  return (
    <article className="resource build">
      <p>
        <Link to={`/builds/${seg(name)}`}>← {name}</Link>
      </p>
      <div className="toolbar">
        <h1>
          Build #{number} of {name}
        </h1>
        {build && !finished && access.data?.actions.includes('cancel-build') ? (
          <button
            type="button"
            className="danger"
            onClick={() =>
              confirm.ask({
                title: `Cancel build #${number}?`,
                description: 'The agent stops the build; nothing is pushed.',
                confirmLabel: 'Cancel build',
                action: async () => setBuild(await api.post<Build>(`${base}/cancel`)),
              })
            }
          >
            Cancel build
          </button>
        ) : null}
      </div>
      {build ? (
        <p>
          Status:{' '}
          <b className={`build-status status-${build.status}`} data-status={build.status} aria-live="polite">
            {build.status}
          </b>
          {build.gitTag ? ` · tag ${build.gitTag}` : build.branch ? ` · branch ${build.branch}` : ''}
          {build.commit ? ` · commit ${build.commit.slice(0, 12)}` : ''}
          {build.image ? ` · ${build.image}:${build.imageTag ?? ''}` : ''}
          {build.agent ? ` · agent ${build.agent}` : ''}
          {build.useCache ? ' · cache on' : ' · cache off'}
        </p>
      ) : (
        <p className="muted">Connecting…</p>
      )}
      {build?.error ? <p className="error banner">{build.error}</p> : null}
      {error && !finished ? <p className="error">{error}</p> : null}
      {build && !finished ? (
        <progress
          max={BUILD_STEPS.length}
          value={done}
          aria-label={`build progress: ${done} of ${BUILD_STEPS.length} steps`}
        />
      ) : null}
      <Table
        className="steps"
        headers={['Step', 'State', 'Duration']}
        items={steps}
        row={({ step, s }) => (
          <tr key={step} data-step={step}>
            <td>{step}</td>
            <td>
              {!s ? 'waiting' : s.skipped ? 'skipped' : s.finishedAt ? (s.ok ? 'done' : 'failed') : 'running'}
            </td>
            <td className="duration">
              {s?.skipped
                ? '—'
                : s?.finishedAt
                  ? seconds(s.durationMs)
                  : s && streaming
                    ? `${seconds(Math.max(0, now - Date.parse(s.startedAt)))}…`
                    : '—'}
            </td>
          </tr>
        )}
      />
      <h2>Log {streaming ? <span className="muted">(live)</span> : null}</h2>
      <pre ref={logBox} className="copy log build-log" role="log" aria-label="build log">
        {lines.length
          ? lines.map((l) => `[${l.step}] ${l.text.replace(/\n$/, '')}`).join('\n')
          : '(no output yet)'}
      </pre>
      {confirm.element}
    </article>
  );
}
