import type { Application, NewVersion, Operation } from '@leengine/common';
import { useCallback, useState } from 'react';
import { useParams } from 'react-router';
import { seg } from '../api.ts';
import { DeployForm } from '../application/DeployForm.tsx';
import { FixedAddressesTab } from '../application/FixedAddressesTab.tsx';
import { DomainsSummary, LoadBalancerTab } from '../application/LoadBalancerTab.tsx';
import { OperationView } from '../application/OperationView.tsx';
import { ContainersTab, EventsTab, OperationsTab, VersionsTab } from '../application/RuntimeTabs.tsx';
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
  const [reloadKey, setReloadKey] = useState(0);
  const [running, setRunning] = useState<Operation | null>(null);
  const [deploying, setDeploying] = useState(false);
  const template = useApi<NewVersion>(deploying ? `${apiPath}/versions/new` : null);
  const finished = useCallback(() => {
    setReloadKey((k) => k + 1);
    app.reload();
  }, [app.reload]);
  const started = (op: Operation) => {
    setDeploying(false);
    setRunning(op);
    setReloadKey((k) => k + 1);
  };
  return (
    <ResourcePage
      apiPath={apiPath}
      title={name}
      subtitle={app.data?.description}
      deletable={{
        what: `application ${name}`,
        afterwards: '/applications',
        consequence: `Every version of ${name} stops and its namespace is deleted from every cell. This cannot be undone.`,
      }}
      tabs={[
        {
          id: 'overview',
          title: 'Overview',
          render: (access) => (
            <div>
              {app.data ? (
                <dl className="facts">
                  <dt>Region</dt>
                  <dd>{app.data.region ?? '—'}</dd>
                  <dt>Cells</dt>
                  <dd>
                    {app.data.cells
                      .map((c) => `${c.name}${c.state === 'leaving' ? ' (leaving)' : ''}`)
                      .join(', ') || '—'}
                  </dd>
                  <dt>Domains</dt>
                  <dd>
                    <DomainsSummary application={name} />
                  </dd>
                  <dt>Allocation</dt>
                  <dd>
                    {app.data.allocation.instances} instances, {app.data.allocation.cpuMillicores} m CPU,{' '}
                    {app.data.allocation.memoryMib} MiB
                  </dd>
                  <dt>Created</dt>
                  <dd>
                    {new Date(app.data.createdAt).toLocaleString()} by {app.data.createdBy}
                  </dd>
                </dl>
              ) : null}
              {running ? <OperationView key={running.id} operation={running} onFinished={finished} /> : null}
              {access.actions.includes('deploy') ? (
                deploying ? (
                  template.data && !template.loading ? (
                    <DeployForm
                      application={name}
                      template={template.data}
                      onStarted={started}
                      onCancel={() => setDeploying(false)}
                    />
                  ) : (
                    <p className={template.error ? 'error' : 'muted'}>
                      {template.error?.message ?? 'Loading…'}
                    </p>
                  )
                ) : (
                  <button type="button" onClick={() => setDeploying(true)}>
                    Deploy a new version
                  </button>
                )
              ) : null}
              <h2>Versions</h2>
              <VersionsTab
                application={name}
                reloadKey={reloadKey}
                canScale={access.actions.includes('scale')}
                canRollback={access.actions.includes('rollback')}
                onOperation={started}
              />
            </div>
          ),
        },
        {
          id: 'containers',
          title: 'Containers',
          render: (access) => (
            <ContainersTab
              application={name}
              canReadLogs={access.actions.includes('logs')}
              canExec={access.actions.includes('exec')}
            />
          ),
        },
        { id: 'events', title: 'Events', render: () => <EventsTab application={name} /> },
        {
          id: 'load-balancer',
          title: 'Load balancer',
          render: (access) => (
            <LoadBalancerTab
              application={name}
              canManage={access.actions.includes('manage-domains')}
              admin={access.admin}
            />
          ),
        },
        {
          id: 'fixed-addresses',
          title: 'Fixed addresses',
          render: (access) => (
            <FixedAddressesTab
              application={name}
              canManage={access.actions.includes('manage-fixed-addresses')}
            />
          ),
        },
        {
          id: 'operations',
          title: 'Operations',
          render: () => <OperationsTab application={name} reloadKey={reloadKey} />,
        },
      ]}
    />
  );
}
