import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { useTestbed } from '@leengine/testbed';
import { CLIENT_HEADER } from '../http/authHook.ts';
import type { ApiClient } from '../testing/apiClient.ts';
import { backends } from '../testing/backends.ts';
import { login, startTestCore, TEST_PASSWORD, type TestCore } from '../testing/testCore.ts';

let tc: TestCore;
let alice: ApiClient;

const signIn = (
  username: string,
  password: string,
  headers: Record<string, string> = { [CLIENT_HEADER]: 'x' },
) => tc.anonymous.withHeaders(headers).post('/api/v1/session', { username, password });

const testbed = useTestbed();

for (const backend of backends(testbed)) {
  describe(backend.name, () => {
    before(async () => {
      tc = await startTestCore({ maxFailedLogins: 3, databaseUrl: await backend.databaseUrl() });
      alice = await tc.user('alice');
    });
    after(() => tc?.close());

    test('login sets an httpOnly, SameSite=Strict session cookie that authenticates reads', async () => {
      const response = await signIn('alice', TEST_PASSWORD);
      assert.equal(response.status, 200);
      assert.equal(response.body.user.username, 'alice');
      const cookie = response.headers.get('set-cookie') ?? '';
      assert.match(
        cookie,
        /^leengine_session=lee_s_[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/,
      );
      const me = await tc.anonymous
        .withCookie(cookie.split(';')[0] ?? '', { clientHeader: false })
        .get('/api/v1/user');
      assert.equal(me.status, 200);
      assert.equal(me.body.username, 'alice');
    });

    test('cookie-authenticated changes need the client header and no foreign Origin (CSRF)', async () => {
      const cookie = await login(tc.anonymous, 'alice', TEST_PASSWORD);
      const bare = tc.anonymous.withCookie(cookie, { clientHeader: false });
      const refused = await bare.post('/api/v1/applications', { name: 'csrf-victim' });
      assert.equal(refused.status, 403);
      assert.match(refused.body.detail, /x-leengine-client/);
      const foreign = await tc.anonymous
        .withCookie(cookie)
        .withHeaders({ origin: 'https://evil.example' })
        .post('/api/v1/applications', { name: 'csrf-victim' });
      assert.equal(foreign.status, 403);
      assert.match(foreign.body.detail, /cross-origin/);
      assert.equal((await alice.get('/api/v1/applications/csrf-victim')).status, 404, 'nothing was created');

      const host = new URL(tc.url).host;
      const same = await tc.anonymous
        .withCookie(cookie)
        .withHeaders({ origin: `http://${host}` })
        .post('/api/v1/applications', { name: 'from-console' });
      assert.equal(same.status, 201);
      // Sign-in itself needs the header too (login CSRF).
      assert.equal((await signIn('alice', TEST_PASSWORD, {})).status, 403);
      // Bearer tokens are not sent by browsers on their own: no header needed.
      assert.equal(
        (await alice.patch('/api/v1/applications/from-console', { description: 'x' })).status,
        200,
      );
    });

    test('a wrong password and an unknown user get the same 401', async () => {
      const wrong = await signIn('alice', 'not the password');
      const unknown = await signIn('nobody-here', 'not the password');
      assert.equal(wrong.status, 401);
      assert.equal(unknown.status, 401);
      assert.equal(wrong.body.detail, unknown.body.detail);
      assert.equal(wrong.body.type, 'urn:leengine:problem:not-authenticated');
    });

    test('failed logins are rate-limited per username and address, also for the right password', async () => {
      await tc.user('mallory-target');
      for (let i = 0; i < 3; i++)
        assert.equal((await signIn('mallory-target', `guess-${i}-guess`)).status, 401);
      const limited = await signIn('mallory-target', TEST_PASSWORD);
      assert.equal(limited.status, 429);
      assert.equal(limited.body.type, 'urn:leengine:problem:rate-limited');
      assert.equal(limited.headers.get('retry-after'), '900');
      assert.equal((await signIn('alice', TEST_PASSWORD)).status, 200, 'other users are not affected');
      tc.clock.advance(15 * 60_000);
      assert.equal((await signIn('mallory-target', TEST_PASSWORD)).status, 200, 'the window ends');
    });

    test('personal access tokens: shown once, stored hashed, listed without secret, revocable', async () => {
      const created = await alice.post('/api/v1/user/tokens', { name: 'ci', expiresInDays: 7 });
      assert.equal(created.status, 201);
      const secret = created.body.token as string;
      assert.match(secret, /^lee_pat_[A-Za-z0-9_-]{43}$/);
      assert.equal(
        created.body.expiresAt,
        new Date(tc.clock.clock().getTime() + 7 * 86_400_000).toISOString(),
      );

      const listed = await alice.get('/api/v1/user/tokens');
      const entry = listed.body.items.find((t: { id: number }) => t.id === created.body.id);
      assert.deepEqual(Object.keys(entry).sort(), ['createdAt', 'expiresAt', 'id', 'lastUsedAt', 'name']);
      assert.ok(!JSON.stringify(listed.body).includes(secret));
      const stored = await tc.core.db.query<{ row: string }>(
        'select row_to_json(t)::text as row from access_tokens t',
      );
      assert.ok(
        stored.every((r) => !r.row.includes(secret)),
        'the secret is not in the database',
      );

      const viaToken = tc.anonymous.as(secret);
      assert.equal((await viaToken.get('/api/v1/user')).status, 200);
      const used = (await alice.get('/api/v1/user/tokens')).body.items.find(
        (t: { id: number }) => t.id === created.body.id,
      );
      assert.equal(used.lastUsedAt, tc.clock.clock().toISOString());

      assert.equal((await alice.delete(`/api/v1/user/tokens/${created.body.id}`)).status, 204);
      const revoked = await viaToken.get('/api/v1/user');
      assert.equal(revoked.status, 401);
      assert.match(revoked.body.detail, /revoked/);
      assert.equal((await alice.delete(`/api/v1/user/tokens/${created.body.id}`)).status, 404);
      // Someone else's token id is "not found" too.
      const bob = await tc.user('bob');
      const bobs = await bob.post('/api/v1/user/tokens', { name: 'x' });
      assert.equal((await alice.delete(`/api/v1/user/tokens/${bobs.body.id}`)).status, 404);
      assert.equal((await tc.anonymous.as(bobs.body.token).get('/api/v1/user')).status, 200);
    });

    test('expired tokens and sessions stop working', async () => {
      const short = await alice.post('/api/v1/user/tokens', { name: 'short', expiresInDays: 1 });
      const cookie = await login(tc.anonymous, 'alice', TEST_PASSWORD);
      const byToken = tc.anonymous.as(short.body.token);
      const bySession = tc.anonymous.withCookie(cookie);
      assert.equal((await byToken.get('/api/v1/user')).status, 200);
      tc.clock.advance(13 * 3_600_000);
      const session = await bySession.get('/api/v1/user');
      assert.equal(session.status, 401, 'sessions last 12 hours');
      assert.match(session.body.detail, /session expired/);
      tc.clock.advance(12 * 3_600_000);
      const token = await byToken.get('/api/v1/user');
      assert.equal(token.status, 401);
      assert.match(token.body.detail, /token expired/);
    });

    test('bad credentials are 401, never anonymous access', async () => {
      for (const authorization of [
        'Basic YWxpY2U6eA==',
        'Bearer',
        'Bearer lee_pat_nope',
        'Bearer a b',
        'token x',
      ]) {
        const response = await tc.anonymous.withHeaders({ authorization }).get('/api/v1/user');
        assert.equal(response.status, 401, authorization);
      }
      const forged = await tc.anonymous.withCookie('leengine_session=lee_s_forged').get('/api/v1/user');
      assert.equal(forged.status, 401);
      assert.equal((await tc.anonymous.get('/api/v1/applications')).status, 401);
      assert.equal(
        (await tc.anonymous.get('/api/v1/permissions')).status,
        200,
        'the permission table is public',
      );
    });

    test('logout ends the session; a password change ends the other sessions', async () => {
      const first = await login(tc.anonymous, 'alice', TEST_PASSWORD);
      const second = await login(tc.anonymous, 'alice', TEST_PASSWORD);
      const out = await tc.anonymous.withCookie(first).delete('/api/v1/session');
      assert.equal(out.status, 204);
      assert.match(out.headers.get('set-cookie') ?? '', /^leengine_session=; .*Max-Age=0/);
      assert.equal((await tc.anonymous.withCookie(first).get('/api/v1/user')).status, 401);
      assert.equal((await tc.anonymous.withCookie(second).get('/api/v1/user')).status, 200);

      const third = await login(tc.anonymous, 'alice', TEST_PASSWORD);
      const wrong = await tc.anonymous
        .withCookie(third)
        .put('/api/v1/user/password', { currentPassword: 'not it', newPassword: 'a new long password' });
      assert.equal(wrong.status, 403);
      const changed = await tc.anonymous
        .withCookie(third)
        .put('/api/v1/user/password', { currentPassword: TEST_PASSWORD, newPassword: 'a new long password' });
      assert.equal(changed.status, 204);
      assert.equal(
        (await tc.anonymous.withCookie(second).get('/api/v1/user')).status,
        401,
        'other sessions end',
      );
      assert.equal((await tc.anonymous.withCookie(third).get('/api/v1/user')).status, 200, 'this one stays');
      assert.equal((await signIn('alice', TEST_PASSWORD)).status, 401);
      assert.equal((await signIn('alice', 'a new long password')).status, 200);
    });

    test('a disabled user is locked out at once, token and session; the last admin stays an admin', async () => {
      const dave = await tc.user('dave');
      const cookie = await login(tc.anonymous, 'dave', TEST_PASSWORD);
      assert.equal((await tc.admin.patch('/api/v1/users/dave', { disabled: true })).status, 200);
      assert.equal((await dave.get('/api/v1/user')).status, 401);
      assert.equal((await tc.anonymous.withCookie(cookie).get('/api/v1/user')).status, 401);
      assert.equal((await signIn('dave', TEST_PASSWORD)).status, 401);
      assert.equal((await tc.admin.patch('/api/v1/users/dave', { disabled: false })).status, 200);
      assert.equal((await dave.get('/api/v1/user')).status, 200, 'tokens work again once enabled');

      const demote = await tc.admin.patch('/api/v1/users/admin', { admin: false });
      assert.equal(demote.status, 409);
      assert.equal((await tc.admin.patch('/api/v1/users/admin', { disabled: true })).status, 409);
      assert.equal(
        (await alice.patch('/api/v1/users/dave', { admin: true })).status,
        403,
        'only admins manage users',
      );
      assert.equal(
        (await alice.post('/api/v1/users', { username: 'eve', password: TEST_PASSWORD })).status,
        403,
      );
    });

    test('users see each other by name (to add members), e-mail only for themselves and admins', async () => {
      assert.equal(
        (
          await tc.admin.post('/api/v1/users', {
            username: 'erin',
            password: TEST_PASSWORD,
            email: 'erin@example.com',
          })
        ).status,
        201,
      );
      const seen = await alice.get('/api/v1/users/erin');
      assert.equal(seen.status, 200);
      assert.equal(seen.body.email, null);
      assert.equal((await tc.admin.get('/api/v1/users/erin')).body.email, 'erin@example.com');
      const found = await alice.get('/api/v1/users?q=eri');
      assert.deepEqual(
        found.body.items.map((u: { username: string }) => u.username),
        ['erin'],
      );
      assert.equal(
        (await tc.admin.post('/api/v1/users', { username: 'erin', password: TEST_PASSWORD })).status,
        409,
      );
    });

    test('checked credentials are reused for 5 s; changes made through core drop them at once', async () => {
      const frank = await tc.user('frank');
      assert.equal((await frank.get('/api/v1/statistics/summary')).status, 403);
      // Behind core's back (another core sharing the database): seen once the 5 s are over.
      await tc.core.db.query(`update users set admin = true where username = 'frank'`);
      assert.equal(
        (await frank.get('/api/v1/statistics/summary')).status,
        403,
        'the cached caller is not an admin',
      );
      tc.clock.advance(5_000);
      assert.equal((await frank.get('/api/v1/statistics/summary')).status, 200, 'read again after 5 s');
      // Through core: at once.
      assert.equal((await tc.admin.patch('/api/v1/users/frank', { admin: false })).status, 200);
      assert.equal(
        (await frank.get('/api/v1/statistics/summary')).status,
        403,
        'admin flag taken away at once',
      );
      const token = await frank.post('/api/v1/user/tokens', { name: 'short-lived' });
      const byToken = tc.anonymous.as(token.body.token);
      assert.equal((await byToken.get('/api/v1/user')).status, 200);
      assert.equal((await frank.delete(`/api/v1/user/tokens/${token.body.id}`)).status, 204);
      assert.equal((await byToken.get('/api/v1/user')).status, 401, 'revoked at once');
    });
  });
}
