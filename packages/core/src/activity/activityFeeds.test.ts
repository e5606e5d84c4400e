import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ApiClient } from '../testing/apiClient.ts';
import { startTestCore, type TestCore } from '../testing/testCore.ts';

let tc: TestCore;
let owner: ApiClient;
let dev: ApiClient;
let outsider: ApiClient;

before(async () => {
  tc = await startTestCore();
  owner = await tc.user('owner');
  dev = await tc.user('dev');
  outsider = await tc.user('outsider');
});
after(() => tc?.close());

type Entry = {
  actor: string;
  action: string;
  result: string;
  error: string | null;
  params: Record<string, unknown>;
};
const feed = async (client: ApiClient, path: string): Promise<string[]> =>
  (await client.get(path)).body.items.map(
    (a: Entry) => `${a.actor} ${a.action} ${a.result}${a.error ? ` (${a.error})` : ''}`,
  );

test("every change lands in the resource's feed: who, what, parameters, result; refusals too", async () => {
  const app = '/api/v1/applications/feed-app';
  assert.equal(
    (await owner.post('/api/v1/applications', { name: 'feed-app', description: 'v1' })).status,
    201,
  );
  tc.clock.advance(1000);
  assert.equal((await owner.post(`${app}/members`, { username: 'dev', role: 'developer' })).status, 201);
  tc.clock.advance(1000);
  assert.equal((await owner.patch(app, { description: 'v2' })).status, 200);
  assert.equal((await dev.delete(app)).status, 403, 'refused: recorded as failed');
  assert.equal((await outsider.delete(app)).status, 404, 'invisible: not recorded');
  assert.equal((await dev.patch(app, { description: 'mine' })).status, 403);

  assert.deepEqual(await feed(owner, `${app}/activity`), [
    'dev update failed (not-allowed)',
    'dev delete failed (not-allowed)',
    'owner update succeeded',
    'owner add-member succeeded',
    'owner create succeeded',
  ]);
  const [latest] = (await owner.get(`${app}/activity?limit=1`)).body.items;
  assert.deepEqual(latest.params, { description: 'mine' });
  assert.deepEqual(latest.resource, { kind: 'application', name: 'feed-app' });
  assert.equal((await dev.get(`${app}/activity`)).status, 200, 'a Developer reads it (Reporter and up)');
  assert.equal((await outsider.get(`${app}/activity`)).status, 404);
});

test('feeds page newest first with a cursor', async () => {
  const app = '/api/v1/applications/feed-app';
  const seen: string[] = [];
  let path = `${app}/activity?limit=2`;
  for (;;) {
    const page = (await owner.get(path)).body;
    seen.push(...page.items.map((a: { id: number }) => String(a.id)));
    if (!page.nextCursor) break;
    path = `${app}/activity?limit=2&cursor=${page.nextCursor}`;
  }
  const all = (await owner.get(`${app}/activity?limit=100`)).body.items.map((a: { id: number }) =>
    String(a.id),
  );
  assert.deepEqual(seen, all);
  assert.equal(all.length, 5);
});

test('a user feed shows what the user did, anywhere; only the user and admins read it', async () => {
  assert.equal((await owner.post('/api/v1/image-groups', { name: 'feed-group' })).status, 201);
  assert.equal((await owner.post('/api/v1/user/tokens', { name: 'laptop' })).status, 201);
  const mine = await feed(owner, '/api/v1/user/activity');
  assert.deepEqual(mine.slice(0, 2), ['owner create-token succeeded', 'owner create succeeded']);
  const token = (await owner.get('/api/v1/user/activity?limit=1')).body.items[0];
  assert.deepEqual(token.resource, { kind: 'user', name: 'owner' });
  assert.deepEqual(token.params, { name: 'laptop', expiresInDays: 30 });

  assert.deepEqual(await feed(dev, '/api/v1/user/activity'), [
    'dev update failed (not-allowed)',
    'dev delete failed (not-allowed)',
    // dev's own token, made by the test helper
    'dev create-token succeeded',
  ]);
  assert.equal((await dev.get('/api/v1/users/owner/activity')).status, 403);
  assert.equal((await tc.admin.get('/api/v1/users/owner/activity')).status, 200);
});

test('secrets are redacted: a password set by an admin never appears in any feed', async () => {
  const password = 'a-very-secret-password-1';
  assert.equal((await tc.admin.post('/api/v1/users', { username: 'fresh', password })).status, 201);
  assert.equal((await tc.admin.patch('/api/v1/users/fresh', { password: `${password}2` })).status, 200);
  const adminFeed = await tc.admin.get('/api/v1/user/activity?limit=10');
  const [update, create] = adminFeed.body.items;
  assert.deepEqual(create.params, { username: 'fresh', password: '***', displayName: '', admin: false });
  assert.deepEqual(update.params, { password: '***' });
  const rows = await tc.core.db.query<{ t: string }>('select params::text as t from activity');
  assert.ok(rows.every((r) => !r.t.includes(password)));
});
