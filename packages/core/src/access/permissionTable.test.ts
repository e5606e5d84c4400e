// The permission table, walked through the real HTTP API: every resource kind x action x
// subject (each role, a non-member, an admin, anonymous, an expired and a revoked token),
// on PostgreSQL. Actions with an endpoint are called; every action is also checked through
// the resource's /access answer, which is what the console and the registry token service use.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  actionsOf,
  can,
  PERMISSIONS,
  RESOURCE_KINDS,
  type ResourceKind,
  ROLES,
  type Role,
  rolesFor,
} from '@leengine/common';
import { useTestbed } from '@leengine/testbed';
import type { ApiClient } from '../testing/apiClient.ts';
import { startTestCore, type TestCore } from '../testing/testCore.ts';

const testbed = useTestbed();
let tc: TestCore;

type Subject = Role | 'non-member' | 'admin' | 'anonymous' | 'expired-token' | 'revoked-token';
const SUBJECTS: Subject[] = [...ROLES, 'non-member', 'admin', 'anonymous', 'expired-token', 'revoked-token'];

const clients = new Map<Subject, ApiClient>();
const client = (s: Subject) => clients.get(s) as ApiClient;

before(async () => {
  const postgres = await testbed.postgres();
  tc = await startTestCore({ databaseUrl: await postgres.createDatabase('permission_table') });
  for (const role of ROLES) clients.set(role, await tc.user(`u-${role}`));
  clients.set('non-member', await tc.user('u-outsider'));
  clients.set('admin', await tc.user('u-admin', { admin: true }));
  clients.set('anonymous', tc.anonymous);
  // u-newcomer is who manage-members adds.
  await tc.user('u-newcomer');
  // The owner creates every fixture: lift their application quota.
  assert.equal((await tc.admin.put('/api/v1/users/u-owner/quota', { applications: 1000 })).status, 200);

  // A token of the Owner that expires in a day, and one that is revoked.
  const owner = client('owner');
  const expiring = await owner.post('/api/v1/user/tokens', { name: 'short', expiresInDays: 1 });
  clients.set('expired-token', tc.anonymous.as(expiring.body.token));
  const revoked = await owner.post('/api/v1/user/tokens', { name: 'revoked' });
  assert.equal((await owner.delete(`/api/v1/user/tokens/${revoked.body.id}`)).status, 204);
  clients.set('revoked-token', tc.anonymous.as(revoked.body.token));
  tc.clock.advance(2 * 86_400_000);
});
after(() => tc?.close());

/** Where each kind's resource lives and how an owner makes one with every role as member. */
interface Fixture {
  /** API path of the resource. */
  path: string;
}

let counter = 0;
const fresh = (prefix: string) => `${prefix}-${++counter}`;

async function addMembers(path: string, via: 'owner' | 'admin' = 'owner'): Promise<void> {
  for (const role of ROLES.filter((r) => r !== 'owner')) {
    const added = await client(via === 'owner' ? 'owner' : 'admin').post(`${path}/members`, {
      username: `u-${role}`,
      role,
    });
    assert.equal(added.status, 201, `add ${role} to ${path}: ${JSON.stringify(added.body)}`);
  }
}

async function created(response: Promise<{ status: number; body: unknown }>, what: string) {
  const r = await response;
  assert.equal(r.status, 201, `${what}: ${JSON.stringify(r.body)}`);
}

/**
 * A fresh resource of `kind` created by u-owner, every other role a member. Image
 * repositories get their roles either directly or through their group (`via`).
 */
async function makeFixture(
  kind: ResourceKind,
  options: { public?: boolean; via?: 'direct' | 'group' } = {},
): Promise<Fixture> {
  const owner = client('owner');
  switch (kind) {
    case 'application': {
      const name = fresh('app');
      await created(owner.post('/api/v1/applications', { name }), name);
      await addMembers(`/api/v1/applications/${name}`);
      return { path: `/api/v1/applications/${name}` };
    }
    case 'image-group': {
      const name = fresh('grp');
      await created(owner.post('/api/v1/image-groups', { name }), name);
      await addMembers(`/api/v1/image-groups/${name}`);
      return { path: `/api/v1/image-groups/${name}` };
    }
    case 'image-repository': {
      const group = fresh('rgrp');
      await created(owner.post('/api/v1/image-groups', { name: group }), group);
      await created(
        owner.post(`/api/v1/image-groups/${group}/repositories`, {
          name: 'repo',
          public: options.public ?? false,
        }),
        `${group}/repo`,
      );
      const path = `/api/v1/image-groups/${group}/repositories/repo`;
      await addMembers(options.via === 'group' ? `/api/v1/image-groups/${group}` : path);
      return { path };
    }
    case 'build-project': {
      const group = fresh('bgrp');
      await created(owner.post('/api/v1/image-groups', { name: group }), group);
      await created(
        owner.post(`/api/v1/image-groups/${group}/repositories`, { name: 'out' }),
        `${group}/out`,
      );
      const name = fresh('build');
      await created(
        owner.post('/api/v1/build-projects', {
          name,
          gitUrl: 'https://git.example.com/team/web.git',
          imageRepository: `${group}/out`,
        }),
        name,
      );
      await addMembers(`/api/v1/build-projects/${name}`);
      return { path: `/api/v1/build-projects/${name}` };
    }
  }
}

/** The actions that have an endpoint today: how to call them and what success looks like. */
type Call = { method: string; path: (f: Fixture) => string; body?: () => unknown; ok: number };
const CALLS: Partial<Record<string, Call>> = {
  read: { method: 'GET', path: (f) => f.path, ok: 200 },
  update: { method: 'PATCH', path: (f) => f.path, body: () => ({ description: 'changed' }), ok: 200 },
  'read-activity': { method: 'GET', path: (f) => `${f.path}/activity`, ok: 200 },
  'manage-members': {
    method: 'POST',
    path: (f) => `${f.path}/members`,
    body: () => ({ username: 'u-newcomer', role: 'guest' }),
    ok: 201,
  },
  'manage-robots': {
    method: 'POST',
    path: (f) => `${f.path}/robots`,
    body: () => ({ name: fresh('bot') }),
    ok: 201,
  },
  'create-repository': {
    method: 'POST',
    path: (f) => `${f.path}/repositories`,
    body: () => ({ name: fresh('made') }),
    ok: 201,
  },
  // Last: it removes the fixture.
  delete: { method: 'DELETE', path: (f) => f.path, ok: 204 },
};

/** What the table says a subject gets for an action: the success status, 401, 403 or 404. */
function expected(kind: ResourceKind, action: string, subject: Subject, isPublic: boolean): 'ok' | number {
  if (subject === 'anonymous' || subject === 'expired-token' || subject === 'revoked-token') return 401;
  const grant = {
    role: (ROLES as readonly string[]).includes(subject) ? (subject as Role) : null,
    admin: subject === 'admin',
    public: isPublic,
  };
  if (grant.role === null && !grant.admin && !(isPublic && PERMISSIONS[kind].read?.public)) return 404;
  return can(grant, kind, action) ? 'ok' : 403;
}

interface Case {
  kind: ResourceKind;
  variant: string;
  options: { public?: boolean; via?: 'direct' | 'group' };
}

const CASES: Case[] = RESOURCE_KINDS.flatMap((kind): Case[] =>
  kind === 'image-repository'
    ? [
        { kind, variant: 'private, roles on the repository', options: { via: 'direct' } },
        { kind, variant: 'private, roles inherited from the group', options: { via: 'group' } },
        { kind, variant: 'public', options: { public: true, via: 'direct' } },
      ]
    : [{ kind, variant: '', options: {} }],
);

for (const { kind, variant, options } of CASES) {
  test(`the permission table holds over HTTP: ${kind}${variant ? ` (${variant})` : ''} x every action x every subject`, async () => {
    const mismatches: string[] = [];
    for (const subject of SUBJECTS) {
      const fixture = await makeFixture(kind, options);
      const actions = actionsOf(kind);
      // The /access answer: every action of the table, called or not.
      const access = await client(subject).get(`${fixture.path}/access`);
      const allowed = actions.filter((a) => expected(kind, a, subject, options.public === true) === 'ok');
      const readOutcome = expected(kind, 'read', subject, options.public === true);
      if (readOutcome === 'ok') {
        if (access.status !== 200 || JSON.stringify(access.body.actions) !== JSON.stringify(allowed)) {
          mismatches.push(
            `${subject} GET /access: ${access.status} ${JSON.stringify(access.body.actions)}, table: ${JSON.stringify(allowed)}`,
          );
        }
      } else if (access.status !== readOutcome) {
        mismatches.push(`${subject} GET /access: ${access.status}, expected ${readOutcome}`);
      }
      // The actions with an endpoint, called for real (delete last).
      for (const [action, call] of Object.entries(CALLS)) {
        if (!call || !actions.includes(action)) continue;
        const want = expected(kind, action, subject, options.public === true);
        const response = await client(subject).request(call.method, call.path(fixture), call.body?.());
        const wantStatus = want === 'ok' ? call.ok : want;
        if (response.status !== wantStatus) {
          mismatches.push(
            `${subject} ${action} (${call.method} ${call.path(fixture)}): ${response.status}, table says ${wantStatus} ${JSON.stringify(response.body)}`,
          );
        }
        if (want !== 'ok' && want !== 401 && response.body?.type === undefined) {
          mismatches.push(`${subject} ${action}: refusal without a problem body`);
        }
        // A group that got a repository cannot be deleted: remove it again (as admin).
        if (action === 'create-repository' && response.status === 201) {
          const made = `${fixture.path}/repositories/${response.body.name}`;
          assert.equal((await client('admin').delete(made)).status, 204);
        }
      }
    }
    assert.deepEqual(mismatches, []);
  });
}

test('every rule of the table is exercised by the walk above (no action without a row)', () => {
  for (const kind of RESOURCE_KINDS) {
    for (const action of actionsOf(kind)) {
      const roles = rolesFor(PERMISSIONS[kind][action] as (typeof PERMISSIONS)[ResourceKind][string]);
      assert.ok(roles.length > 0, `${kind}:${action} allows nobody`);
      assert.ok(roles.includes('owner'), `${kind}:${action}: an Owner may do everything`);
    }
  }
});

test("the seed's rules, stated independently of the table", async () => {
  const app = await makeFixture('application');
  const access = async (s: Subject, path: string) =>
    (await client(s).get(`${path}/access`)).body.actions as string[];
  // Only Owner and Master deploy new versions and scale.
  for (const role of ROLES) {
    const actions = await access(role, app.path);
    const mayDeploy = role === 'owner' || role === 'master';
    assert.equal(actions.includes('deploy'), mayDeploy, `${role} deploy`);
    assert.equal(actions.includes('scale'), mayDeploy, `${role} scale`);
  }
  // A non-member does not see the application at all: the same 404 as for no application.
  const name = app.path.split('/').pop();
  const hidden = await client('non-member').get(app.path);
  const missing = await client('non-member').get('/api/v1/applications/no-such-app');
  assert.equal(hidden.status, 404);
  assert.equal(missing.status, 404);
  assert.equal(hidden.body.detail, `application "${name}" not found`);
  assert.equal(missing.body.detail, 'application "no-such-app" not found');
  // Public images are pullable by everyone; private ones not by a Guest or an outsider.
  const pub = await makeFixture('image-repository', { public: true });
  assert.ok((await access('non-member', pub.path)).includes('pull'));
  assert.ok(!(await access('non-member', pub.path)).includes('push'));
  const priv = await makeFixture('image-repository');
  assert.ok(!(await access('guest', priv.path)).includes('pull'));
  assert.equal((await client('non-member').get(`${priv.path}/access`)).status, 404);
});
