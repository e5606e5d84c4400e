import { CreateImageRepositorySchema, type ImageGroup, type ImageRepository } from '@leengine/common';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, seg } from '../api.ts';
import { Field, FormError } from '../components/Field.tsx';
import { Paged } from '../components/Paged.tsx';
import { ResourceList } from '../components/ResourceList.tsx';
import { ResourcePage } from '../components/ResourcePage.tsx';
import { useForm } from '../components/useForm.ts';
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
      onSubmit={(e) => {
        e.preventDefault();
        void form
          .submit((input) => api.post(`/image-groups/${seg(props.group)}/repositories`, input))
          .then((ok) => {
            if (ok) {
              form.reset();
              props.onCreated();
            }
          });
      }}
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
          checked={Boolean(form.values.public)}
          onChange={(e) => form.set('public', e.target.checked)}
        />
      </Field>
      <button type="submit" disabled={form.busy}>
        New repository
      </button>
      <FormError error={form.formError} />
    </form>
  );
}

export function ImageRepositoryPage() {
  const { group = '', name = '' } = useParams();
  const apiPath = `/image-groups/${seg(group)}/repositories/${seg(name)}`;
  const repo = useApi<ImageRepository>(apiPath);
  const pull = `docker pull ${location.hostname}:<registry-port>/${group}/${name}:<tag>`;
  return (
    <ResourcePage
      apiPath={apiPath}
      title={`${group}/${name}`}
      subtitle={
        repo.data ? `${repo.data.public ? 'Public' : 'Private'} · ${repo.data.description}` : undefined
      }
      tabs={[
        {
          id: 'overview',
          title: 'Overview',
          render: () => (
            <div>
              <p>Pull command:</p>
              <pre className="copy">
                <code>{pull}</code>
              </pre>
              <button type="button" onClick={() => void navigator.clipboard?.writeText(pull)}>
                Copy
              </button>
            </div>
          ),
        },
      ]}
    />
  );
}
