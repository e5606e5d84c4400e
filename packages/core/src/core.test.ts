// Restarting core loses nothing: everything lives in PostgreSQL or PGlite on disk.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { useTestbed } from '@leengine/testbed';
import { ApiClient } from './testing/apiClient.ts';
import { TestClock } from './testing/testClock.ts';
import { startTestCore, type TestCoreOptions } from './testing/testCore.ts';

const testbed = useTestbed();
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const READS = [
  '/api/v1/applications/web',
  '/api/v1/applications/web/members',
  '/api/v1/applications/web/activity',
  '/api/v1/image-groups/team/repositories/api',
  '/api/v1/image-groups/team/repositories/api/members',
  '/api/v1/build-projects/web-build',
  '/api/v1/image-repositories',
  '/api/v1/user/activity',
  '/api/v1/user/quota',
  '/api/v1/user/tokens',
];

async function restartKeepsEverything(options: TestCoreOptions): Promise<void> {
  const clock = new TestClock();
  const first = await startTestCore({ ...options, clock });
  let token = '';
  let before: unknown[];
  try {
    const alice = await first.user('alice');
    const bob = await first.user('bob');
    const created = await alice.post('/api/v1/user/tokens', { name: 'kept' });
    token = created.body.token;
    assert.equal(
      (await alice.post('/api/v1/applications', { name: 'web', description: 'the site' })).status,
      201,
    );
    assert.equal(
      (await alice.post('/api/v1/applications/web/members', { username: 'bob', role: 'master' })).status,
      201,
    );
    assert.equal((await alice.post('/api/v1/image-groups', { name: 'team' })).status, 201);
    assert.equal(
      (await alice.post('/api/v1/image-groups/team/repositories', { name: 'api', public: true })).status,
      201,
    );
    const project = {
      name: 'web-build',
      gitUrl: 'git@git.example.com:team/web.git',
      imageRepository: 'team/api',
    };
    assert.equal((await alice.post('/api/v1/build-projects', project)).status, 201);
    assert.equal((await first.admin.put('/api/v1/users/alice/quota', { applications: 3 })).status, 200);
    assert.equal(
      (await bob.patch('/api/v1/applications/web', { description: 'changed by bob' })).status,
      200,
    );
    const kept = first.anonymous.as(token);
    before = [];
    for (const path of READS) before.push((await kept.get(path)).body);
  } finally {
    await first.close();
  }

  const second = await startTestCore({ ...options, clock });
  try {
    assert.equal(await second.core.ensureFirstAdmin(), null, 'the first admin is created once, not again');
    const alice = new ApiClient(second.url).as(token);
    const after: unknown[] = [];
    for (const path of READS) after.push((await alice.get(path)).body);
    assert.deepEqual(after, before);
    assert.equal((after[0] as { description: string }).description, 'changed by bob');
    assert.equal((after[8] as { limits: { applications: number } }).limits.applications, 3);
  } finally {
    await second.close();
  }
}

test('PGlite on disk: closing and reopening core keeps users, tokens, resources, members, activity, quotas', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'leengine-restart-'));
  dirs.push(dataDir);
  await restartKeepsEverything({ dataDir });
});

test('PostgreSQL: closing and reopening core keeps users, tokens, resources, members, activity, quotas', async () => {
  const postgres = await testbed.postgres();
  await restartKeepsEverything({ databaseUrl: await postgres.createDatabase('restart') });
});
