import {
  CreateImageRepositorySchema,
  type ImageGroup,
  type ImageRepository,
  type RegistryInfo,
  type RegistryTagList,
} from '@leengine/common';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, seg } from '../api.ts';
import { useConfirm } from '../components/Confirm.tsx';
import { Field } from '../components/Field.tsx';
import { FormSubmit } from '../components/FormSubmit.tsx';
import { Paged } from '../components/Paged.tsx';
import { ResourceList } from '../components/ResourceList.tsx';
import { ResourcePage } from '../components/ResourcePage.tsx';
import { Robots } from '../components/Robots.tsx';
import { PagedTable } from '../components/Table.tsx';
import { useForm } from '../components/useForm.ts';
import { formatBytes } from '../format.ts';
import { imageGroupKind, imageRepositoryKind } from '../resources.ts';
import { useApi } from '../useApi.ts';

export function ImagesPage() {
  return (
    <div className="grid">
      <ResourceList spec={imageGroupKind} />
      <ResourceList spec={imageRepositoryKind} />
    </div>
  );
}

export function ImageGroupPage() {
  const { group = '' } = useParams();
  const apiPath = `/image-groups/${seg(group)}`;
  const data = useApi<ImageGroup>(apiPath);
  const [reloadKey, setReloadKey] = useState(0);
  return (
    <ResourcePage
      apiPath={apiPath}
      title={`Image group ${group}`}
      subtitle={data.data?.description}
      deletable={{
        what: `image group ${group}`,
        afterwards: '/images',
        consequence: 'Only an empty group can be deleted: delete its repositories first.',
      }}
      tabs={[
        {
          id: 'repositories',
          title: 'Repositories',
          render: (access) => (
            <>
              {access.actions.includes('create-repository') ? (
                <NewRepository group={group} onCreated={() => setReloadKey((k) => k + 1)} />
              ) : null}
              <Paged<ImageRepository>
                path={`${apiPath}/repositories`}
                reloadKey={reloadKey}
                searchable
                empty="No repositories yet."
                render={(items) => (
                  <ul className="items">
                    {items.map((r) => (
                      <li key={r.fullName}>
                        <Link to={imageRepositoryKind.route(r)}>{r.fullName}</Link>{' '}
                        <span className="muted">{r.public ? 'public' : 'private'}</span>
                      </li>
                    ))}
                  </ul>
                )}
              />
            </>
          ),
        },
        {
          id: 'robots',
          title: 'Robots',
          action: 'manage-robots',
          render: () => <Robots apiPath={apiPath} owner="image-group" />,
        },
      ]}
    />
  );
}

function NewRepository(props: { group: string; onCreated: () => void }) {
  const form = useForm(CreateImageRepositorySchema, { name: undefined, public: false });
  return (
    <form
      className="inline"
      aria-label="new repository"
      noValidate
      onSubmit={form.submitNew(
        (input) => api.post(`/image-groups/${seg(props.group)}/repositories`, input),
        props.onCreated,
      )}
    >
      <Field label="Repository name" error={form.errors.name}>
        <input
          name="name"
          value={String(form.values.name ?? '')}
          onChange={(e) => form.set('name', e.target.value || undefined)}
        />
      </Field>
      <Field label="Public" error={form.errors.public}>
        <input
          type="checkbox"
          name="public"
          checked={Boolean(form.values.public)}
          onChange={(e) => form.set('public', e.target.checked)}
        />
      </Field>
      <FormSubmit label="New repository" form={form} />
    </form>
  );
}

export function ImageRepositoryPage() {
  const { group = '', name = '' } = useParams();
  const apiPath = `/image-groups/${seg(group)}/repositories/${seg(name)}`;
  const repo = useApi<ImageRepository>(apiPath);
  return (
    <ResourcePage
      apiPath={apiPath}
      title={`${group}/${name}`}
      subtitle={
        repo.data ? `${repo.data.public ? 'Public' : 'Private'} · ${repo.data.description}` : undefined
      }
      deletable={{
        what: `repository ${group}/${name}`,
        afterwards: `/images/${seg(group)}`,
        consequence: `The repository and every one of its tags are deleted from the registry. Build projects pushing here must be re-pointed first.`,
      }}
      tabs={[
        {
          id: 'tags',
          title: 'Tags',
          render: (access) => (
            <TagsTab
              apiPath={apiPath}
              fullName={`${group}/${name}`}
              canPull={access.actions.includes('pull')}
              canDelete={access.actions.includes('delete-tag')}
            />
          ),
        },
      ]}
    />
  );
}

/** A copyable command: the text, and a button that puts it on the clipboard. */
function CopyCommand(props: { command: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="copy-command">
      <pre className="copy">
        <code>{props.command}</code>
      </pre>
      <button
        type="button"
        className="secondary"
        aria-label={`copy ${props.label}`}
        onClick={() =>
          void navigator.clipboard?.writeText(props.command).then(
            () => setCopied(true),
            () => setCopied(false),
          )
        }
      >
        {copied ? 'Copied' : 'Copy'}
      </button>
    </div>
  );
}

/** The repository's tags as the registry holds them; delete a tag where the role allows. */
function TagsTab(props: { apiPath: string; fullName: string; canPull: boolean; canDelete: boolean }) {
  const tags = useApi<RegistryTagList>(`${props.apiPath}/tags`);
  const registry = useApi<RegistryInfo>('/registry');
  const confirm = useConfirm(tags.reload);
  const host = registry.data?.host ?? location.host;
  const newest = tags.data?.items[0]?.tag ?? '<tag>';
  return (
    <div>
      {props.canPull ? (
        <>
          <p>Pull command:</p>
          <CopyCommand command={`docker pull ${host}/${props.fullName}:${newest}`} label="pull command" />
        </>
      ) : (
        <p className="muted">Your role does not allow pulling this repository.</p>
      )}
      <PagedTable
        error={tags.error}
        items={tags.data?.items ?? []}
        label="tags"
        empty={tags.loading ? 'Loading…' : 'No tags yet: push one.'}
        className="tags"
        headers={['Tag', 'Size', 'Digest', 'Pushed', 'By', { hidden: 'Actions' }]}
        row={(t) => (
          <tr key={t.tag} data-tag={t.tag}>
            <td>
              <code>{t.tag}</code>
            </td>
            <td>{formatBytes(t.size)}</td>
            <td>
              <code title={t.digest}>{t.digest.slice(0, 19)}…</code>
            </td>
            <td>{t.pushedAt ? new Date(t.pushedAt).toLocaleString() : '—'}</td>
            <td>{t.pushedBy ?? '—'}</td>
            <td>
              {props.canPull ? (
                <button
                  type="button"
                  className="link"
                  aria-label={`copy pull command of ${t.tag}`}
                  onClick={() =>
                    void navigator.clipboard?.writeText(`docker pull ${host}/${props.fullName}:${t.tag}`)
                  }
                >
                  Copy pull
                </button>
              ) : null}{' '}
              {props.canDelete ? (
                <button
                  type="button"
                  className="link danger-link"
                  aria-label={`delete tag ${t.tag}`}
                  onClick={() =>
                    confirm.ask({
                      title: `Delete tag ${t.tag}?`,
                      description: `${props.fullName}:${t.tag} (${t.digest.slice(0, 19)}…) is deleted from the registry; versions using it cannot start new instances.`,
                      confirmLabel: 'Delete tag',
                      action: () => api.delete(`${props.apiPath}/tags/${seg(t.tag)}`),
                    })
                  }
                >
                  Delete
                </button>
              ) : null}
            </td>
          </tr>
        )}
      />
      {confirm.element}
    </div>
  );
}
