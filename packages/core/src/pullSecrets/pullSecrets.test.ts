// Pull secrets per application, on real components: the registry with core's token auth,
// a cell with a real node whose containerd pulls a private image with the `leengine-pull`
// Secret core wrote into the application's namespace, and what that credential cannot pull.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { CellClient } from '@leengine/kube';
import { type CellHandle, useTestbed } from '@leengine/testbed';
import { SecretBox } from '../crypto/secretBox.ts';
import { systemImageCredentials } from '../registry/regionImages.ts';
import type { ApiClient } from '../testing/apiClient.ts';
import { finished, until } from '../testing/cellRegion.ts';
import { copy, inspect } from '../testing/registryClients.ts';
import { type RegistryCore, startRegistryCore } from '../testing/registryCore.ts';
import { PULL_SECRET_NAME } from './pullCredentials.ts';

const testbed = useTestbed();
let rc: RegistryCore;
let cell: CellHandle;
let kube: CellClient;
let owner: { api: ApiClient; token: string };
let stranger: { api: ApiClient; token: string };

before(async () => {
  const etcd = await testbed.etcd();
  rc = await startRegistryCore(testbed, {
    env: { LEENGINE_SECRET_KEY: SecretBox.generateKey() },
    runtime: { resyncMs: 5000, healthIntervalMs: 1000 },
  });
  // The cell's own images (pause, httpbox) go into public repositories, as in the local region.
  const cellImages = await systemImageCredentials(rc.core.db, rc.core.services);
  cell = await testbed.cell({ name: 'pull-1', etcd, registry: rc.registry, registryCredentials: cellImages });
  kube = CellClient.fromKubeconfig(cell.name, readFileSync(cell.kubeconfig, 'utf8'));
  assert.equal((await rc.admin.post('/api/v1/regions', { name: 'test' })).status, 201);
  const added = await rc.admin.post('/api/v1/regions/test/cells', {
    name: cell.name,
    kubeconfig: readFileSync(cell.kubeconfig, 'utf8'),
  });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  owner = await rc.user('owner');
  stranger = await rc.user('stranger');
  assert.equal((await owner.api.post('/api/v1/image-groups', { name: 'team' })).status, 201);
  // Two private repositories of team (created on first push): web is deployed, vault is not.
  const ownerCreds = `owner:${owner.token}`;
  for (const target of ['team/web:1', 'team/vault:1']) {
    const copied = await copy(rc.registry.host, 'leengine/httpbox:1', target, { dest: ownerCreds });
    assert.ok(copied.ok, copied.output);
  }
  assert.equal((await inspect(rc.registry.host, 'team/web:1')).ok, false, 'team/web is private');
  for (const [who, name] of [
    [owner, 'web'],
    [stranger, 'other'],
  ] as const) {
    const created = await who.api.post('/api/v1/applications', { name, region: 'test' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
  }
});
after(async () => {
  await rc?.close();
});

function version(repository: string): Record<string, unknown> {
  return {
    image: { repository, tag: '1' },
    instances: 1,
    port: 8080,
    cpu: { requestMillicores: 20, limitMillicores: 200 },
    memory: { requestMib: 16, limitMib: 64 },
    env: [],
    healthCheck: { path: '/healthz', periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 1 },
    terminationGracePeriodSeconds: 1,
    timeoutSeconds: 120,
  };
}

/** The credential core wrote into the application's namespace, as containerd gets it. */
async function pullCredential(
  application: string,
  host: string,
): Promise<{ username: string; password: string }> {
  const secret = await until(`${PULL_SECRET_NAME} in ${application}`, async () =>
    kube.core.readNamespacedSecret({ name: PULL_SECRET_NAME, namespace: application }),
  );
  assert.equal(secret.type, 'kubernetes.io/dockerconfigjson');
  const config = JSON.parse(Buffer.from(secret.data?.['.dockerconfigjson'] ?? '', 'base64').toString()) as {
    auths: Record<string, { username: string; password: string }>;
  };
  const auth = config.auths[host];
  assert.ok(auth, `the secret is for ${host}: ${Object.keys(config.auths).join(', ')}`);
  return auth;
}

async function grantedAccess(creds: { username: string; password: string }, repository: string) {
  const response = await fetch(
    `${rc.url}/v2/token?service=leengine-registry&scope=repository:${repository}:pull,push`,
    {
      headers: {
        authorization: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`,
      },
    },
  );
  assert.equal(response.status, 200);
  const { token } = (await response.json()) as { token: string };
  return JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).access;
}

/** A bare pod in the namespace pulling `image` with the namespace's pull secret: why it waits. */
async function pullWith(namespace: string, name: string, image: string): Promise<string> {
  const pod: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace },
    spec: {
      imagePullSecrets: [{ name: PULL_SECRET_NAME }],
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'app', image, imagePullPolicy: 'Always' }],
    },
  };
  await kube.apply(pod);
  return until(`pod ${namespace}/${name} to fail or start pulling`, async () => {
    const read = await kube.core.readNamespacedPod({ name, namespace });
    const status = read.status?.containerStatuses?.[0];
    if (status?.state?.running) return 'Running';
    const reason = status?.state?.waiting?.reason;
    return reason && reason !== 'ContainerCreating' ? reason : undefined;
  });
}

test("a deploy of a private image: the cell's containerd pulls it with the application's pull secret and the version becomes Ready", async () => {
  const deployed = await owner.api.post('/api/v1/applications/web/versions', version('team/web'));
  assert.equal(deployed.status, 202, JSON.stringify(deployed.body));
  const op = await finished(owner.api, 'web', deployed.body.id);
  assert.equal(op.state, 'succeeded', JSON.stringify(op));
  const deployment = await kube.apps.readNamespacedDeployment({ name: 'v1', namespace: 'web' });
  assert.deepEqual(
    deployment.spec?.template.spec?.imagePullSecrets?.map((s) => s.name),
    [PULL_SECRET_NAME],
  );
  assert.equal(deployment.status?.readyReplicas, 1);
  const [pod] = (await kube.core.listNamespacedPod({ namespace: 'web' })).items;
  assert.equal(pod?.spec?.containers[0]?.image, `${rc.registry.host}/team/web:1`);
  assert.ok(pod?.status?.containerStatuses?.[0]?.ready, 'pulled and running');

  // The credential pulls what the deploys used, nothing else, and never pushes.
  const web = await pullCredential('web', rc.registry.host);
  assert.equal(web.username, 'robot$app$web');
  assert.match(web.password, /^lee_pull_/);
  assert.deepEqual(await grantedAccess(web, 'team/web'), [
    { type: 'repository', name: 'team/web', actions: ['pull'] },
  ]);
  assert.deepEqual(await grantedAccess(web, 'team/vault'), [
    { type: 'repository', name: 'team/vault', actions: [] },
  ]);
  assert.ok((await inspect(rc.registry.host, 'team/web:1', `${web.username}:${web.password}`)).ok);
});

test("another application's pull secret cannot pull the image, nor can a repository no deploy was granted", async () => {
  // `other` was placed on the cell too: its namespace has its own credential, granted nothing.
  const other = await pullCredential('other', rc.registry.host);
  assert.equal(other.username, 'robot$app$other');
  assert.deepEqual(await grantedAccess(other, 'team/web'), [
    { type: 'repository', name: 'team/web', actions: [] },
  ]);
  const refused = await inspect(rc.registry.host, 'team/web:1', `${other.username}:${other.password}`);
  assert.equal(refused.ok, false);
  assert.match(refused.output, /unauthorized|denied|authentication required/i);
  // containerd, handed the other application's secret, is refused.
  assert.match(
    await pullWith('other', 'steal', `${rc.registry.host}/team/web:1`),
    /ErrImagePull|ImagePullBackOff/,
  );
  // web's own secret does not pull a repository none of its deploys used.
  assert.match(
    await pullWith('web', 'vault', `${rc.registry.host}/team/vault:1`),
    /ErrImagePull|ImagePullBackOff/,
  );
  // And the credential is the application's: a wrong secret with its name gets nothing.
  const wrong = await fetch(`${rc.url}/v2/token?service=leengine-registry&scope=repository:team/web:pull`, {
    headers: { authorization: `Basic ${Buffer.from(`robot$app$web:${other.password}`).toString('base64')}` },
  });
  assert.equal(wrong.status, 401);
});

test('a deployer who may not pull a repository cannot deploy it (refused like a missing tag), so no grant is made', async () => {
  const refused = await stranger.api.post('/api/v1/applications/other/versions', version('team/web'));
  assert.equal(refused.status, 400, JSON.stringify(refused.body));
  const missing = await stranger.api.post('/api/v1/applications/other/versions', version('team/nothing'));
  assert.equal(missing.status, 400, JSON.stringify(missing.body));
  assert.equal(refused.body.detail, missing.body.detail.replace('team/nothing', 'team/web'));
  const other = await pullCredential('other', rc.registry.host);
  assert.deepEqual(await grantedAccess(other, 'team/web'), [
    { type: 'repository', name: 'team/web', actions: [] },
  ]);
});

test('a deploy that uses another repository grants it: the same Secret then pulls both, and the upgrade becomes Ready', async () => {
  const before = await pullCredential('web', rc.registry.host);
  const deployed = await owner.api.post('/api/v1/applications/web/versions', version('team/vault'));
  assert.equal(deployed.status, 202, JSON.stringify(deployed.body));
  const op = await finished(owner.api, 'web', deployed.body.id);
  assert.equal(op.state, 'succeeded', JSON.stringify(op));
  const after = await pullCredential('web', rc.registry.host);
  assert.deepEqual(after, before, 'the Secret did not change: grants are read when a token is asked for');
  assert.deepEqual(await grantedAccess(after, 'team/vault'), [
    { type: 'repository', name: 'team/vault', actions: ['pull'] },
  ]);
  // team/web stays granted: a rollback to v1 pulls it again.
  assert.deepEqual(await grantedAccess(after, 'team/web'), [
    { type: 'repository', name: 'team/web', actions: ['pull'] },
  ]);
  const v2 = await kube.apps.readNamespacedDeployment({ name: 'v2', namespace: 'web' });
  assert.equal(v2.status?.readyReplicas, 1);
});

test('a leengine-pull Secret deleted by hand in a cell is written again by the cell reconciler within its resync period', async () => {
  const before = await pullCredential('web', rc.registry.host);
  await kube.core.deleteNamespacedSecret({ name: PULL_SECRET_NAME, namespace: 'web' });
  const gone = Date.now();
  // Nothing else changes: no deploy, no restart of core; only the periodic resync (5 s here) sees it.
  const back = await until(
    `${PULL_SECRET_NAME} back in web`,
    async () => kube.core.readNamespacedSecret({ name: PULL_SECRET_NAME, namespace: 'web' }),
    20_000,
  );
  assert.ok(back.metadata?.uid, 'a new Secret');
  assert.ok(Date.now() - gone < 20_000);
  assert.deepEqual(await pullCredential('web', rc.registry.host), before, 'the same credential');
});

test('rotating the pull secret: the old secret gets no token, the cell gets the new one, and a new pod still pulls the private image', async () => {
  const old = await pullCredential('web', rc.registry.host);
  // Masters and up only (role update); those who cannot see the application get a 404.
  const refused = await stranger.api.post('/api/v1/applications/web/pull-secret/rotate', {});
  assert.equal(refused.status, 404, JSON.stringify(refused.body));
  const rotated = await owner.api.post('/api/v1/applications/web/pull-secret/rotate', {});
  assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
  assert.equal(rotated.body.username, 'robot$app$web');
  assert.deepEqual(rotated.body.cells, [cell.name]);
  assert.ok(!JSON.stringify(rotated.body).includes('lee_pull_'), 'the secret is not returned');

  // The old secret gets no token any more.
  const stale = await fetch(`${rc.url}/v2/token?service=leengine-registry&scope=repository:team/web:pull`, {
    headers: { authorization: `Basic ${Buffer.from(`${old.username}:${old.password}`).toString('base64')}` },
  });
  assert.equal(stale.status, 401);
  assert.equal((await inspect(rc.registry.host, 'team/web:1', `${old.username}:${old.password}`)).ok, false);

  // The cell's Secret is rewritten with the new secret, which pulls what the old one did.
  const fresh = await until('the rotated secret in the cell', async () => {
    const now = await pullCredential('web', rc.registry.host);
    return now.password !== old.password ? now : undefined;
  });
  assert.equal(fresh.username, old.username);
  assert.match(fresh.password, /^lee_pull_/);
  assert.deepEqual(await grantedAccess(fresh, 'team/web'), [
    { type: 'repository', name: 'team/web', actions: ['pull'] },
  ]);
  // containerd pulls the private image again (Always) with the rewritten Secret.
  assert.equal(await pullWith('web', 'after-rotation', `${rc.registry.host}/team/web:1`), 'Running');

  const activity = await owner.api.get('/api/v1/applications/web/activity');
  assert.equal(activity.status, 200, JSON.stringify(activity.body));
  const record = (activity.body.items as { action: string; params: unknown }[]).find(
    (a) => a.action === 'rotate-pull-secret',
  );
  assert.ok(record, JSON.stringify(activity.body.items.map((a: { action: string }) => a.action)));
  assert.ok(!JSON.stringify(record).includes('lee_pull_'));
});
