import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { insertActivity } from '../activity/activityStore.ts';
import type { ApiClient } from '../testing/apiClient.ts';
import { startTestCore, type TestCore } from '../testing/testCore.ts';

let tc: TestCore;
let alice: ApiClient;

before(async () => {
  tc = await startTestCore();
  alice = await tc.user('alice');
});
after(() => tc?.close());

/** Deploys, builds, pushes and scalings are recorded by later capabilities; here, straight in the store. */
async function record(
  at: string,
  kind: 'application' | 'build-project' | 'image-repository',
  action: string,
  result: 'succeeded' | 'failed' = 'succeeded',
) {
  await insertActivity(tc.core.db, {
    at: new Date(at),
    actorId: 1,
    target: { kind, id: 1, name: 'x' },
    action,
    params: {},
    result,
  });
}

test('operation statistics count accepted requests per UTC day: deploys (rollbacks too), builds, pushes, scalings; not refusals', async () => {
  await record('2025-03-01T00:00:00Z', 'application', 'deploy');
  await record('2025-03-01T23:59:59Z', 'application', 'deploy');
  await record('2025-03-01T13:00:00Z', 'application', 'rollback'); // deploys a version: a deploy
  await record('2025-03-01T12:00:00Z', 'application', 'deploy', 'failed'); // refused (role, quota)
  await record('2025-03-01T12:00:00Z', 'application', 'rollback', 'failed');
  await record('2025-03-01T12:00:00Z', 'application', 'scale');
  await record('2025-03-02T00:00:00Z', 'build-project', 'trigger-build');
  await record('2025-03-03T08:00:00Z', 'image-repository', 'push');
  await record('2025-03-03T09:00:00Z', 'image-repository', 'push');
  await record('2025-03-03T09:00:00Z', 'image-repository', 'deploy'); // not a counted pair
  await record('2025-03-04T00:00:00Z', 'application', 'deploy'); // outside the range
  await record('2025-02-28T23:59:59Z', 'application', 'deploy'); // outside the range

  const response = await tc.admin.get('/api/v1/statistics/operations?from=2025-03-01&to=2025-03-03');
  assert.equal(response.status, 200);
  assert.deepEqual(response.body.days, [
    { day: '2025-03-01', deploys: 3, builds: 0, imagePushes: 0, scalings: 1 },
    { day: '2025-03-02', deploys: 0, builds: 1, imagePushes: 0, scalings: 0 },
    { day: '2025-03-03', deploys: 0, builds: 0, imagePushes: 2, scalings: 0 },
  ]);
  assert.equal((await alice.get('/api/v1/statistics/operations?from=2025-03-01&to=2025-03-03')).status, 403);
});

test('the summary counts users and resources, for admins', async () => {
  assert.equal((await alice.post('/api/v1/applications', { name: 'one' })).status, 201);
  assert.equal((await alice.post('/api/v1/image-groups', { name: 'team' })).status, 201);
  const summary = await tc.admin.get('/api/v1/statistics/summary');
  assert.deepEqual(summary.body, {
    users: 2,
    applications: 1,
    imageGroups: 1,
    imageRepositories: 0,
    buildProjects: 0,
  });
  assert.equal((await alice.get('/api/v1/statistics/summary')).status, 403);
});
