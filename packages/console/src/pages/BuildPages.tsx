import type { BuildProject } from '@leengine/common';
import { useParams } from 'react-router';
import { seg } from '../api.ts';
import { ResourceList } from '../components/ResourceList.tsx';
import { ResourcePage } from '../components/ResourcePage.tsx';
import { buildProjectKind } from '../resources.ts';
import { useApi } from '../useApi.ts';

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
      tabs={[
        {
          id: 'settings',
          title: 'Settings',
          render: () =>
            project.data ? (
              <dl className="facts">
                <dt>Git URL</dt>
                <dd>{project.data.gitUrl}</dd>
                <dt>Branch</dt>
                <dd>{project.data.branch}</dd>
                <dt>Dockerfile</dt>
                <dd>{project.data.dockerfilePath}</dd>
                <dt>Image repository</dt>
                <dd>{project.data.imageRepository}</dd>
              </dl>
            ) : null,
        },
      ]}
    />
  );
}
