// The region registry with core's token auth, driven by real clients (buildah, skopeo)
// against the real registry (Debian's docker-registry 2.8): who may push, pull and delete
// follows the permission table; notifications reach activity, statistics and tags.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { ROLES, type Role } from '@leengine/common';
import { Buildah, useTestbed } from '@leengine/testbed';
import pino from 'pino';
import type { ApiClient } from '../testing/apiClient.ts';
import { copy, inspect, type Outcome, remove } from '../testing/registryClients.ts';
import { type RegistryCore, startRegistryCore } from '../testing/registryCore.ts';
import { TEST_PASSWORD } from '../testing/testCore.ts';

const testbed = useTestbed();
let rc: RegistryCore;
let buildah: Buildah;
const logLines: string[] = [];
const users = new Map<string, { api: ApiClient; token: string }>();
const api = (name: string) => (users.get(name) as { api: ApiClient }).api;
/** `user:personal-access-token`, as a CI job would log in. */
const creds = (name: string) => `${name}:${(users.get(name) as { token: string }).token}`;
const IMAGE = 'localhost/tiny:latest';

before(async () => {
  const logs = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  rc = await startRegistryCore(testbed, { logger: pino({ level: 'debug' }, logs) });
  for (const name of [...ROLES, 'outsider']) users.set(name, await rc.user(name));
  assert.equal((await api('owner').post('/api/v1/image-groups', { name: 'team' })).status, 201);
  for (const role of ROLES.filter((r) => r !== 'owner')) {
    const added = await api('owner').post('/api/v1/image-groups/team/members', { username: role, role });
    assert.equal(added.status, 201, JSON.stringify(added.body));
  }
  buildah = Buildah.create();
  await buildah.busyboxImage(IMAGE, { cmd: ['/bin/busybox', 'echo', 'hi'] });
});
after(async () => {
  buildah?.remove();
  await rc?.close();
});

async function push(destination: string, credentials: string | undefined): Promise<Outcome> {
  try {
    await buildah.push(
      IMAGE,
      `${rc.registry.host}/${destination}`,
      credentials ? { creds: credentials } : {},
    );
    return { ok: true, output: '' };
  } catch (error) {
    return {
      ok: false,
      output: String((error as Error).message) + String((error as { detail?: string }).detail ?? ''),
    };
  }
}

async function pull(image: string, credentials: string | undefined): Promise<Outcome> {
  try {
    const args = [
      'pull',
      '--policy=always',
      '--tls-verify=false',
      ...(credentials ? ['--creds', credentials] : []),
      `docker://${rc.registry.host}/${image}`,
    ];
    await buildah.run(args);
    return { ok: true, output: '' };
  } catch (error) {
    return { ok: false, output: String(error) };
  }
}

/** Waits until `check` holds (notifications arrive asynchronously). */
async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function tokenRequest(query: string, basic?: string) {
  const headers: Record<string, string> = basic
    ? { authorization: `Basic ${Buffer.from(basic).toString('base64')}` }
    : {};
  const response = await fetch(`${rc.url}/v2/token?service=leengine-registry&${query}`, { headers });
  const body = (await response.json()) as {
    token?: string;
    expires_in?: number;
    errors?: { code: string }[];
  };
  const access = body.token
    ? (
        JSON.parse(Buffer.from(body.token.split('.')[1] as string, 'base64url').toString()) as {
          access: unknown;
        }
      ).access
    : undefined;
  return { status: response.status, body, access, headers: response.headers };
}

test('a private repository with buildah and skopeo: Owner and Developer push, Reporter pulls but cannot push, Guest and non-members neither', async () => {
  // The Owner's first push creates team/app; then everyone tries.
  assert.ok((await push('team/app:v1', creds('owner'))).ok);
  const expectations: Record<Role | 'outsider', { push: boolean; pull: boolean }> = {
    owner: { push: true, pull: true },
    master: { push: true, pull: true },
    developer: { push: true, pull: true },
    reporter: { push: false, pull: true },
    guest: { push: false, pull: false },
    outsider: { push: false, pull: false },
  };
  for (const [who, want] of Object.entries(expectations)) {
    const pushed = await push(`team/app:by-${who}`, creds(who));
    assert.equal(pushed.ok, want.push, `${who} push: ${pushed.output}`);
    if (!want.push) assert.match(pushed.output, /unauthorized|denied|authentication required/i, who);
    const pulled = await pull('team/app:v1', creds(who));
    assert.equal(pulled.ok, want.pull, `${who} buildah pull: ${pulled.output}`);
    const inspected = await inspect(rc.registry.host, 'team/app:v1', creds(who));
    assert.equal(inspected.ok, want.pull, `${who} skopeo inspect: ${inspected.output}`);
  }
  // skopeo copies layers and all: a Developer copies v1 to v3 (pull + push in one repository).
  assert.ok(
    (
      await copy(rc.registry.host, 'team/app:v1', 'team/app:v3', {
        src: creds('developer'),
        dest: creds('developer'),
      })
    ).ok,
  );
  // The Reporter can read it but not write it, also with skopeo.
  const refused = await copy(rc.registry.host, 'team/app:v1', 'team/app:v4', {
    src: creds('reporter'),
    dest: creds('reporter'),
  });
  assert.ok(!refused.ok);
  // Anonymous: nothing on a private repository.
  assert.ok(!(await inspect(rc.registry.host, 'team/app:v1')).ok);
  assert.ok(!(await push('team/app:anon', undefined)).ok);
});

test('deleting through the registry API needs delete-tag (Master): a Developer is refused, a Master deletes', async () => {
  assert.ok((await push('team/app:to-delete', creds('developer'))).ok);
  // A distinct manifest, so deleting it does not take other tags along.
  const c = await buildah.run(['from', '--pull-never', IMAGE]);
  await buildah.run(['config', '--label', `unique=${Date.now()}`, c]);
  await buildah.run(['commit', '--quiet', c, 'localhost/unique:latest']);
  await buildah.push('localhost/unique:latest', `${rc.registry.host}/team/app:to-delete`, {
    creds: creds('developer'),
  });
  const developer = await remove(rc.registry.host, 'team/app:to-delete', creds('developer'));
  assert.ok(!developer.ok, 'a Developer may not delete');
  assert.ok((await inspect(rc.registry.host, 'team/app:to-delete', creds('developer'))).ok, 'still there');
  const master = await remove(rc.registry.host, 'team/app:to-delete', creds('master'));
  assert.ok(master.ok, master.output);
  assert.ok(!(await inspect(rc.registry.host, 'team/app:to-delete', creds('master'))).ok, 'gone');
  // The registry's delete notification is recorded as the Master's delete-tag.
  await eventually('the delete in the activity feed', async () => {
    const feed = await api('owner').get('/api/v1/image-groups/team/repositories/app/activity?limit=100');
    return feed.body.items.some(
      (a: { action: string; actor: string }) => a.action === 'delete-tag' && a.actor === 'master',
    );
  });
});

test('a non-member cannot learn that a private repository exists: the same token and the same refusal as for a missing one', async () => {
  assert.ok((await push('team/secret:v1', creds('owner'))).ok);
  const existing = await tokenRequest('scope=repository:team/secret:pull', creds('outsider'));
  const missing = await tokenRequest('scope=repository:team/nothing-here:pull', creds('outsider'));
  assert.equal(existing.status, 200);
  assert.deepEqual(existing.access, [{ type: 'repository', name: 'team/secret', actions: [] }]);
  assert.deepEqual(missing.access, [{ type: 'repository', name: 'team/nothing-here', actions: [] }]);
  const [a, b] = await Promise.all(
    [existing, missing].map(async (t, i) => {
      const name = i === 0 ? 'team/secret' : 'team/nothing-here';
      const response = await fetch(`${rc.registry.url}/v2/${name}/manifests/v1`, {
        headers: { authorization: `Bearer ${t.body.token}` },
      });
      return { status: response.status, body: (await response.json()) as { errors: { code: string }[] } };
    }),
  );
  assert.equal(a?.status, 401);
  assert.equal(b?.status, 401);
  assert.deepEqual(
    a?.body.errors.map((e) => e.code),
    b?.body.errors.map((e) => e.code),
  );
  // Through core's API the same: 404, not 403.
  assert.equal((await api('outsider').get('/api/v1/image-groups/team/repositories/secret/tags')).status, 404);
});

test('a public repository: anyone pulls, anonymous clients too; only members push', async () => {
  assert.ok((await push('team/base:v1', creds('developer'))).ok);
  assert.ok(!(await inspect(rc.registry.host, 'team/base:v1')).ok, 'private at first');
  assert.equal(
    (await api('owner').patch('/api/v1/image-groups/team/repositories/base', { public: true })).status,
    200,
  );
  const anonymous = await inspect(rc.registry.host, 'team/base:v1');
  assert.ok(anonymous.ok, anonymous.output);
  assert.ok((await pull('team/base:v1', undefined)).ok, 'anonymous buildah pull');
  assert.ok((await pull('team/base:v1', creds('outsider'))).ok, 'a signed-in non-member pulls');
  assert.ok((await pull('team/base:v1', creds('guest'))).ok, 'a Guest pulls a public image');
  assert.ok(!(await push('team/base:anon', undefined)).ok, 'anonymous cannot push');
  assert.ok(!(await push('team/base:outsider', creds('outsider'))).ok, 'a non-member cannot push');
  const token = await tokenRequest('scope=repository:team/base:pull,push,delete');
  assert.deepEqual(token.access, [{ type: 'repository', name: 'team/base', actions: ['pull'] }]);
});

test('the first push creates the repository (private, the pusher its Owner) only where the pusher may create repositories', async () => {
  assert.ok((await push('team/fresh:v1', creds('developer'))).ok);
  const made = await api('developer').get('/api/v1/image-groups/team/repositories/fresh');
  assert.equal(made.status, 200);
  assert.equal(made.body.public, false);
  assert.equal(made.body.callerRole, 'owner');
  const feed = await api('developer').get('/api/v1/image-groups/team/repositories/fresh/activity');
  assert.ok(
    feed.body.items.some(
      (a: { action: string; params: { firstPush?: boolean } }) => a.action === 'create' && a.params.firstPush,
    ),
  );
  // A Reporter of the group may not create repositories: no push, no repository.
  assert.ok(!(await push('team/by-reporter:v1', creds('reporter'))).ok);
  assert.equal((await api('owner').get('/api/v1/image-groups/team/repositories/by-reporter')).status, 404);
  // No group, no repository (also not for an admin).
  assert.ok(!(await push('no-such-group/app:v1', creds('owner'))).ok);
  // A name the registry would take but core would not (nested path): refused.
  assert.ok(!(await push('team/a/b:v1', creds('owner'))).ok);
});

test('notifications: pushes reach the activity feed, the push statistics and the tags (digest, size, pusher, pushed-at); wrong secrets are refused', async () => {
  assert.ok((await push('team/stats:v1', creds('owner'))).ok);
  assert.ok((await push('team/stats:v2', creds('developer'))).ok);
  await eventually('both pushes in the activity feed', async () => {
    const feed = await api('owner').get('/api/v1/image-groups/team/repositories/stats/activity');
    return feed.body.items.filter((a: { action: string }) => a.action === 'push').length === 2;
  });
  const feed = await api('owner').get('/api/v1/image-groups/team/repositories/stats/activity');
  const pushes = feed.body.items.filter((a: { action: string }) => a.action === 'push');
  assert.deepEqual(
    pushes.map((a: { actor: string; params: { tag: string } }) => [a.actor, a.params.tag]),
    [
      ['developer', 'v2'],
      ['owner', 'v1'],
    ],
  );
  const tags = await api('reporter').get('/api/v1/image-groups/team/repositories/stats/tags');
  assert.equal(tags.status, 200);
  assert.deepEqual(
    tags.body.items.map((t: { tag: string; pushedBy: string }) => [t.tag, t.pushedBy]),
    [
      ['v1', 'owner'],
      ['v2', 'developer'],
    ],
  );
  for (const t of tags.body.items) {
    assert.match(t.digest, /^sha256:[0-9a-f]{64}$/);
    assert.ok(t.size > 300_000, 'the busybox layer is counted');
    assert.ok(Date.parse(t.pushedAt) > Date.now() - 600_000);
  }
  const today = new Date().toISOString().slice(0, 10);
  const stats = await rc.admin.get(`/api/v1/statistics/operations?from=${today}&to=${today}`);
  assert.ok(stats.body.days[0].imagePushes >= 2, JSON.stringify(stats.body));

  // The notification sink wants the registry's shared secret; a redelivered event counts once.
  const event = {
    id: 'redelivered-1',
    timestamp: new Date().toISOString(),
    action: 'push',
    target: {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      repository: 'team/stats',
      digest: tags.body.items[0].digest,
      tag: 'v1',
    },
    actor: { name: 'owner' },
  };
  const send = (authorization: string) =>
    fetch(`${rc.url}/registry/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.docker.distribution.events.v1+json', authorization },
      body: JSON.stringify({ events: [event] }),
    });
  assert.equal((await send('Bearer wrong-secret')).status, 401);
  const registryConfig = rc.core.config.REGISTRY_NOTIFICATION_SECRET;
  const first = await send(`Bearer ${registryConfig}`);
  assert.equal(first.status, 200);
  assert.deepEqual(await first.json(), { recorded: 1 });
  assert.deepEqual(await (await send(`Bearer ${registryConfig}`)).json(), { recorded: 0 });
});

test('tags through core: deleting needs delete-tag, a tag sharing its manifest is a conflict, a deleted tag is gone from the registry', async () => {
  assert.ok((await push('team/tags:v1', creds('owner'))).ok);
  assert.ok((await push('team/tags:same-as-v1', creds('owner'))).ok);
  const c = await buildah.run(['from', '--pull-never', IMAGE]);
  await buildah.run(['config', '--label', `unique=${Date.now()}`, c]);
  await buildah.run(['commit', '--quiet', c, 'localhost/unique2:latest']);
  await buildah.push('localhost/unique2:latest', `${rc.registry.host}/team/tags:own`, {
    creds: creds('owner'),
  });
  const path = '/api/v1/image-groups/team/repositories/tags/tags';
  assert.equal((await api('developer').delete(`${path}/own`)).status, 403);
  const shared = await api('master').delete(`${path}/v1`);
  assert.equal(shared.status, 409);
  assert.match(shared.body.detail, /same-as-v1/);
  assert.equal((await api('master').delete(`${path}/own`)).status, 204);
  assert.equal((await api('master').delete(`${path}/own`)).status, 404);
  const left = await api('owner').get(path);
  assert.deepEqual(
    left.body.items.map((t: { tag: string }) => t.tag),
    ['same-as-v1', 'v1'],
  );
  assert.ok(!(await inspect(rc.registry.host, 'team/tags:own', creds('owner'))).ok);
  // Give the registry's delete notification time to arrive: it must not be recorded again.
  await new Promise((r) => setTimeout(r, 1500));
  const feed = await api('owner').get('/api/v1/image-groups/team/repositories/tags/activity');
  const deletes = feed.body.items
    .filter((a: { action: string }) => a.action === 'delete-tag')
    .map(
      (a: { actor: string; result: string; params: { tag: string } }) =>
        `${a.actor} ${a.params.tag} ${a.result}`,
    )
    .sort();
  // Refusals are recorded as failed; core's own delete is not recorded again from the notification.
  assert.deepEqual(deletes, ['developer own failed', 'master own succeeded', 'master v1 failed']);
});

test('robot accounts: a group robot pushes and pulls in its group only, a build project robot only its repository; expired and deleted robots are refused', async () => {
  assert.equal((await api('developer').post('/api/v1/image-groups/team/robots', { name: 'ci' })).status, 403);
  const made = await api('master').post('/api/v1/image-groups/team/robots', {
    name: 'ci',
    actions: ['push'],
    expiresInDays: 1,
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  assert.equal(made.body.username, 'robot$team+ci');
  assert.deepEqual(made.body.actions, ['pull', 'push'], 'push implies pull');
  assert.match(made.body.secret, /^lee_robot_/);
  const robot = `${made.body.username}:${made.body.secret}`;
  const listed = await api('master').get('/api/v1/image-groups/team/robots');
  assert.equal(listed.body.items.length, 1);
  assert.equal(listed.body.items[0].secret, undefined, 'the secret is shown once');

  // It creates a repository on first push (its creator becomes Owner) and pulls in the group.
  assert.ok((await push('team/robot-made:v1', robot)).ok);
  const repo = await api('master').get('/api/v1/image-groups/team/repositories/robot-made');
  assert.equal(repo.body.createdBy, 'master');
  assert.ok(
    (await inspect(rc.registry.host, 'team/app:v1', robot)).ok,
    'pulls another repository of its group',
  );
  assert.ok(
    !(await remove(rc.registry.host, 'team/robot-made:v1', robot)).ok,
    'no delete without the action',
  );
  // Nothing outside its group.
  assert.equal((await api('outsider').post('/api/v1/image-groups', { name: 'other' })).status, 201);
  assert.ok((await push('other/app:v1', creds('outsider'))).ok);
  assert.ok(!(await inspect(rc.registry.host, 'other/app:v1', robot)).ok);
  assert.ok(!(await push('other/app:robot', robot)).ok);
  // Its pushes are recorded with the robot's name.
  await eventually('the robot push in the feed', async () => {
    const feed = await api('master').get('/api/v1/image-groups/team/repositories/robot-made/activity');
    return feed.body.items.some(
      (a: { action: string; params: { robot?: string } }) =>
        a.action === 'push' && a.params.robot === 'robot$team+ci',
    );
  });
  const tags = await api('master').get('/api/v1/image-groups/team/repositories/robot-made/tags');
  assert.equal(tags.body.items[0].pushedBy, 'robot$team+ci');

  // A wrong secret, the wrong name for a secret, an expired robot: refused by the token endpoint.
  assert.equal(
    (await tokenRequest('scope=repository:team/app:pull', 'robot$team+ci:lee_robot_wrong')).status,
    401,
  );
  assert.equal(
    (await tokenRequest('scope=repository:team/app:pull', `robot$team+other:${made.body.secret}`)).status,
    401,
  );
  rc.shiftClock(2 * 86_400_000);
  try {
    assert.equal((await tokenRequest('scope=repository:team/app:pull', robot)).status, 401);
  } finally {
    rc.shiftClock(0);
  }
  assert.equal((await tokenRequest('scope=repository:team/app:pull', robot)).status, 200);
  assert.equal((await api('master').delete('/api/v1/image-groups/team/robots/ci')).status, 204);
  assert.equal((await tokenRequest('scope=repository:team/app:pull', robot)).status, 401);

  // A build project's robot: pull and push on the project's repository, nothing else.
  const project = await api('developer').post('/api/v1/build-projects', {
    name: 'web',
    gitUrl: 'https://git.example.com/team/web.git',
    imageRepository: 'team/fresh',
  });
  assert.equal(project.status, 201, JSON.stringify(project.body));
  const builder = await api('developer').post('/api/v1/build-projects/web/robots', { name: 'agent' });
  assert.equal(builder.status, 201, JSON.stringify(builder.body));
  assert.equal(builder.body.username, 'robot$build$web+agent');
  const agent = `${builder.body.username}:${builder.body.secret}`;
  assert.ok((await push('team/fresh:built', agent)).ok);
  assert.ok(!(await push('team/app:built', agent)).ok);
  assert.ok(!(await push('team/new-from-build:v1', agent)).ok, 'a build robot creates nothing');
});

test('the registry refuses forged and misused tokens: expired, wrong audience, wrong issuer, tampered, untrusted key, wider scope, another repository', async () => {
  assert.ok((await push('team/guarded:v1', creds('owner'))).ok);
  const now = Math.floor(Date.now() / 1000);
  const claims = (overrides: object = {}) => ({
    iss: 'leengine-core',
    sub: 'owner',
    aud: 'leengine-registry',
    exp: now + 300,
    nbf: now,
    iat: now,
    jti: `t-${Math.random()}`,
    access: [{ type: 'repository', name: 'team/guarded', actions: ['pull'] }],
    ...overrides,
  });
  const manifest = (token: string, name = 'team/guarded') =>
    fetch(`${rc.registry.url}/v2/${name}/manifests/v1`, {
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/vnd.oci.image.manifest.v1+json',
      },
    }).then(async (r) => {
      await r.arrayBuffer();
      return r.status;
    });
  // The control: a well-formed token with core's key works.
  assert.equal(await manifest(rc.signer.sign(claims())), 200);
  // Expired (beyond the registry's minute of leeway) and not yet valid.
  assert.equal(
    await manifest(rc.signer.sign(claims({ exp: now - 120, iat: now - 420, nbf: now - 420 }))),
    401,
  );
  assert.equal(
    await manifest(rc.signer.sign(claims({ nbf: now + 600, iat: now + 600, exp: now + 900 }))),
    401,
  );
  assert.equal(await manifest(rc.signer.sign(claims({ aud: 'another-registry' }))), 401);
  assert.equal(await manifest(rc.signer.sign(claims({ iss: 'someone-else' }))), 401);
  // Tampered: the claims changed after signing (push added), signature kept.
  const [h, , sig] = rc.signer.sign(claims()).split('.');
  const widened = Buffer.from(
    JSON.stringify(
      claims({ access: [{ type: 'repository', name: 'team/guarded', actions: ['pull', 'push'] }] }),
    ),
  ).toString('base64url');
  assert.equal(await manifest(`${h}.${widened}.${sig}`), 401);
  // Signed by a key the registry does not trust (its own self-signed certificate in x5c).
  const { TokenSigner } = await import('./tokenSigner.ts');
  assert.equal(await manifest(TokenSigner.ephemeral().sign(claims())), 401);
  // A token core issued for pull only does not push; one for team/guarded does not read team/app.
  const issued = await tokenRequest('scope=repository:team/guarded:pull', creds('reporter'));
  const upload = await fetch(`${rc.registry.url}/v2/team/guarded/blobs/uploads/`, {
    method: 'POST',
    headers: { authorization: `Bearer ${issued.body.token}` },
  });
  assert.equal(upload.status, 401);
  assert.match(upload.headers.get('www-authenticate') ?? '', /insufficient_scope/);
  assert.equal(await manifest(issued.body.token as string), 200);
  assert.equal(await manifest(issued.body.token as string, 'team/app'), 401);
  // Core's tokens expire: one issued with core's clock 10 minutes back is refused.
  rc.shiftClock(-600_000);
  const old = await tokenRequest('scope=repository:team/guarded:pull', creds('reporter'));
  rc.shiftClock(0);
  assert.equal(await manifest(old.body.token as string), 401);
});

test('the token endpoint: partial grants, the service checked, malformed scopes refused, the OAuth2 POST form, the catalog for admins only', async () => {
  const partial = await tokenRequest(
    'scope=repository:team/app:pull,push,delete&scope=repository:other/app:pull',
    creds('developer'),
  );
  assert.equal(partial.status, 200);
  assert.deepEqual(partial.access, [
    { type: 'repository', name: 'team/app', actions: ['pull', 'push'] },
    { type: 'repository', name: 'other/app', actions: [] },
  ]);
  assert.equal(partial.body.expires_in, 300);
  const claims = JSON.parse(
    Buffer.from((partial.body.token as string).split('.')[1] as string, 'base64url').toString(),
  );
  assert.equal(claims.sub, 'developer');
  assert.equal(claims.aud, 'leengine-registry');
  assert.equal(claims.iss, 'leengine-core');
  assert.equal(claims.exp - claims.iat, 300);
  assert.match(claims.jti, /^[0-9a-f]{32}$/);
  // A password works as well as a token (Basic auth, as `docker login` sends it).
  const byPassword = await tokenRequest('scope=repository:team/app:pull', `reporter:${TEST_PASSWORD}`);
  assert.deepEqual(byPassword.access, [{ type: 'repository', name: 'team/app', actions: ['pull'] }]);
  // A token for another user's name is not theirs.
  assert.equal(
    (
      await tokenRequest(
        'scope=repository:team/app:pull',
        `owner:${(users.get('reporter') as { token: string }).token}`,
      )
    ).status,
    401,
  );
  const wrongService = await fetch(`${rc.url}/v2/token?service=elsewhere&scope=repository:team/app:pull`);
  assert.equal(wrongService.status, 400);
  assert.equal((await tokenRequest('scope=repository:team/app')).status, 400);
  // Login without scopes (docker login): a token with no access.
  const login = await tokenRequest('', creds('guest'));
  assert.equal(login.status, 200);
  assert.deepEqual(login.access, []);
  // The catalog names every repository: admins only.
  assert.deepEqual((await tokenRequest('scope=registry:catalog:*', creds('owner'))).access, [
    { type: 'registry', name: 'catalog', actions: [] },
  ]);
  const boss = await rc.user('boss', { admin: true });
  assert.deepEqual((await tokenRequest('scope=registry:catalog:*', `boss:${boss.token}`)).access, [
    { type: 'registry', name: 'catalog', actions: ['*'] },
  ]);
  // The OAuth2 form (containerd, newer docker): password grant; refresh tokens are not issued.
  const form = (fields: Record<string, string>) =>
    fetch(`${rc.url}/v2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  const posted = await form({
    grant_type: 'password',
    service: 'leengine-registry',
    client_id: 'test',
    scope: 'repository:team/app:pull repository:team/app:push',
    username: 'developer',
    password: (users.get('developer') as { token: string }).token,
  });
  assert.equal(posted.status, 200);
  const postedBody = (await posted.json()) as { access_token: string; scope: string; expires_in: number };
  assert.equal(postedBody.scope, 'repository:team/app:pull,push');
  assert.equal(postedBody.expires_in, 300);
  assert.equal(
    (await form({ grant_type: 'refresh_token', refresh_token: 'x', service: 'leengine-registry' })).status,
    400,
  );
  assert.equal(
    (
      await form({
        grant_type: 'password',
        username: 'developer',
        password: 'wrong',
        service: 'leengine-registry',
      })
    ).status,
    401,
  );
});

test('brute force on the token endpoint is rate-limited, and credentials never reach the logs', async () => {
  await rc.user('victim');
  for (let i = 0; i < 5; i++) {
    const wrong = await tokenRequest('scope=repository:team/app:pull', `victim:wrong-password-${i}`);
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get('www-authenticate') ?? '', /^Basic/);
  }
  const limited = await tokenRequest('scope=repository:team/app:pull', `victim:${TEST_PASSWORD}`);
  assert.equal(limited.status, 429, 'even the right password, until the window ends');
  assert.ok(Number(limited.headers.get('retry-after')) > 0);
  // Personal access tokens count too.
  for (let i = 0; i < 5; i++) await tokenRequest('', `victim:lee_pat_guess${i}`);
  assert.equal((await tokenRequest('', `victim:lee_pat_guess-more`)).status, 429);

  const logs = logLines.join('');
  assert.match(logs, /registry token issued/, 'the log is captured');
  const secrets = [TEST_PASSWORD, ...[...users.values()].map((u) => u.token), 'wrong-password-1'];
  for (const secret of secrets) assert.ok(!logs.includes(secret), 'a credential appears in the log');
  for (const basic of [...users.keys()].map((u) => Buffer.from(`${u}:${TEST_PASSWORD}`).toString('base64'))) {
    assert.ok(!logs.includes(basic), 'Basic credentials appear in the log');
  }
  assert.ok(!/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/.test(logs), 'a signed token appears in the log');
});

test('verified credentials and repository lookups are reused for seconds, yet a removed member, a lowered role and a revoked token stop at once', async () => {
  const leaver = await rc.user('leaver');
  const basic = `leaver:${leaver.token}`;
  const scope = 'scope=repository:team/app:pull,push';
  assert.equal(
    (await api('owner').post('/api/v1/image-groups/team/members', { username: 'leaver', role: 'developer' }))
      .status,
    201,
  );
  // Asked twice: the second answer comes from the cache, and is the same.
  for (let i = 0; i < 2; i++) {
    assert.deepEqual((await tokenRequest(scope, basic)).access, [
      { type: 'repository', name: 'team/app', actions: ['pull', 'push'] },
    ]);
  }
  assert.equal(
    (await api('owner').put('/api/v1/image-groups/team/members/leaver', { role: 'reporter' })).status,
    200,
  );
  assert.deepEqual((await tokenRequest(scope, basic)).access, [
    { type: 'repository', name: 'team/app', actions: ['pull'] },
  ]);
  assert.equal((await api('owner').delete('/api/v1/image-groups/team/members/leaver')).status, 204);
  assert.deepEqual((await tokenRequest(scope, basic)).access, [
    { type: 'repository', name: 'team/app', actions: [] },
  ]);
  // The token still signs in (a moment ago, from the cache) until it is revoked.
  assert.equal((await tokenRequest(scope, basic)).status, 200);
  const tokens = await leaver.api.get('/api/v1/user/tokens');
  const id = (tokens.body.items as { id: number }[])[0]?.id;
  assert.equal((await leaver.api.delete(`/api/v1/user/tokens/${id}`)).status, 204);
  assert.equal((await tokenRequest(scope, basic)).status, 401);
});

test('deleting a repository through core deletes its manifests in the registry (Owner only): made again, it shows no old tag', async () => {
  assert.ok((await push('team/gone:v1', creds('owner'))).ok);
  assert.ok((await push('team/gone:v2', creds('developer'))).ok);
  const before = await api('owner').get('/api/v1/image-groups/team/repositories/gone/tags');
  assert.deepEqual(
    before.body.items.map((t: { tag: string }) => t.tag),
    ['v1', 'v2'],
  );
  const digest = before.body.items[0].digest as string;
  // A Master may delete tags but not the repository: refused, and the images stay.
  assert.equal((await api('master').delete('/api/v1/image-groups/team/repositories/gone')).status, 403);
  assert.ok((await pull('team/gone:v1', creds('reporter'))).ok);
  assert.equal((await api('owner').delete('/api/v1/image-groups/team/repositories/gone')).status, 204);
  // The registry itself, with a token that may read anything there: no tag, no manifest.
  const token = rc.signer.sign({
    iss: 'leengine-core',
    sub: 'test',
    aud: 'leengine-registry',
    iat: Math.floor(Date.now() / 1000),
    nbf: Math.floor(Date.now() / 1000),
    exp: Math.floor(Date.now() / 1000) + 60,
    jti: 'deleted-repository',
    access: [{ type: 'repository', name: 'team/gone', actions: ['pull'] }],
  });
  const headers = { authorization: `Bearer ${token}` };
  const list = await fetch(`${rc.registry.url}/v2/team/gone/tags/list`, { headers });
  const listed = (await list.json()) as { tags?: string[] | null };
  assert.ok(
    list.status === 404 || (list.status === 200 && (listed.tags ?? []).length === 0),
    JSON.stringify(listed),
  );
  const manifest = await fetch(`${rc.registry.url}/v2/team/gone/manifests/${digest}`, { headers });
  assert.equal(manifest.status, 404);
  // Made again under the same name, it starts empty: nothing old to list or pull.
  assert.equal(
    (await api('owner').post('/api/v1/image-groups/team/repositories', { name: 'gone' })).status,
    201,
  );
  assert.deepEqual(
    (await api('owner').get('/api/v1/image-groups/team/repositories/gone/tags')).body.items,
    [],
  );
  const old = await pull('team/gone:v1', creds('owner'));
  assert.equal(old.ok, false);
  assert.match(old.output, /manifest unknown|not found/i);
});
