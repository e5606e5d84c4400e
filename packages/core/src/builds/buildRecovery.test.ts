// Builds whose end core missed, on real components: etcd, core (stopped and started again
// on the same database and port), the registry with token auth at core, and real
// `build-agent` processes. core reconciles running builds with the truth in etcd (the
// agent's task key, the result key it writes before reporting) on start and periodically.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BUILD_RESULTS_PREFIX } from '@leengine/build';
import { gitRepo, pushBusyboxBase, tempDir } from '@leengine/build/testing';
import { useTestbed } from '@leengine/testbed';
import { Etcd3 } from 'etcd3';
import pino from 'pino';
import type { ApiClient, Json } from '../testing/apiClient.ts';
import { type RegistryCore, startRegistryCore } from '../testing/registryCore.ts';

const testbed = useTestbed();
const AGENT_TOKEN = 'agent-secret-for-tests-0123456789';
const agentBin = fileURLToPath(new URL('../../../build/bin/build-agent', import.meta.url));
const LEASE_TTL_SECONDS = 3;

describe('builds whose end core missed are settled from etcd when core starts again', () => {
  const work = tempDir('build-recovery');
  let rc: RegistryCore;
  let api: ApiClient;
  let etcd: Etcd3;
  let etcdUrl: string;
  const agents = new Map<string, ChildProcess>();
  const realBuildah = execFileSync('sh', ['-c', 'command -v buildah'], { encoding: 'utf8' }).trim();

  /**
   * The real buildah; after a successful `push` it touches `<gate>.pushed` and waits for
   * `<gate>` before exiting, so the test can stop core between the push and the build's end.
   */
  function gatedBuildah(gate: string): string {
    const script = `${gate}.sh`;
    writeFileSync(
      script,
      [
        '#!/bin/sh',
        `"${realBuildah}" "$@"; rc=$?`,
        'for a in "$@"; do',
        '  if [ "$a" = push ] && [ $rc -eq 0 ]; then',
        `    touch "${gate}.pushed"; i=0`,
        `    while [ ! -e "${gate}" ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done`,
        '    break',
        '  fi',
        'done',
        'exit $rc',
        '',
      ].join('\n'),
    );
    chmodSync(script, 0o755);
    return script;
  }

  function startAgent(id: string, gate: string): ChildProcess {
    const child = spawn(agentBin, [], {
      env: {
        ...process.env,
        ETCD_ENDPOINTS: etcdUrl,
        LEENGINE_CORE_URL: rc.url,
        LEENGINE_BUILD_AGENT_TOKEN: AGENT_TOKEN,
        BUILD_AGENT_ID: id,
        BUILD_AGENT_CAPACITY: '1',
        BUILD_AGENT_LEASE_TTL: String(LEASE_TTL_SECONDS),
        BUILD_AGENT_WORK_DIR: `${work.path}/${id}`,
        BUILD_AGENT_BUILDAH_ROOT: `${work.path}/buildah`,
        BUILD_AGENT_BUILDAH: gatedBuildah(gate),
        BUILD_AGENT_ALLOW_FILE_URLS: '1',
        LOG_LEVEL: process.env.LEENGINE_TEST_LOG ?? 'warn',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    agents.set(id, child);
    return child;
  }

  async function stopAgent(id: string, signal: NodeJS.Signals): Promise<void> {
    const child = agents.get(id);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }

  async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await fn().catch(() => undefined);
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const final = (number: number, timeoutMs?: number) =>
    waitFor(
      `build late#${number} to end`,
      async () => {
        const r = await api.get(`/api/v1/build-projects/late/builds/${number}`);
        return ['succeeded', 'failed', 'canceled'].includes(r.body.status) ? (r.body as Json) : undefined;
      },
      timeoutMs,
    );

  const keys = async (prefix: string) => Object.keys(await etcd.getAll().prefix(prefix).strings());

  /** Triggers a build on the one live agent and waits until buildah pushed its image (held at the gate). */
  async function pushedWhileCoreRuns(number: number, gate: string): Promise<void> {
    const started = await api.post('/api/v1/build-projects/late/builds', {});
    assert.equal(started.status, 201, JSON.stringify(started.body));
    assert.equal(started.body.number, number);
    await waitFor(`build late#${number} pushed`, async () =>
      existsSync(`${gate}.pushed`) ? true : undefined,
    );
    const running = await api.get(`/api/v1/build-projects/late/builds/${number}`);
    assert.equal(running.body.status, 'running');
  }

  async function robotsEnded(): Promise<void> {
    const robots = (await api.get('/api/v1/build-projects/late/robots')).body.items as Json[];
    assert.ok(robots.length > 0);
    for (const r of robots)
      assert.ok(Date.parse(r.expiresAt) <= Date.now(), `${r.name} ended: ${r.expiresAt}`);
  }

  before(async () => {
    const etcdHandle = await testbed.etcd();
    etcdUrl = etcdHandle.url;
    etcd = new Etcd3({ hosts: etcdUrl });
    rc = await startRegistryCore(testbed, {
      env: {
        ETCD_ENDPOINTS: etcdUrl,
        LEENGINE_BUILD_AGENT_TOKEN: AGENT_TOKEN,
        LEENGINE_BUILD_ALLOW_LOCAL_GIT: '1',
        // On disk: the database outlives core's restarts.
        LEENGINE_DATA_DIR: `${work.path}/core`,
      },
      logger: pino({ level: process.env.LEENGINE_TEST_LOG ?? 'silent' }),
    });
    const builder = await rc.user('builder', { admin: true });
    api = builder.api;
    assert.equal((await api.post('/api/v1/image-groups', { name: 'base' })).status, 201);
    assert.equal(
      (await api.post('/api/v1/image-groups/base/repositories', { name: 'busybox', public: true })).status,
      201,
    );
    const base = await pushBusyboxBase(rc.registry.host, `builder:${builder.token}`);
    assert.equal((await api.post('/api/v1/image-groups', { name: 'apps' })).status, 201);
    assert.equal((await api.post('/api/v1/image-groups/apps/repositories', { name: 'late' })).status, 201);
    const repo = gitRepo(`${work.path}/repos/late`, {
      version: 'v1',
      Dockerfile: `FROM ${base}\nCOPY version /version\n`,
    });
    const created = await api.post('/api/v1/build-projects', {
      name: 'late',
      gitUrl: `file://${repo}`,
      branch: 'main',
      imageRepository: 'apps/late',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
  });

  after(async () => {
    for (const id of agents.keys()) await stopAgent(id, 'SIGKILL');
    await rc?.close();
    etcd?.close();
    work.remove();
  });

  test('a build that ends while core is stopped shows its real outcome (succeeded, digest, steps) within seconds of core starting again', async () => {
    const gate = `${work.path}/gate-a`;
    startAgent('late-a', gate);
    await waitFor('agent late-a', async () =>
      rc.core.services.builds.agents().length === 1 ? true : undefined,
    );
    await pushedWhileCoreRuns(1, gate);
    await rc.stopCore();
    writeFileSync(gate, ''); // the build ends now, with core down
    const results = await waitFor('the result key of late#1', async () => {
      const found = await keys(`${BUILD_RESULTS_PREFIX}late-a/`);
      return found.length === 1 ? found : undefined;
    });
    // Longer than the old reporter's retries (8 attempts, about 20 s) would have lasted.
    await new Promise((r) => setTimeout(r, 25_000));
    const startedAt = Date.now();
    await rc.startCore();
    const build = await final(1, 10_000);
    const took = Date.now() - startedAt;
    assert.equal(build.status, 'succeeded', JSON.stringify(build));
    assert.match(build.digest, /^sha256:[0-9a-f]{64}$/);
    // The agent's own record of the steps (the push step's report was dropped with core down).
    assert.ok(build.steps.length >= 3, JSON.stringify(build.steps));
    for (const s of build.steps) assert.equal(s.ok, true, JSON.stringify(s));
    assert.ok(build.steps.some((s: Json) => s.step === 'push' && s.finishedAt));
    assert.ok(took < 10_000, `settled ${took} ms after core started`);
    await robotsEnded();
    // The key is gone once core has the outcome.
    await waitFor('the result key removed', async () =>
      (await keys(`${BUILD_RESULTS_PREFIX}late-a/`)).length === 0 ? true : undefined,
    );
    assert.equal(results.length, 1);
    await stopAgent('late-a', 'SIGTERM');
  });

  test('a build whose agent died after recording its result, while core was stopped, is settled from the result key', async () => {
    const gate = `${work.path}/gate-b`;
    startAgent('late-b', gate);
    await waitFor('agent late-b alone', async () => {
      const live = rc.core.services.builds.agents();
      return live.length === 1 && live[0]?.agentId === 'late-b' ? true : undefined;
    });
    await pushedWhileCoreRuns(2, gate);
    await rc.stopCore();
    writeFileSync(gate, '');
    await waitFor('the result key of late#2', async () =>
      (await keys(`${BUILD_RESULTS_PREFIX}late-b/`)).length === 1 ? true : undefined,
    );
    // The agent dies before core is back: nobody will report this build any more.
    await stopAgent('late-b', 'SIGKILL');
    await waitFor(
      "late-b's registration and task key expired",
      async () => ((await keys('/leengine/build/agents/late-b')).length === 0 ? true : undefined),
      (LEASE_TTL_SECONDS + 10) * 1000,
    );
    const startedAt = Date.now();
    await rc.startCore();
    const build = await final(2, 10_000);
    assert.ok(Date.now() - startedAt < 10_000);
    assert.equal(build.status, 'succeeded', JSON.stringify(build));
    assert.match(build.digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(build.error, null);
    await robotsEnded();
    assert.deepEqual(await keys(`${BUILD_RESULTS_PREFIX}late-b/`), []);
  });

  test('a build its (restarted) agent no longer runs and recorded no result for is marked failed with the reason', async () => {
    const gate = `${work.path}/gate-c`;
    startAgent('late-c', gate);
    await waitFor('agent late-c alone', async () => {
      const live = rc.core.services.builds.agents();
      return live.length === 1 && live[0]?.agentId === 'late-c' ? true : undefined;
    });
    await pushedWhileCoreRuns(3, gate);
    await rc.stopCore();
    // The agent dies mid-build and comes back under the same id once its lease (and with it
    // the task key) expired: the build is lost, and no result was recorded.
    await stopAgent('late-c', 'SIGKILL');
    writeFileSync(gate, ''); // releases the orphaned buildah wrapper; its agent is gone
    await waitFor(
      "late-c's registration and task key expired",
      async () => ((await keys('/leengine/build/agents/late-c')).length === 0 ? true : undefined),
      (LEASE_TTL_SECONDS + 10) * 1000,
    );
    startAgent('late-c', `${work.path}/gate-c2`);
    await waitFor('late-c registered again', async () =>
      (await keys('/leengine/build/agents/late-c')).length === 1 ? true : undefined,
    );
    assert.deepEqual(await keys(`${BUILD_RESULTS_PREFIX}late-c/`), []);
    const startedAt = Date.now();
    await rc.startCore();
    const build = await final(3, 10_000);
    assert.ok(Date.now() - startedAt < 10_000);
    assert.equal(build.status, 'failed', JSON.stringify(build));
    assert.match(build.error, /the build agent late-c no longer runs the build and recorded no result/);
    await robotsEnded();
  });
});
