import type { Application } from '@leengine/common';
import { useParams } from 'react-router';
import { seg } from '../api.ts';
import { ResourceList } from '../components/ResourceList.tsx';
import { ResourcePage } from '../components/ResourcePage.tsx';
import { applicationKind } from '../resources.ts';
import { useApi } from '../useApi.ts';

export function ApplicationsPage() {
  return <ResourceList spec={applicationKind} />;
}

export function ApplicationPage() {
  const { name = '' } = useParams();
  const apiPath = `/applications/${seg(name)}`;
  const app = useApi<Application>(apiPath);
  return (
    <ResourcePage
      apiPath={apiPath}
      title={name}
      subtitle={app.data?.description}
      tabs={[
        {
          id: 'overview',
          title: 'Overview',
          render: () =>
            app.data ? (
              <dl className="facts">
                <dt>Instances</dt>
                <dd>{app.data.allocation.instances}</dd>
                <dt>CPU</dt>
                <dd>{app.data.allocation.cpuMillicores} m</dd>
                <dt>Memory</dt>
                <dd>{app.data.allocation.memoryMib} MiB</dd>
                <dt>Created</dt>
                <dd>
                  {new Date(app.data.createdAt).toLocaleString()} by {app.data.createdBy}
                </dd>
              </dl>
            ) : null,
        },
      ]}
    />
  );
}
