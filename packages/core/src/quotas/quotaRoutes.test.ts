import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ApiClient } from '../testing/apiClient.ts';
import { startTestCore, type TestCore } from '../testing/testCore.ts';

let tc: TestCore;
let alice: ApiClient;
let bob: ApiClient;

before(async () => {
  tc = await startTestCore();
  alice = await tc.user('alice');
  bob = await tc.user('bob');
});
after(() => tc?.close());

test('admins set the default limits and per-user overrides; users read their own', async () => {
  const limits = { applications: 2, instances: 8, cpuMillicores: 4000, memoryMib: 8192 };
  assert.equal((await alice.put('/api/v1/quotas/default', limits)).status, 403);
  assert.deepEqual((await tc.admin.put('/api/v1/quotas/default', limits)).body, limits);
  assert.deepEqual((await alice.get('/api/v1/quotas/default')).body, limits);

  const set = await tc.admin.put('/api/v1/users/bob/quota', { applications: 5, memoryMib: null });
  assert.equal(set.status, 200);
  assert.deepEqual(set.body.limits, { ...limits, applications: 5 });
  assert.equal((await alice.put('/api/v1/users/alice/quota', { applications: 100 })).status, 403);
  assert.equal((await alice.get('/api/v1/users/bob/quota')).status, 403, "not another user's");
  const own = await bob.get('/api/v1/user/quota');
  assert.deepEqual(own.body, {
    username: 'bob',
    limits: { ...limits, applications: 5 },
    overrides: { applications: 5, instances: null, cpuMillicores: null, memoryMib: null },
    usage: { applications: 0, instances: 0, cpuMillicores: 0, memoryMib: 0 },
  });
  assert.equal((await tc.admin.get('/api/v1/users/nobody/quota')).status, 404);
});

test('creating an application beyond the quota is a 422 problem and leaves nothing behind', async () => {
  assert.equal((await alice.post('/api/v1/applications', { name: 'one' })).status, 201);
  assert.equal((await alice.post('/api/v1/applications', { name: 'two' })).status, 201);
  const third = await alice.post('/api/v1/applications', { name: 'three' });
  assert.equal(third.status, 422);
  assert.equal(third.body.type, 'urn:leengine:problem:quota-exceeded');
  assert.match(third.body.detail, /applications 2 \+ 1 > 2/);
  assert.equal((await tc.admin.get('/api/v1/applications/three')).status, 404);
  const [refused] = (await alice.get('/api/v1/user/activity?limit=1')).body.items;
  assert.deepEqual([refused.action, refused.result, refused.error], ['create', 'failed', 'quota-exceeded']);
  assert.equal((await alice.get('/api/v1/user/quota')).body.usage.applications, 2);
  // Deleting one frees the room.
  assert.equal((await alice.delete('/api/v1/applications/one')).status, 204);
  assert.equal((await alice.post('/api/v1/applications', { name: 'three' })).status, 201);
});
