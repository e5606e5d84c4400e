import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { useTestbed } from '@leengine/testbed';
import type { ApiClient } from '../testing/apiClient.ts';
import { backends } from '../testing/backends.ts';
import { startTestCore, type TestCore } from '../testing/testCore.ts';

let tc: TestCore;
const NAMES = ['olga', 'mark', 'dora', 'rita', 'gus', 'nina', 'otto'] as const;
const u = {} as Record<(typeof NAMES)[number], ApiClient>;

/** Members as "name: role", inherited ones marked with where they come from. */
const roles = async (client: ApiClient, path: string): Promise<string[]> =>
  (await client.get(`${path}/members`)).body.items.map(
    (m: { username: string; role: string; source: string }) =>
      `${m.username}: ${m.role}${m.source === 'direct' ? '' : ` (${m.source})`}`,
  );

const testbed = useTestbed();

for (const backend of backends(testbed)) {
  describe(backend.name, () => {
    before(async () => {
      tc = await startTestCore({ databaseUrl: await backend.databaseUrl() });
      for (const name of NAMES) u[name] = await tc.user(name);
    });
    after(() => tc?.close());

    test('the creator is Owner; Owners and Masters manage members, never above their own role', async () => {
      const { olga, mark, dora, nina } = u;
      const app = '/api/v1/applications/shop';
      assert.equal((await olga.post('/api/v1/applications', { name: 'shop' })).status, 201);
      assert.deepEqual(await roles(olga, app), ['olga: owner']);

      assert.equal((await olga.post(`${app}/members`, { username: 'mark', role: 'master' })).status, 201);
      assert.equal((await mark.post(`${app}/members`, { username: 'dora', role: 'developer' })).status, 201);
      const tooHigh = await mark.post(`${app}/members`, { username: 'rita', role: 'owner' });
      assert.equal(tooHigh.status, 403, 'a Master cannot make Owners');
      assert.equal((await mark.put(`${app}/members/olga`, { role: 'guest' })).status, 403, 'nor demote one');
      assert.equal((await mark.delete(`${app}/members/olga`)).status, 403, 'nor remove one');
      assert.equal(
        (await mark.put(`${app}/members/dora`, { role: 'master' })).status,
        200,
        'up to their own role',
      );
      assert.equal((await dora.post(`${app}/members`, { username: 'gus', role: 'guest' })).status, 201);
      assert.equal((await dora.put(`${app}/members/dora`, { role: 'developer' })).status, 200);
      const developer = await dora.post(`${app}/members`, { username: 'rita', role: 'guest' });
      assert.equal(developer.status, 403, 'a Developer does not manage members');
      assert.equal((await nina.get(`${app}/members`)).status, 404, 'a non-member does not see them');

      assert.equal(
        (await olga.post(`${app}/members`, { username: 'dora', role: 'guest' })).status,
        409,
        'already a member',
      );
      const unknown = await olga.post(`${app}/members`, { username: 'nobody', role: 'guest' });
      assert.equal(unknown.status, 400);
      assert.deepEqual(unknown.body.errors, [{ in: 'body', path: 'username', message: 'no such user' }]);
      assert.deepEqual(await roles(olga, app), [
        'olga: owner',
        'mark: master',
        'dora: developer',
        'gus: guest',
      ]);
    });

    test('anyone may leave; the last Owner may not leave or be demoted', async () => {
      const { olga, gus, nina } = u;
      const app = '/api/v1/applications/shop';
      assert.equal((await gus.delete(`${app}/members/gus`)).status, 204, 'a Guest leaves');
      assert.equal((await gus.get(app)).status, 404, 'and no longer sees it');
      assert.equal((await nina.delete(`${app}/members/nina`)).status, 404);

      const leave = await olga.delete(`${app}/members/olga`);
      assert.equal(leave.status, 409);
      assert.match(leave.body.detail, /last Owner/);
      assert.equal((await olga.put(`${app}/members/olga`, { role: 'master' })).status, 409);
      assert.equal((await olga.put(`${app}/members/mark`, { role: 'owner' })).status, 200);
      assert.equal(
        (await olga.delete(`${app}/members/olga`)).status,
        204,
        'with a second Owner the first may go',
      );
      assert.equal((await olga.get(app)).status, 404);
      // Admins may do anything, also grant Owner and remove one.
      assert.equal((await tc.admin.post(`${app}/members`, { username: 'olga', role: 'owner' })).status, 201);
      assert.equal((await tc.admin.delete(`${app}/members/mark`)).status, 204);
    });

    test('an image repository inherits its group’s members, and its own grant can raise a role', async () => {
      const { olga, dora, rita, gus, nina } = u;
      const group = '/api/v1/image-groups/shop';
      const repo = `${group}/repositories/api`;
      assert.equal((await olga.post('/api/v1/image-groups', { name: 'shop' })).status, 201);
      assert.equal(
        (await olga.post(`${group}/members`, { username: 'dora', role: 'developer' })).status,
        201,
      );
      assert.equal((await olga.post(`${group}/members`, { username: 'gus', role: 'guest' })).status, 201);
      // A group Developer may create repositories (and becomes their Owner); a Guest may not.
      assert.equal((await gus.post(`${group}/repositories`, { name: 'nope' })).status, 403);
      const created = await dora.post(`${group}/repositories`, { name: 'api' });
      assert.equal(created.status, 201);
      assert.equal(created.body.callerRole, 'owner');

      assert.deepEqual(await roles(olga, repo), [
        'dora: owner',
        'olga: owner (image-group)',
        'dora: developer (image-group)',
        'gus: guest (image-group)',
      ]);
      const actions = async (c: ApiClient) => (await c.get(`${repo}/access`)).body;
      assert.deepEqual((await actions(gus)).actions, ['read']);
      // A finer grant than the group's: Gus pushes to this repository only.
      assert.equal((await dora.post(`${repo}/members`, { username: 'gus', role: 'developer' })).status, 201);
      assert.equal((await actions(gus)).role, 'developer');
      assert.ok((await actions(gus)).actions.includes('push'));
      // A repository member who is not in the group sees the repository, not the group.
      assert.equal((await dora.post(`${repo}/members`, { username: 'rita', role: 'reporter' })).status, 201);
      assert.equal((await rita.get(repo)).status, 200);
      assert.equal((await rita.get(group)).status, 404);
      assert.equal((await nina.get(repo)).status, 404);
      // Its direct Owners may all leave: the group's Owners remain Owners.
      assert.equal((await dora.delete(`${repo}/members/dora`)).status, 204);
      assert.equal((await actions(dora)).role, 'developer', 'dora keeps her group role');
    });

    test('public repositories are listed and readable for everyone; private ones only for members', async () => {
      const { olga, nina } = u;
      assert.equal((await olga.post('/api/v1/image-groups', { name: 'base' })).status, 201);
      assert.equal(
        (await olga.post('/api/v1/image-groups/base/repositories', { name: 'debian', public: true })).status,
        201,
      );
      assert.equal(
        (await olga.post('/api/v1/image-groups/base/repositories', { name: 'secret' })).status,
        201,
      );
      const listed = (await nina.get('/api/v1/image-repositories')).body.items.map(
        (r: { fullName: string }) => r.fullName,
      );
      assert.deepEqual(listed, ['base/debian']);
      const seen = await nina.get('/api/v1/image-groups/base/repositories/debian');
      assert.equal(seen.status, 200);
      assert.equal(seen.body.callerRole, null);
      assert.equal((await nina.get('/api/v1/image-groups/base/repositories/secret')).status, 404);
      assert.equal(
        (await nina.patch('/api/v1/image-groups/base/repositories/debian', { public: false })).status,
        403,
      );
      assert.equal(
        (await olga.patch('/api/v1/image-groups/base/repositories/debian', { public: false })).status,
        200,
      );
      assert.equal(
        (await nina.get('/api/v1/image-groups/base/repositories/debian')).status,
        404,
        'private now',
      );
      assert.deepEqual((await nina.get('/api/v1/image-repositories')).body.items, []);
      // The group's listing of its repositories needs the group.
      assert.equal((await nina.get('/api/v1/image-groups/base/repositories')).status, 404);
      assert.equal((await olga.get('/api/v1/image-groups/base/repositories')).body.items.length, 2);
    });

    test('a build project may only push where its creator may push', async () => {
      const { olga, gus, nina, otto } = u;
      const project = (name: string, imageRepository: string) => ({
        name,
        gitUrl: 'https://git.example.com/shop/api.git',
        imageRepository,
      });
      // gus is a Guest of group "shop", but a Developer on shop/api.
      assert.equal((await gus.post('/api/v1/build-projects', project('api-build', 'shop/api'))).status, 201);
      assert.equal((await olga.post('/api/v1/image-groups/shop/repositories', { name: 'web' })).status, 201);
      assert.equal((await gus.post('/api/v1/build-projects', project('web-build', 'shop/web'))).status, 403);
      const hidden = await nina.post('/api/v1/build-projects', project('web-build', 'shop/web'));
      assert.equal(hidden.status, 400, 'a repository the caller cannot see is bad input, not a leak');
      assert.equal(hidden.body.errors[0].path, 'imageRepository');
      assert.equal(
        (await otto.post('/api/v1/build-projects', project('api-build', 'base/debian'))).status,
        400,
      );
      // Re-pointing an existing project needs push on the new target too.
      assert.equal(
        (await gus.patch('/api/v1/build-projects/api-build', { imageRepository: 'shop/web' })).status,
        403,
      );
      // A repository a project pushes to cannot be deleted; nor a group that holds repositories.
      const inUse = await tc.admin.delete('/api/v1/image-groups/shop/repositories/api');
      assert.equal(inUse.status, 409);
      assert.match(inUse.body.detail, /build project/);
      assert.equal((await tc.admin.delete('/api/v1/image-groups/shop')).status, 409);
      assert.equal((await gus.delete('/api/v1/build-projects/api-build')).status, 204);
      assert.equal((await tc.admin.delete('/api/v1/image-groups/shop/repositories/api')).status, 204);
    });

    test('names are unique: applications globally (they are namespaces), repositories within their group', async () => {
      const { olga, nina } = u;
      assert.equal(
        (await nina.post('/api/v1/applications', { name: 'shop' })).status,
        409,
        'even if invisible to nina',
      );
      assert.equal(
        (await olga.post('/api/v1/image-groups/base/repositories', { name: 'secret' })).status,
        409,
      );
      assert.equal((await nina.post('/api/v1/image-groups', { name: 'mine' })).status, 201);
      assert.equal(
        (await nina.post('/api/v1/image-groups/mine/repositories', { name: 'secret' })).status,
        201,
      );
    });
  });
}
