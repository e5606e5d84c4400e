// Bad input through the real HTTP API: malformed bodies, oversized fields, wrong types,
// unknown fields and injection strings (SQL, shell, nginx, path traversal). Each must be
// a 400 problem naming the offending field, store nothing, and never be a 500.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ProblemSchema } from '@leengine/common';
import { useTestbed } from '@leengine/testbed';
import type { ApiClient } from '../testing/apiClient.ts';
import { backends } from '../testing/backends.ts';
import { startTestCore, type TestCore } from '../testing/testCore.ts';

let tc: TestCore;
let alice: ApiClient;

const SQL = "x'; drop table applications; --";
const SHELL = 'x$(touch /tmp/pwned)`id`;rm -rf /';
const NGINX = 'x;\n}\nserver { listen 80; location / { proxy_pass http://evil; } }';
const TRAVERSAL = '../../../etc/passwd';
const INJECTIONS = [SQL, SHELL, NGINX, TRAVERSAL, 'x\u0000y', '<script>alert(1)</script>'];

/** method, path, body (a string is sent raw), and the field paths the 400 must name. */
type Case = [method: string, path: string, body: unknown, fields: string[]];

const APP = '/api/v1/applications';
const BUILD = { name: 'b2', gitUrl: 'https://git.example.com/t/w.git', imageRepository: 'team/api' };

const BODY_CASES: Case[] = [
  // applications
  ['POST', APP, {}, ['name']],
  ['POST', APP, { name: 123 }, ['name']],
  ['POST', APP, { name: null }, ['name']],
  ['POST', APP, { name: ['web2'] }, ['name']],
  ['POST', APP, { name: { $ne: null } }, ['name']],
  ['POST', APP, { name: 'a'.repeat(64) }, ['name']],
  ['POST', APP, { name: 'a'.repeat(100_000) }, ['name']],
  ['POST', APP, { name: 'Web' }, ['name']],
  ['POST', APP, { name: 'kube-system' }, ['name']],
  ['POST', APP, { name: 'leengine-core' }, ['name']],
  ...INJECTIONS.map((name): Case => ['POST', APP, { name }, ['name']]),
  ['POST', APP, { name: 'ok-name', description: 'd'.repeat(1001) }, ['description']],
  ['POST', APP, { name: 'ok-name', description: 'bell\u0007' }, ['description']],
  ['POST', APP, { name: 'ok-name', description: 7 }, ['description']],
  ['POST', APP, { name: 'ok-name', extra: true }, ['extra']],
  ['POST', APP, { name: 'ok-name', __proto__: { admin: true }, constructor: 1 }, ['constructor']],
  ['POST', APP, [], ['']],
  ['POST', APP, 'null', ['']],
  ['POST', APP, '"web"', ['']],
  ['PATCH', `${APP}/web`, { description: 5 }, ['description']],
  ['PATCH', `${APP}/web`, { name: 'renamed' }, ['name']],
  // image groups and repositories
  ['POST', '/api/v1/image-groups', { name: 'Team' }, ['name']],
  ['POST', '/api/v1/image-groups', { name: 'team/sub' }, ['name']],
  ...INJECTIONS.map((name): Case => ['POST', '/api/v1/image-groups', { name }, ['name']]),
  ['POST', '/api/v1/image-groups/team/repositories', { name: 'a/b' }, ['name']],
  ['POST', '/api/v1/image-groups/team/repositories', { name: 'ok', public: 'yes' }, ['public']],
  ['POST', '/api/v1/image-groups/team/repositories', { name: TRAVERSAL }, ['name']],
  ['PATCH', '/api/v1/image-groups/team/repositories/api', { public: 1 }, ['public']],
  // build projects: everything that later reaches git and buildah
  ['POST', '/api/v1/build-projects', { ...BUILD, gitUrl: `https://git.example.com/${SHELL}` }, ['gitUrl']],
  // file:/// URLs only where core allows local repositories (LEENGINE_BUILD_ALLOW_LOCAL_GIT:
  // tests and the local region; builds.test.ts creates them there); a file URL with a host never.
  ['POST', '/api/v1/build-projects', { ...BUILD, gitUrl: 'file://evil.example/etc/passwd' }, ['gitUrl']],
  ['POST', '/api/v1/build-projects', { ...BUILD, gitUrl: 'file:///srv/git/web.git' }, ['gitUrl']],
  ['PATCH', '/api/v1/build-projects/web-build', { gitUrl: 'file:///etc' }, ['gitUrl']],
  ['POST', '/api/v1/build-projects', { ...BUILD, gitUrl: '--upload-pack=touch /tmp/x' }, ['gitUrl']],
  [
    'POST',
    '/api/v1/build-projects',
    { ...BUILD, gitUrl: 'https://git.example.com/a;proxy_pass' },
    ['gitUrl'],
  ],
  ['POST', '/api/v1/build-projects', { ...BUILD, branch: '--upload-pack=x' }, ['branch']],
  ['POST', '/api/v1/build-projects', { ...BUILD, branch: 'a..b' }, ['branch']],
  ['POST', '/api/v1/build-projects', { ...BUILD, dockerfilePath: TRAVERSAL }, ['dockerfilePath']],
  ['POST', '/api/v1/build-projects', { ...BUILD, dockerfilePath: '/etc/shadow' }, ['dockerfilePath']],
  ['POST', '/api/v1/build-projects', { ...BUILD, imageRepository: 'team/../api' }, ['imageRepository']],
  ['POST', '/api/v1/build-projects', { ...BUILD, imageRepository: 'team/nothing' }, ['imageRepository']],
  ['POST', '/api/v1/build-projects', { ...BUILD, name: SQL, branch: SHELL }, ['branch', 'name']],
  ['PATCH', '/api/v1/build-projects/web-build', { gitUrl: SHELL }, ['gitUrl']],
  // members
  ['POST', `${APP}/web/members`, { username: 'alice', role: 'superuser' }, ['role']],
  ['POST', `${APP}/web/members`, { username: '../admin', role: 'guest' }, ['username']],
  ['POST', `${APP}/web/members`, { username: 'nobody-at-all', role: 'guest' }, ['username']],
  ['POST', `${APP}/web/members`, { role: 'guest' }, ['username']],
  ['PUT', `${APP}/web/members/alice`, { role: 'Owner' }, ['role']],
  // users, tokens, login
  ['POST', '/api/v1/users', { username: "admin'--", password: 'long enough password' }, ['username']],
  ['POST', '/api/v1/users', { username: 'zed', password: 'short' }, ['password']],
  ['POST', '/api/v1/users', { username: 'zed', password: 'long enough password', email: 'no' }, ['email']],
  ['POST', '/api/v1/users', { username: 'zed', password: 'long enough password', admin: 'true' }, ['admin']],
  ['POST', '/api/v1/user/tokens', { name: 'x', expiresInDays: 0 }, ['expiresInDays']],
  ['POST', '/api/v1/user/tokens', { name: 'x', expiresInDays: 367 }, ['expiresInDays']],
  ['POST', '/api/v1/user/tokens', { name: '' }, ['name']],
  ['POST', '/api/v1/user/tokens', { name: 'a\u001bb' }, ['name']],
  ['PATCH', '/api/v1/user', { displayName: 'x'.repeat(101) }, ['displayName']],
  ['PATCH', '/api/v1/user', { admin: true }, ['admin']],
  ['POST', '/api/v1/session', { username: 'alice\u0000', password: 'x' }, ['username']],
  ['POST', '/api/v1/session', { username: 'a'.repeat(101), password: 'x' }, ['username']],
  // quotas (as admin, below)
];

const ADMIN_CASES: Case[] = [
  [
    'PUT',
    '/api/v1/quotas/default',
    { applications: -1, instances: 1, cpuMillicores: 1, memoryMib: 1 },
    ['applications'],
  ],
  [
    'PUT',
    '/api/v1/quotas/default',
    { applications: 1.5, instances: 1, cpuMillicores: 1, memoryMib: 1 },
    ['applications'],
  ],
  [
    'PUT',
    '/api/v1/quotas/default',
    { applications: '10', instances: 1, cpuMillicores: 1, memoryMib: 1 },
    ['applications'],
  ],
  [
    'PUT',
    '/api/v1/quotas/default',
    { applications: 1, instances: 1e12, cpuMillicores: 1, memoryMib: 1 },
    ['instances'],
  ],
  ['PUT', '/api/v1/quotas/default', { applications: 1 }, ['cpuMillicores', 'instances', 'memoryMib']],
  ['PUT', '/api/v1/users/alice/quota', { cpuMillicores: 'lots' }, ['cpuMillicores']],
  ['PUT', '/api/v1/users/alice/quota', { disk: 1 }, ['disk']],
  ['PATCH', '/api/v1/users/alice', { password: 'short' }, ['password']],
];

const QUERY_CASES: [string, string[]][] = [
  [`${APP}?limit=0`, ['limit']],
  [`${APP}?limit=101`, ['limit']],
  [`${APP}?limit=abc`, ['limit']],
  [`${APP}?sort=${encodeURIComponent('name; drop table users')}`, ['sort']],
  [`${APP}?cursor=${encodeURIComponent("' or 1=1 --")}`, ['cursor']],
  [`${APP}?cursor=eyJzIjoibmFtZSJ9`, ['cursor']],
  [`${APP}?q=${'q'.repeat(101)}`, ['q']],
  [`${APP}?q=%00`, ['q']],
  [`${APP}?admin=true`, ['admin']],
  [`${APP}?scope=everything`, ['scope']],
  ['/api/v1/applications/web/activity?limit=-1', ['limit']],
  ['/api/v1/statistics/operations?from=2025-13-01&to=2025-12-31', ['from']],
  ['/api/v1/statistics/operations?from=2025-02-01&to=2025-01-01', ['to']],
  ['/api/v1/statistics/operations?from=2020-01-01&to=2025-01-01', ['to']],
];

/** Row counts of every table: what "stored nothing" is checked against. */
async function snapshot(): Promise<Record<string, unknown>> {
  const tables = await tc.core.db.query<{ name: string }>(
    `select table_name as name from information_schema.tables where table_schema = 'public' order by 1`,
  );
  const counts: Record<string, unknown> = {};
  for (const { name } of tables) {
    const [row] = await tc.core.db.query<{ n: number; digest: string }>(
      `select count(*)::int as n, md5(coalesce(string_agg(t::text, ',' order by t::text), '')) as digest from "${name}" t`,
    );
    counts[name] = row;
  }
  return counts;
}

function assertBadInput(label: string, response: { status: number; body: unknown }, fields: string[]): void {
  assert.equal(response.status, 400, `${label}: ${JSON.stringify(response.body)}`);
  const problem = ProblemSchema.parse(response.body);
  assert.match(problem.type, /^urn:leengine:problem:invalid-(input|json)$/, label);
  const named = [...new Set((problem.errors ?? []).map((e) => e.path))].sort();
  assert.deepEqual(named, [...fields].sort(), `${label}: ${JSON.stringify(problem.errors)}`);
}

const testbed = useTestbed();

for (const backend of backends(testbed)) {
  describe(backend.name, () => {
    before(async () => {
      tc = await startTestCore({ databaseUrl: await backend.databaseUrl() });
      alice = await tc.user('alice');
      assert.equal((await alice.post('/api/v1/applications', { name: 'web' })).status, 201);
      assert.equal((await alice.post('/api/v1/image-groups', { name: 'team' })).status, 201);
      assert.equal((await alice.post('/api/v1/image-groups/team/repositories', { name: 'api' })).status, 201);
      assert.equal(
        (
          await alice.post('/api/v1/build-projects', {
            name: 'web-build',
            gitUrl: 'https://git.example.com/team/web.git',
            imageRepository: 'team/api',
          })
        ).status,
        201,
      );
    });
    after(() => tc?.close());

    test('bad bodies are 400 problems naming each offending field, and store nothing', async () => {
      const before = await snapshot();
      for (const [method, path, body, fields] of BODY_CASES) {
        const response = await alice.request(method, path, body);
        assertBadInput(`${method} ${path} ${JSON.stringify(body).slice(0, 80)}`, response, fields);
      }
      for (const [method, path, body, fields] of ADMIN_CASES) {
        const response = await tc.admin.request(method, path, body);
        assertBadInput(`${method} ${path} ${JSON.stringify(body).slice(0, 80)}`, response, fields);
      }
      assert.deepEqual(await snapshot(), before, 'no table changed');
    });

    test('bad query strings are 400 problems naming the parameter (in: query)', async () => {
      for (const [path, fields] of QUERY_CASES) {
        const response = await tc.admin.get(path);
        assertBadInput(`GET ${path}`, response, fields);
        assert.ok(
          response.body.errors.every((e: { in?: string }) => e.in === 'query'),
          `${path}: ${JSON.stringify(response.body.errors)}`,
        );
      }
    });

    test('malformed JSON is a 400 invalid-json problem', async () => {
      for (const raw of ['{"name": ', '{name: "web"}', "{'name': 'web'}", '\u0000', '{"name":"a"}}']) {
        const response = await alice.request('POST', APP, raw);
        assert.equal(response.status, 400, raw);
        assert.equal(response.body.type, 'urn:leengine:problem:invalid-json', raw);
      }
    });

    test('injection strings in paths and search are only ever data: 404 or an empty list, never 500', async () => {
      const before = await snapshot();
      for (const value of [...INJECTIONS, '..', '%2e%2e', 'web%00', 'web/../../etc']) {
        const encoded = encodeURIComponent(value);
        for (const path of [
          `${APP}/${encoded}`,
          `${APP}/${encoded}/members`,
          `/api/v1/image-groups/${encoded}/repositories/${encoded}`,
          `/api/v1/build-projects/${encoded}`,
          `/api/v1/users/${encoded}`,
        ]) {
          const response = await alice.get(path);
          assert.ok([400, 404].includes(response.status), `${path}: ${response.status}`);
          assert.equal(typeof response.body.type, 'string', `${path} answers a problem`);
        }
        for (const method of ['PATCH', 'DELETE']) {
          const response = await alice.request(
            method,
            `${APP}/${encoded}`,
            method === 'PATCH' ? {} : undefined,
          );
          assert.ok([400, 404].includes(response.status), `${method} ${value}: ${response.status}`);
        }
        // Search text may not hold control characters (a 400 of its own); the rest is searched for.
        if (!/\p{Cc}/u.test(value)) {
          const search = await alice.get(`${APP}?q=${encoded}`);
          assert.equal(search.status, 200, value);
          assert.deepEqual(search.body.items, [], `${value} matches nothing`);
        }
      }
      const tokenId = await alice.delete('/api/v1/user/tokens/1%20or%201=1');
      assert.equal(tokenId.status, 400);
      assert.equal((await alice.delete('/api/v1/user/tokens/99999999999')).status, 400);
      assert.deepEqual(await snapshot(), before);
      // The tables are all still there.
      assert.equal((await alice.get(`${APP}/web`)).status, 200);
    });
  });
}
