// The permission table, walked through the real HTTP API: every resource kind x action x
// subject (each role, a non-member, an admin, anonymous, an expired and a revoked token),
// on PostgreSQL with etcd (so the SLB's and fixed addresses' routes are served). Every
// action with an endpoint is called for real (pull and push through the registry's token
// endpoint); the test fails if an action of the table is neither called nor listed as
// having no endpoint. Every action is also checked through the resource's /access answer,
// which is what the console shows.
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
import { TOKEN_PATH } from '../registry/registryRoutes.ts';
import type { ApiClient } from '../testing/apiClient.ts';
import { startTestCore, TEST_PASSWORD, type TestCore } from '../testing/testCore.ts';
import { notFound } from './resourceRef.ts';

const testbed = useTestbed();
let tc: TestCore;

type Subject = Role | 'non-member' | 'admin' | 'anonymous' | 'expired-token' | 'revoked-token';
const SUBJECTS: Subject[] = [...ROLES, 'non-member', 'admin', 'anonymous', 'expired-token', 'revoked-token'];

const clients = new Map<Subject, ApiClient>();
const client = (s: Subject) => clients.get(s) as ApiClient;
/** What each subject sends to the registry's token endpoint (Basic auth); anonymous: nothing. */
const registryLogins = new Map<Subject, { username: string; password: string }>();

before(async () => {
  const postgres = await testbed.postgres();
  const etcd = await testbed.etcd();
  tc = await startTestCore({
    databaseUrl: await postgres.createDatabase('permission_table'),
    etcdEndpoints: etcd.url,
  });
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
  for (const role of ROLES) registryLogins.set(role, { username: `u-${role}`, password: TEST_PASSWORD });
  registryLogins.set('non-member', { username: 'u-outsider', password: TEST_PASSWORD });
  registryLogins.set('admin', { username: 'u-admin', password: TEST_PASSWORD });
  registryLogins.set('expired-token', { username: 'u-owner', password: expiring.body.token });
  registryLogins.set('revoked-token', { username: 'u-owner', password: revoked.body.token });
  tc.clock.advance(2 * 86_400_000);
});
after(() => tc?.close());

/** Where each kind's resource lives and how an owner makes one with every role as member. */
interface Fixture {
  /** API path of the resource. */
  path: string;
  /** The resource's name (`group/name` for repositories). */
  name: string;
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
      return { path: `/api/v1/applications/${name}`, name };
    }
    case 'image-group': {
      const name = fresh('grp');
      await created(owner.post('/api/v1/image-groups', { name }), name);
      await addMembers(`/api/v1/image-groups/${name}`);
      return { path: `/api/v1/image-groups/${name}`, name };
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
      return { path, name: `${group}/repo` };
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
      return { path: `/api/v1/build-projects/${name}`, name };
    }
  }
}

/**
 * How each action with an endpoint is called, and what success looks like: a status, or
 * `past-authorization` where, without cells or a registry, the call is refused later
 * (409 no region, 503 no registry, 404 no such cell...) after the role check passed.
 */
type Call = {
  method: string;
  path: (f: Fixture) => string;
  body?: () => unknown;
  ok: number | 'past-authorization';
};
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
  deploy: {
    method: 'POST',
    path: (f) => `${f.path}/versions`,
    body: () => ({
      image: { repository: 'elsewhere/web', tag: 'v1' },
      instances: 1,
      cpu: { requestMillicores: 20, limitMillicores: 200 },
      memory: { requestMib: 16, limitMib: 64 },
    }),
    ok: 'past-authorization',
  },
  scale: {
    method: 'POST',
    path: (f) => `${f.path}/versions/v1/scale`,
    body: () => ({ instances: 2 }),
    ok: 'past-authorization',
  },
  rollback: {
    method: 'POST',
    path: (f) => `${f.path}/rollback`,
    body: () => ({ version: 'v1' }),
    ok: 'past-authorization',
  },
  logs: {
    method: 'GET',
    path: (f) => `${f.path}/cells/cell-a/containers/web-1/logs`,
    ok: 'past-authorization',
  },
  exec: {
    method: 'POST',
    path: (f) => `${f.path}/cells/cell-a/containers/web-1/exec`,
    body: () => ({ command: ['true'] }),
    ok: 'past-authorization',
  },
  'manage-domains': {
    method: 'POST',
    path: (f) => `${f.path}/domains`,
    body: () => ({ domain: `${fresh('d')}.example.com`, group: 'no-such-group' }),
    ok: 'past-authorization',
  },
  'manage-fixed-addresses': {
    method: 'PUT',
    path: (f) => `${f.path}/fixed-addresses`,
    body: () => ({ size: 4 }),
    ok: 'past-authorization',
  },
  'delete-tag': { method: 'DELETE', path: (f) => `${f.path}/tags/v1`, ok: 'past-authorization' },
  // Builds need the region registry (409 without it): there is no build 1 to cancel either.
  'trigger-build': {
    method: 'POST',
    path: (f) => `${f.path}/builds`,
    body: () => ({}),
    ok: 'past-authorization',
  },
  'cancel-build': { method: 'POST', path: (f) => `${f.path}/builds/1/cancel`, ok: 'past-authorization' },
  // Last: it removes the fixture.
  delete: { method: 'DELETE', path: (f) => f.path, ok: 204 },
};

/** Actions enforced by the registry's token endpoint: the scope it grants. */
const REGISTRY_ACTIONS: Partial<Record<ResourceKind, Record<string, string>>> = {
  'image-repository': { pull: 'pull', push: 'push' },
};

/** Actions of the table that no endpoint serves yet (the test fails once one does). */
const NO_ENDPOINT: Partial<Record<ResourceKind, Record<string, string>>> = {};

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
        const path = call.path(fixture);
        const response = await client(subject).request(call.method, path, call.body?.());
        const got = `${subject} ${action} (${call.method} ${path}): ${response.status} ${JSON.stringify(response.body)}`;
        const hidden = notFound(kind, fixture.name).message;
        if (want === 'ok' && call.ok === 'past-authorization') {
          // Refused later is fine; refused by the role check (or hidden) is not.
          if (
            response.status === 401 ||
            response.status === 403 ||
            (response.status === 404 && response.body?.detail === hidden) ||
            response.status === 400
          ) {
            mismatches.push(`${got}, table says it passes the role check`);
          }
        } else if (want === 'ok') {
          if (response.status !== call.ok) mismatches.push(`${got}, table says ${call.ok}`);
        } else if (response.status !== want) {
          mismatches.push(`${got}, table says ${want}`);
        } else if (want === 403 && !String(response.body?.detail).includes(`may not ${action}`)) {
          mismatches.push(`${got}: a 403 that is not the role check for ${action}`);
        } else if (want === 404 && response.body?.detail !== hidden) {
          mismatches.push(`${got}: a 404 that is not the hidden resource's ("${hidden}")`);
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
      // Pull and push: the scope the registry's token endpoint grants (a fresh fixture:
      // the calls above deleted this one).
      const registryActions = REGISTRY_ACTIONS[kind];
      if (registryActions) {
        const target = await makeFixture(kind, options);
        const requested = Object.values(registryActions);
        const login = registryLogins.get(subject);
        const url = `${tc.url}${TOKEN_PATH}?service=leengine-registry&scope=repository:${target.name}:${requested.join(',')}`;
        const answer = await fetch(url, {
          headers: login
            ? {
                authorization: `Basic ${Buffer.from(`${login.username}:${login.password}`).toString('base64')}`,
              }
            : {},
        });
        const body = (await answer.json()) as { token?: string };
        const badCredentials = subject === 'expired-token' || subject === 'revoked-token';
        if (badCredentials) {
          if (answer.status !== 401)
            mismatches.push(`${subject} registry token: ${answer.status}, expected 401`);
        } else if (answer.status !== 200 || !body.token) {
          mismatches.push(`${subject} registry token: ${answer.status} ${JSON.stringify(body)}`);
        } else {
          const claims = JSON.parse(
            Buffer.from(body.token.split('.')[1] as string, 'base64url').toString(),
          ) as {
            access: { name: string; actions: string[] }[];
          };
          const granted = claims.access.filter((a) => a.name === target.name).flatMap((a) => a.actions);
          for (const [action, scope] of Object.entries(registryActions)) {
            // Anonymous callers get what the table gives everyone (public pulls).
            const grant = {
              role: (ROLES as readonly string[]).includes(subject) ? (subject as Role) : null,
              admin: subject === 'admin',
              public: options.public === true,
            };
            const allowed = can(grant, kind, action);
            if (granted.includes(scope) !== allowed) {
              mismatches.push(
                `${subject} ${action} (registry scope ${scope}): granted ${JSON.stringify(granted)}, table says ${allowed ? 'yes' : 'no'}`,
              );
            }
          }
        }
      }
    }
    assert.deepEqual(mismatches, []);
  });
}

test('every action of the table is called for real above, or has no endpoint (checked)', async () => {
  const paths = Object.keys((await tc.anonymous.get('/openapi.json')).body.paths as object);
  for (const kind of RESOURCE_KINDS) {
    for (const action of actionsOf(kind)) {
      const called = CALLS[action] !== undefined || REGISTRY_ACTIONS[kind]?.[action] !== undefined;
      const missing = NO_ENDPOINT[kind]?.[action];
      assert.ok(called || missing, `${kind}:${action} is not walked by a real call`);
      if (missing) {
        assert.ok(!called, `${kind}:${action} is both called and listed as having no endpoint`);
        assert.ok(
          !paths.some((p) => p.includes(missing)),
          `${kind}:${action} has an endpoint now (${missing}): call it in the walk`,
        );
      }
    }
  }
});

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
