import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  commitFiles,
  gitRepo,
  headCommit,
  pushBusyboxBase,
  tempDir,
  WEB_APP_COMPILE,
  webAppFiles,
} from '@leengine/build/testing';
import { useTestbed } from '@leengine/testbed';
import pino from 'pino';
import type { Core } from '../core.ts';
import type { ApiClient, Json } from '../testing/apiClient.ts';
import { type RegistryCore, startRegistryCore } from '../testing/registryCore.ts';

const testbed = useTestbed();
const AGENT_TOKEN = 'agent-secret-for-tests-0123456789';
const agentBin = fileURLToPath(new URL('../../../build/bin/build-agent', import.meta.url));

describe('code builds through core, etcd, real build agents and the registry with token auth at core', () => {
  const work = tempDir('builds');
  let rc: RegistryCore;
  let core: Core;
  let api: ApiClient;
  let base: string;
  let etcdUrl: string;
  let token: string;
  const agents = new Map<string, ChildProcess>();

  function startAgent(id: string): ChildProcess {
    const child = spawn(agentBin, [], {
      env: {
        ...process.env,
        ETCD_ENDPOINTS: etcdUrl,
        LEENGINE_CORE_URL: core.url,
        LEENGINE_BUILD_AGENT_TOKEN: AGENT_TOKEN,
        BUILD_AGENT_ID: id,
        BUILD_AGENT_CAPACITY: '1',
        BUILD_AGENT_LEASE_TTL: '3',
        BUILD_AGENT_WORK_DIR: `${work.path}/${id}`,
        BUILD_AGENT_BUILDAH_ROOT: `${work.path}/${id}-buildah`,
        BUILD_AGENT_ALLOW_FILE_URLS: '1',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    agents.set(id, child);
    return child;
  }

  async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await fn();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function finished(project: string, number: number): Promise<Json> {
    return waitFor(`build ${project}#${number}`, async () => {
      const r = await api.get(`/api/v1/build-projects/${project}/builds/${number}`);
      return ['succeeded', 'failed', 'canceled'].includes(r.body.status) ? r.body : undefined;
    });
  }

  async function project(name: string, repo: string, compile: string[] = WEB_APP_COMPILE): Promise<void> {
    assert.equal((await api.post('/api/v1/image-groups/apps/repositories', { name })).status, 201);
    const created = await api.post('/api/v1/build-projects', {
      name,
      gitUrl: `file://${repo}`,
      branch: 'main',
      imageRepository: `apps/${name}`,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const settings = await api.patch(`/api/v1/build-projects/${name}/settings`, {
      compile: { image: base, command: compile, cachePath: '/cache' },
    });
    assert.equal(settings.status, 200, JSON.stringify(settings.body));
  }

  before(async () => {
    const etcd = await testbed.etcd();
    etcdUrl = etcd.url;
    // Core and the registry trusting it: every pull and push goes through core's /v2/token.
    rc = await startRegistryCore(testbed, {
      env: {
        ETCD_ENDPOINTS: etcd.url,
        LEENGINE_BUILD_AGENT_TOKEN: AGENT_TOKEN,
        LEENGINE_BUILD_ALLOW_LOCAL_GIT: '1',
      },
      logger: pino({ level: process.env.LEENGINE_TEST_LOG ?? 'silent' }),
    });
    core = rc.core;
    const builder = await rc.user('builder', { admin: true });
    api = builder.api;
    token = builder.token;
    // The builder image is public: a build's robot may pull public images and its own repository only.
    assert.equal((await api.post('/api/v1/image-groups', { name: 'base' })).status, 201);
    const baseRepo = await api.post('/api/v1/image-groups/base/repositories', {
      name: 'busybox',
      public: true,
    });
    assert.equal(baseRepo.status, 201, JSON.stringify(baseRepo.body));
    base = await pushBusyboxBase(rc.registry.host, `builder:${token}`);
    assert.equal((await api.post('/api/v1/image-groups', { name: 'apps' })).status, 201);
    startAgent('agent-a');
    startAgent('agent-b');
    await waitFor(
      'two agents',
      async () => (core.services.builds.agents().length === 2 ? true : undefined),
      20_000,
    );
  });

  after(async () => {
    for (const child of agents.values()) child.kill('SIGKILL');
    await rc?.close();
    work.remove();
  });

  test('a manual build clones, compiles, builds and pushes the commit tag, with timed steps, logs and statistics', async () => {
    const repo = gitRepo(`${work.path}/repos/web`, webAppFiles(base, 'v1'));
    await project('web', repo);
    const started = await api.post('/api/v1/build-projects/web/builds', {});
    assert.equal(started.status, 201, JSON.stringify(started.body));
    assert.equal(started.body.number, 1);
    const build = await finished('web', 1);
    assert.equal(build.status, 'succeeded', JSON.stringify(build));
    const commit = headCommit(repo);
    assert.equal(build.commit, commit);
    assert.equal(build.imageTag, commit.slice(0, 8));
    assert.match(build.digest, /^sha256:/);
    assert.deepEqual(
      build.steps.map((s: Json) => [s.step, s.ok, typeof s.durationMs]),
      [
        ['clone', true, 'number'],
        ['compile', true, 'number'],
        ['image', true, 'number'],
        ['push', true, 'number'],
      ],
    );
    // Pushed by the build's own robot (the registry's notification names the pusher).
    const anonymousTags = await fetch(`${rc.registry.url}/v2/apps/web/tags/list`);
    assert.equal(anonymousTags.status, 401, 'the registry wants a token');
    const pushed = await waitFor('the push notification', async () => {
      const tags = await api.get('/api/v1/image-groups/apps/repositories/web/tags');
      return tags.body.items[0]?.pushedBy ? tags.body.items : undefined;
    });
    assert.deepEqual(
      pushed.map((t: Json) => [t.tag, t.digest, t.pushedBy]),
      [[commit.slice(0, 8), build.digest, 'robot$build$web+build.1.1']],
    );
    // ... whose credential ended with the build (kept, unusable, for late notifications).
    const robots = (await api.get('/api/v1/build-projects/web/robots')).body.items;
    assert.deepEqual(
      robots.map((r: Json) => [r.name, r.actions]),
      [['build.1.1', ['pull', 'push']]],
    );
    assert.ok(Date.parse(robots[0].expiresAt) <= Date.now(), `ended: ${robots[0].expiresAt}`);

    const logs = await api.get('/api/v1/build-projects/web/builds/1/logs');
    const text = logs.body.lines.map((l: Json) => l.text).join('');
    assert.match(text, /<== compile ok \(\d+\.\d s\)/);
    assert.match(text, /build succeeded/);

    // SSE replays the stored lines, then the final status, then ends.
    const sse = await fetch(`${core.url}/api/v1/build-projects/web/builds/1/logs/stream`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = await sse.text();
    assert.match(body, /event: log/);
    assert.match(body, /event: build\ndata: .*"status":"succeeded"/);
    assert.match(body, /event: end/);

    const today = new Date().toISOString().slice(0, 10);
    const stats = await api.get(`/api/v1/statistics/operations?from=${today}&to=${today}`);
    assert.equal(stats.body.days[0].builds, 1);
  });

  test('bad branch names and injection attempts are refused before a build exists', async () => {
    for (const branch of ['main;touch /tmp/x', '$(id)', '--upload-pack=x', 'a..b']) {
      const r = await api.post('/api/v1/build-projects/web/builds', { branch });
      assert.equal(r.status, 400, branch);
      assert.match(JSON.stringify(r.body), /not a valid branch or tag name/);
    }
    const history = await api.get('/api/v1/build-projects/web/builds');
    assert.equal(history.body.items.length, 1);
  });

  test('the GitLab push webhook checks its secret, honours branch filters and builds tag pushes', async () => {
    const repo = `${work.path}/repos/web`;
    const hook = await api.post('/api/v1/build-projects/web/webhook-secret', {});
    assert.equal(hook.status, 201);
    const push = (headers: Record<string, string>, payload: object) =>
      fetch(`${core.url}/api/v1/build-projects/web/webhooks/gitlab`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-gitlab-event': 'Push Hook', ...headers },
        body: JSON.stringify(payload),
      });
    commitFiles(repo, { version: 'v2' }, 'v2');
    const sha = headCommit(repo);
    const event = {
      object_kind: 'push',
      ref: 'refs/heads/main',
      before: '0'.repeat(40),
      after: sha,
      checkout_sha: sha,
    };
    assert.equal((await push({ 'x-gitlab-token': 'wrong' }, event)).status, 403);
    const other = await push(
      { 'x-gitlab-token': hook.body.secret },
      { ...event, ref: 'refs/heads/feature/x' },
    );
    assert.match(((await other.json()) as Json).ignored, /branch filters/);
    const accepted = (await (await push({ 'x-gitlab-token': hook.body.secret }, event)).json()) as Json;
    assert.equal(accepted.build.trigger, 'webhook');
    const built = await finished('web', accepted.build.number);
    assert.equal(built.status, 'succeeded', built.error);
    assert.equal(built.commit, sha);

    execGit(repo, ['tag', 'v2.0.0']);
    await api.patch('/api/v1/build-projects/web/settings', { tagRule: 'git-tag' });
    const tagPush = (await (
      await push(
        { 'x-gitlab-token': hook.body.secret },
        { object_kind: 'tag_push', ref: 'refs/tags/v2.0.0', after: sha, checkout_sha: sha },
      )
    ).json()) as Json;
    const tagged = await finished('web', tagPush.build.number);
    assert.equal(tagged.status, 'succeeded', tagged.error);
    assert.equal(tagged.imageTag, 'v2.0.0');
  });

  test("a build's push credential is a robot of its project, for the running attempt on its agent only, push-scoped to its repository, ended with the build", async () => {
    const repo = gitRepo(`${work.path}/repos/cred`, webAppFiles(base, 'v1'));
    await project('cred', repo, ['sh', '-c', 'sleep 60']);
    assert.equal(
      (await api.patch('/api/v1/build-projects/cred/settings', { timeoutSeconds: 120 })).status,
      200,
    );
    const started = await api.post('/api/v1/build-projects/cred/builds', {});
    const running = await waitFor('the compile step', async () => {
      const b = await api.get(`/api/v1/build-projects/cred/builds/${started.body.number}`);
      return b.body.steps.some((s: Json) => s.step === 'compile') ? b.body : undefined;
    });
    const [row] = await core.db.query<{ id: number }>(
      `select b.id from builds b join build_projects p on p.id = b.build_project_id
       where p.name = 'cred' and b.number = $1`,
      [started.body.number],
    );
    const id = row?.id as number;
    const ask = (agentId: string, taskId: string, agentToken = AGENT_TOKEN) =>
      fetch(`${core.url}/api/v1/build-agent/builds/${id}/registry-credential`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-leengine-agent-token': agentToken },
        body: JSON.stringify({ agentId, taskId }),
      });
    const other = running.agent === 'agent-a' ? 'agent-b' : 'agent-a';
    assert.equal((await ask(running.agent, `b${id}-1`, 'not-the-agent-token-0123456789')).status, 403);
    assert.equal((await ask(other, `b${id}-1`)).status, 403, 'another agent gets nothing');
    assert.equal((await ask(running.agent, `b${id}-2`)).status, 403, 'another attempt gets nothing');
    const answer = await ask(running.agent, `b${id}-1`);
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('cache-control'), 'no-store');
    const { credential } = (await answer.json()) as { credential: { username: string; password: string } };
    assert.equal(credential.username, `robot$build$cred+build.${started.body.number}.1`);
    assert.match(credential.password, /^lee_robot_/);
    const [robot] = (await api.get('/api/v1/build-projects/cred/robots')).body.items;
    const ttl = Date.parse(robot.expiresAt) - Date.now();
    assert.ok(ttl > 60_000 && ttl <= 120_000, `expires with the build's timeout: ${robot.expiresAt}`);

    const tokenFor = (scope: string) =>
      fetch(`${core.url}/v2/token?service=leengine-registry&scope=${scope}`, {
        headers: {
          authorization: `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`,
        },
      });
    const access = async (scope: string) => {
      const r = await tokenFor(scope);
      assert.equal(r.status, 200);
      const jwt = ((await r.json()) as { token: string }).token;
      return JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString()).access;
    };
    assert.deepEqual(await access('repository:apps/cred:pull,push,delete'), [
      { type: 'repository', name: 'apps/cred', actions: ['pull', 'push'] },
    ]);
    assert.deepEqual(await access('repository:apps/web:pull,push'), [
      { type: 'repository', name: 'apps/web', actions: [] },
    ]);
    assert.deepEqual(await access('repository:base/busybox:pull,push'), [
      { type: 'repository', name: 'base/busybox', actions: ['pull'] },
    ]);

    const canceled = await api.post(`/api/v1/build-projects/cred/builds/${started.body.number}/cancel`, {});
    assert.equal(canceled.status, 200, JSON.stringify(canceled.body));
    assert.equal((await tokenFor('repository:apps/cred:pull')).status, 401, 'the credential ended');
    assert.equal((await ask(running.agent, `b${id}-1`)).status, 403);
    const tags = await api.get('/api/v1/image-groups/apps/repositories/cred/tags');
    assert.deepEqual(tags.body.items, [], 'nothing pushed');
  });

  test('a repository keeps its agent; when that agent dies its running build fails within the lease TTL and the next goes to the other', async () => {
    const repo = gitRepo(`${work.path}/repos/sticky`, webAppFiles(base, 'v1'));
    await project('sticky', repo);
    const placed: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await api.post('/api/v1/build-projects/sticky/builds', {});
      const b = await finished('sticky', r.body.number);
      assert.equal(b.status, 'succeeded', b.error);
      placed.push(b.agent);
    }
    assert.equal(new Set(placed).size, 1, `builds landed on ${placed}`);
    const home = placed[0] as string;

    // A slow compile, then the agent is killed (SIGKILL: no clean lease revoke).
    await api.patch('/api/v1/build-projects/sticky/settings', {
      compile: { image: base, command: ['sh', '-c', 'sleep 60'], cachePath: '/cache' },
    });
    const slow = await api.post('/api/v1/build-projects/sticky/builds', {});
    await waitFor('the compile step', async () => {
      const b = await api.get(`/api/v1/build-projects/sticky/builds/${slow.body.number}`);
      return b.body.steps.some((s: Json) => s.step === 'compile') ? true : undefined;
    });
    agents.get(home)?.kill('SIGKILL');
    const killedAt = Date.now();
    const failed = await finished('sticky', slow.body.number);
    assert.equal(failed.status, 'failed');
    assert.match(failed.error, new RegExp(`${home} went away`));
    // Lease TTL 3 s; etcd checks expiry on its own tick, so allow a little more.
    assert.ok(Date.now() - killedAt < 8000, `failed after ${Date.now() - killedAt} ms`);

    await api.patch('/api/v1/build-projects/sticky/settings', {
      compile: { image: base, command: WEB_APP_COMPILE, cachePath: '/cache' },
    });
    const next = await api.post('/api/v1/build-projects/sticky/builds', {});
    const moved = await finished('sticky', next.body.number);
    assert.equal(moved.status, 'succeeded', moved.error);
    assert.notEqual(moved.agent, home);
  });
});

function execGit(dir: string, args: string[]): void {
  execFileSync('git', ['-C', dir, ...args], {
    env: { ...process.env, GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' },
  });
}
