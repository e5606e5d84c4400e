import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { useTestbed } from '@leengine/testbed';
import { type PipelineResult, runPipeline } from './pipeline.ts';
import type { BuildEvent, BuildTask } from './task.ts';
import { BuildTaskSchema } from './task.ts';
import {
  buildahStorage,
  commitFiles,
  gitRepo,
  headCommit,
  pushBusyboxBase,
  tempDir,
  WEB_APP_COMPILE,
  webAppFiles,
} from './testing/fixtures.ts';

const testbed = useTestbed();

describe('the build pipeline on real git, buildah and a registry', () => {
  let registry: { url: string; host: string };
  let base: string;
  const work = tempDir('pipeline');
  after(() => work.remove());

  before(async () => {
    registry = await testbed.registry();
    base = await pushBusyboxBase(registry.host);
  });

  async function build(
    overrides: Partial<BuildTask>,
    repo: string,
  ): Promise<{ result: PipelineResult; events: BuildEvent[]; log: string }> {
    const events: BuildEvent[] = [];
    const task = BuildTaskSchema.parse({
      taskId: `t${Math.random().toString(36).slice(2)}`,
      buildId: 1,
      project: 'web',
      gitUrl: repo,
      branch: 'main',
      dockerfilePath: 'Dockerfile',
      contextPath: '.',
      compile: { image: base, command: WEB_APP_COMPILE, cachePath: '/cache' },
      useCache: true,
      image: `${registry.host}/apps/web`,
      registryInsecure: true,
      timeoutSeconds: 300,
      ...overrides,
    });
    const result = await runPipeline(
      task,
      {
        workRoot: `${work.path}/agent`,
        buildahArgs: buildahStorage(`${work.path}/buildah`),
        registryCredential: async () => null,
        allowLocalRepositories: true,
        emit: (e) => events.push(e),
      },
      new AbortController().signal,
    );
    const log = events.map((e) => (e.type === 'output' ? e.text : '')).join('');
    return { result, events, log };
  }

  async function tags(repository: string): Promise<string[]> {
    const response = await fetch(`${registry.url}/v2/${repository}/tags/list`);
    if (response.status === 404) return [];
    return ((await response.json()) as { tags: string[] | null }).tags ?? [];
  }

  test('clones, compiles with the project cache, builds from the Dockerfile and pushes the short commit tag', async () => {
    const repo = gitRepo(`${work.path}/repos/web`, webAppFiles(base, 'v1'));
    const { result, events, log } = await build({}, repo);
    assert.equal(result.status, 'succeeded', `${result.error}\n${log}`);
    const commit = headCommit(repo);
    assert.equal(result.commit, commit);
    assert.equal(result.tag, commit.slice(0, 8));
    assert.match(result.digest ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(await tags('apps/web'), [commit.slice(0, 8)]);
    const manifest = await fetch(`${registry.url}/v2/apps/web/manifests/${result.digest}`, {
      headers: {
        accept:
          'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
      },
    });
    assert.equal(manifest.status, 200);
    const steps = events.filter((e) => e.type === 'step-finished').map((e) => [e.step, e.ok]);
    assert.deepEqual(steps, [
      ['clone', true],
      ['compile', true],
      ['image', true],
      ['push', true],
    ]);

    // The second build of the project reuses its cache (the compile counted 2 runs).
    commitFiles(repo, { version: 'v2' }, 'v2');
    const second = await build({ tag: 'release-2' }, repo);
    assert.equal(second.result.status, 'succeeded', second.result.error);
    assert.match(second.log, /^2$/m);
    assert.deepEqual((await tags('apps/web')).sort(), [commit.slice(0, 8), 'release-2'].sort());

    // "use cache" off: an empty cache for this build only.
    const third = await build({ useCache: false, tag: 'nocache' }, repo);
    assert.equal(third.result.status, 'succeeded', third.result.error);
    assert.match(third.log, /^1$/m);

    // Another project never sees this project's cache.
    const other = gitRepo(`${work.path}/repos/other`, webAppFiles(base, 'o1'));
    const otherBuild = await build({ project: 'other', image: `${registry.host}/apps/other` }, other);
    assert.equal(otherBuild.result.status, 'succeeded', otherBuild.result.error);
    assert.match(otherBuild.log, /^1$/m);
  });

  test('a failing compile fails at the compile step and pushes nothing', async () => {
    const repo = gitRepo(`${work.path}/repos/broken`, webAppFiles(base, 'v1'));
    const { result } = await build(
      {
        project: 'broken',
        image: `${registry.host}/apps/broken`,
        compile: {
          image: base,
          command: ['sh', '-c', 'echo compile error: missing symbol >&2; exit 3'],
          cachePath: '/cache',
        },
      },
      repo,
    );
    assert.equal(result.status, 'failed');
    assert.equal(result.failedStep, 'compile');
    assert.match(result.error ?? '', /compile command failed \(exit 3\): compile error: missing symbol/);
    assert.deepEqual(await tags('apps/broken'), []);
  });

  test('a missing Dockerfile fails at the image step and pushes nothing', async () => {
    const repo = gitRepo(`${work.path}/repos/nodockerfile`, { version: 'v1' });
    const { result } = await build(
      { project: 'nodockerfile', image: `${registry.host}/apps/nodockerfile` },
      repo,
    );
    assert.equal(result.failedStep, 'image');
    assert.match(result.error ?? '', /no Dockerfile at "Dockerfile"/);
    assert.deepEqual(await tags('apps/nodockerfile'), []);
  });

  test('a Dockerfile that differs from the pinned one fails at the image step', async () => {
    const repo = gitRepo(`${work.path}/repos/pinned`, webAppFiles(base, 'v1'));
    const { result } = await build(
      { project: 'pinned', image: `${registry.host}/apps/pinned`, dockerfileSha256: '0'.repeat(64) },
      repo,
    );
    assert.equal(result.failedStep, 'image');
    assert.match(result.error ?? '', /differs from the one pinned/);
    assert.deepEqual(await tags('apps/pinned'), []);
  });

  test('an unreachable git URL and an unknown branch fail at the clone step', async () => {
    const unreachable = await build(
      { project: 'gone', gitUrl: 'http://127.0.0.1:9/nothing.git' },
      '/nonexistent',
    );
    assert.equal(unreachable.result.failedStep, 'clone');
    assert.match(unreachable.result.error ?? '', /git fetch refs\/heads\/main failed/);
    const repo = gitRepo(`${work.path}/repos/branches`, webAppFiles(base, 'v1'));
    const missing = await build({ project: 'branches', branch: 'no-such-branch' }, repo);
    assert.equal(missing.result.failedStep, 'clone');
    assert.match(missing.result.error ?? '', /no-such-branch/);
  });

  test('branch and tag names that git refuses, or that look like options, never reach a command', () => {
    for (const branch of [
      'main;touch /tmp/pwned',
      '$(id)',
      '--upload-pack=touch /tmp/x',
      'a..b',
      'x y',
      'feature/.hidden',
      'a.lock',
    ]) {
      const parsed = BuildTaskSchema.safeParse({
        taskId: 't',
        buildId: 1,
        project: 'p',
        gitUrl: '/x',
        branch,
        dockerfilePath: 'Dockerfile',
        contextPath: '.',
        useCache: true,
        image: 'h:1/a/b',
        timeoutSeconds: 60,
      });
      assert.equal(parsed.success, false, branch);
    }
  });
});
