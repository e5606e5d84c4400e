// The developer's whole loop on the local region (`./dev up`), on real components only:
// commit to a local git repository, the region's own build agent compiles and builds it,
// the image lands in the registry (token auth at core) under the commit's tag, core
// deploys it on a local cell with a real node, and the pod serves what was committed;
// a second commit, built from a GitLab push webhook and upgraded to, serves the change.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { commitFiles, gitRepo, headCommit, tempDir } from '@leengine/build/testing';
import { ApiClient, type Json } from '../testing/apiClient.ts';
import { finished as operationFinished, until } from '../testing/cellRegion.ts';
import { tokenFor } from '../testing/testCore.ts';
import { LOCAL_BUILD_AGENT_ID } from './buildAgent.ts';
import { LocalRegion } from './localRegion.ts';

const work = tempDir('local-build');
let region: LocalRegion;
let api: ApiClient;
let registryHost: string;

before(async () => {
  region = await LocalRegion.start({
    stateDir: `${work.path}/state`,
    env: {
      ...process.env,
      LEENGINE_PORT: '0',
      LEENGINE_LOCAL_CELLS: '1',
      DATABASE_URL: '',
      LOG_LEVEL: 'silent',
    },
  });
  const admin = region.firstAdmin;
  assert.ok(admin, 'a fresh region has a first admin');
  const anonymous = new ApiClient(region.endpoints.core);
  api = anonymous.as(await tokenFor(anonymous, admin.username, admin.password));
  registryHost = new URL(region.endpoints.registry).host;
});
after(async () => {
  await region?.stop();
  work.remove();
});

/** A web app: the compile step (in the builder image) renders index.html from `message`; busybox httpd serves it. */
function appFiles(message: string): Record<string, string> {
  return {
    message,
    'render.sh': 'set -e\nmkdir -p out\nprintf "<h1>%s</h1>\\n" "$(cat message)" > out/index.html\n',
    Dockerfile: `FROM ${registryHost}/leengine/httpbox:1\nCOPY out/ /srv/\nEXPOSE 8080\nCMD ["httpd", "-f", "-p", "8080", "-h", "/srv"]\n`,
  };
}

async function build(number: number): Promise<Json> {
  return until(
    `build #${number}`,
    async () => {
      const b = (await api.get(`/api/v1/build-projects/web/builds/${number}`)).body;
      return ['succeeded', 'failed', 'canceled'].includes(b.status) ? b : undefined;
    },
    300_000,
  );
}

async function served(): Promise<string[]> {
  const containers = (await api.get('/api/v1/applications/web/containers')).body.items as Json[];
  return Promise.all(
    containers.map(async (c) => (await (await fetch(`http://${c.ip}:8080/`)).text()).trim()),
  );
}

function version(tag: string): Json {
  return {
    image: { repository: 'apps/web', tag },
    instances: 1,
    port: 8080,
    cpu: { requestMillicores: 20, limitMillicores: 200 },
    memory: { requestMib: 16, limitMib: 64 },
    healthCheck: { path: '/', periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 3 },
    terminationGracePeriodSeconds: 1,
  };
}

test('the local region builds a commit with its own agent, pushes it by commit tag, deploys it on a local cell, and a second commit upgrades what the pod serves', async () => {
  assert.deepEqual(
    (await api.get('/api/v1/build-agents')).body.items.map((a: Json) => a.agentId),
    [LOCAL_BUILD_AGENT_ID],
  );
  // Private: the build pushes with its robot, the cell pulls with the application's pull secret.
  assert.equal((await api.post('/api/v1/image-groups', { name: 'apps' })).status, 201);
  const repository = await api.post('/api/v1/image-groups/apps/repositories', { name: 'web' });
  assert.equal(repository.status, 201, JSON.stringify(repository.body));
  assert.equal(repository.body.public, false);
  const repo = gitRepo(`${work.path}/repos/web`, appFiles('built from commit one'));
  const project = await api.post('/api/v1/build-projects', {
    name: 'web',
    gitUrl: `file://${repo}`,
    branch: 'main',
    imageRepository: 'apps/web',
  });
  assert.equal(project.status, 201, JSON.stringify(project.body));
  const settings = await api.patch('/api/v1/build-projects/web/settings', {
    compile: {
      image: `${registryHost}/leengine/httpbox:1`,
      command: ['sh', 'render.sh'],
      cachePath: '/cache',
    },
  });
  assert.equal(settings.status, 200, JSON.stringify(settings.body));

  // Build 1, by hand.
  assert.equal((await api.post('/api/v1/build-projects/web/builds', {})).status, 201);
  const first = await build(1);
  assert.equal(first.status, 'succeeded', `${first.failedStep}: ${first.error}`);
  assert.equal(first.agent, LOCAL_BUILD_AGENT_ID);
  const tag1 = headCommit(repo).slice(0, 8);
  assert.equal(first.imageTag, tag1);
  // Pushed through the registry's token auth by the build's own robot (the push notification names it).
  const tags = await until('the push notification', async () => {
    const items = (await api.get('/api/v1/image-groups/apps/repositories/web/tags')).body.items as Json[];
    return items[0]?.pushedBy ? items : undefined;
  });
  assert.deepEqual(
    tags.map((t: Json) => [t.tag, t.digest, t.pushedBy]),
    [[tag1, first.digest, 'robot$build$web+build.1.1']],
  );

  const anonymous = (await (
    await fetch(`${region.endpoints.core}/v2/token?service=leengine-registry&scope=repository:apps/web:pull`)
  ).json()) as { token: string };
  const claims = JSON.parse(Buffer.from(anonymous.token.split('.')[1] as string, 'base64url').toString());
  assert.deepEqual(
    claims.access,
    [{ type: 'repository', name: 'apps/web', actions: [] }],
    'nobody else pulls it',
  );

  // Deploy it on the local cell; the pod serves the committed page.
  const app = await api.post('/api/v1/applications', { name: 'web' });
  assert.equal(app.status, 201, JSON.stringify(app.body));
  assert.equal(app.body.region, 'local');
  const v1 = await api.post('/api/v1/applications/web/versions', version(tag1));
  assert.equal(v1.status, 202, JSON.stringify(v1.body));
  const op1 = await operationFinished(api, 'web', v1.body.id);
  assert.equal(op1.state, 'succeeded', JSON.stringify(op1));
  assert.deepEqual(await served(), ['<h1>built from commit one</h1>']);

  // Commit a change; GitLab's push webhook builds it.
  const hook = await api.post('/api/v1/build-projects/web/webhook-secret', {});
  assert.equal(hook.status, 201);
  commitFiles(repo, { message: 'built from commit two' }, 'change the page');
  const sha = headCommit(repo);
  const pushed = await fetch(hook.body.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-gitlab-event': 'Push Hook',
      'x-gitlab-token': hook.body.secret,
    },
    body: JSON.stringify({
      object_kind: 'push',
      ref: 'refs/heads/main',
      before: first.commit,
      after: sha,
      checkout_sha: sha,
    }),
  });
  const accepted = (await pushed.json()) as Json;
  assert.equal(pushed.status, 200, JSON.stringify(accepted));
  assert.equal(accepted.build?.trigger, 'webhook', JSON.stringify(accepted));
  const second = await build(accepted.build.number);
  assert.equal(second.status, 'succeeded', `${second.failedStep}: ${second.error}`);
  assert.equal(second.imageTag, sha.slice(0, 8));
  assert.notEqual(second.imageTag, tag1);

  // Upgrade: v2 replaces v1 and the pod serves the new commit.
  const v2 = await api.post('/api/v1/applications/web/versions', version(second.imageTag));
  assert.equal(v2.status, 202, JSON.stringify(v2.body));
  assert.deepEqual(v2.body.replaces, ['v1']);
  const op2 = await operationFinished(api, 'web', v2.body.id);
  assert.equal(op2.state, 'succeeded', JSON.stringify(op2));
  assert.deepEqual(await served(), ['<h1>built from commit two</h1>']);
});
