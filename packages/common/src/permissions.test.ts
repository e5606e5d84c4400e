import assert from 'node:assert/strict';
import { test } from 'node:test';
import { permissionTable } from './api/roles.ts';
import {
  actionsOf,
  allowedActions,
  can,
  canSee,
  higherRole,
  PERMISSIONS,
  type PermissionRule,
  RESOURCE_KINDS,
  ROLES,
  roleAtLeast,
  rolesFor,
  ruleFor,
} from './permissions.ts';

test('roles are ordered Owner > Master > Developer > Reporter > Guest', () => {
  assert.deepEqual(ROLES, ['owner', 'master', 'developer', 'reporter', 'guest']);
  assert.ok(roleAtLeast('owner', 'master'));
  assert.ok(roleAtLeast('master', 'master'));
  assert.ok(!roleAtLeast('developer', 'master'));
  assert.equal(higherRole('guest', 'developer'), 'developer');
  assert.equal(higherRole(null, 'reporter'), 'reporter');
  assert.equal(higherRole('master', null), 'master');
  assert.equal(higherRole(null, null), null);
});

test('a rule is a minimum role or an explicit set of roles', () => {
  const min: PermissionRule = { min: 'developer', description: '' };
  const set: PermissionRule = { roles: ['guest', 'owner'], description: '' };
  assert.deepEqual(rolesFor(min), ['owner', 'master', 'developer']);
  assert.deepEqual(rolesFor(set), ['owner', 'guest'], 'most powerful first, whatever the order given');
});

test('every resource has read, update, delete, manage-members and read-activity; Owners may do everything', () => {
  for (const kind of RESOURCE_KINDS) {
    for (const action of ['read', 'update', 'delete', 'manage-members', 'read-activity']) {
      assert.ok(PERMISSIONS[kind][action], `${kind} lacks ${action}`);
    }
    for (const action of actionsOf(kind)) assert.ok(can({ role: 'owner', admin: false }, kind, action));
  }
});

test('the actions later capabilities need are in the table', () => {
  assert.deepEqual(actionsOf('application').sort(), [
    'delete',
    'deploy',
    'exec',
    'logs',
    'manage-domains',
    'manage-fixed-addresses',
    'manage-members',
    'read',
    'read-activity',
    'rollback',
    'scale',
    'update',
  ]);
  for (const action of ['pull', 'push', 'delete-tag']) assert.ok(PERMISSIONS['image-repository'][action]);
  assert.ok(PERMISSIONS['image-group']['create-repository']);
  for (const action of ['trigger-build', 'cancel-build']) assert.ok(PERMISSIONS['build-project'][action]);
});

test('admins may do everything; non-members nothing, except read and pull on public repositories', () => {
  for (const kind of RESOURCE_KINDS) {
    assert.equal(canSee({ role: null, admin: false }, kind), false);
    for (const action of actionsOf(kind)) {
      assert.ok(can({ role: null, admin: true }, kind, action));
      assert.ok(!can({ role: null, admin: false }, kind, action));
    }
  }
  const outsider = { role: null, admin: false, public: true };
  assert.ok(canSee(outsider, 'image-repository'));
  assert.deepEqual(allowedActions(outsider, 'image-repository'), ['read', 'pull']);
  assert.ok(!canSee(outsider, 'application'), 'only image repositories can be public');
});

test("the seed's examples: only Owner and Master deploy and scale; Guests cannot pull private images", () => {
  for (const role of ROLES) {
    const mayDeploy = role === 'owner' || role === 'master';
    assert.equal(can({ role, admin: false }, 'application', 'deploy'), mayDeploy);
    assert.equal(can({ role, admin: false }, 'application', 'scale'), mayDeploy);
  }
  assert.ok(!can({ role: 'guest', admin: false }, 'image-repository', 'pull'));
  assert.ok(can({ role: 'developer', admin: false }, 'image-repository', 'push'));
  assert.ok(!can({ role: 'reporter', admin: false }, 'image-repository', 'push'));
});

test('an unknown action is a programming error, not a silent "no"', () => {
  assert.throws(() => ruleFor('application', 'fly'), /no permission rule for application:fly/);
  assert.throws(() => can({ role: 'owner', admin: true }, 'application', 'fly'));
});

test('the served table lists every kind, action and role in order', () => {
  const table = permissionTable();
  assert.deepEqual(
    table.roles.map((r) => [r.role, r.title, r.level]),
    [
      ['owner', 'Owner', 5],
      ['master', 'Master', 4],
      ['developer', 'Developer', 3],
      ['reporter', 'Reporter', 2],
      ['guest', 'Guest', 1],
    ],
  );
  assert.deepEqual(
    table.resources.map((r) => r.kind),
    [...RESOURCE_KINDS],
  );
  const pull = table.resources
    .find((r) => r.kind === 'image-repository')
    ?.actions.find((a) => a.action === 'pull');
  assert.deepEqual(pull, {
    action: 'pull',
    description: 'Pull images',
    roles: ['owner', 'master', 'developer', 'reporter'],
    public: true,
  });
  assert.ok(table.rules.some((r) => r.includes('404')));
});
