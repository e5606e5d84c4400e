import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestCore, type TestCore } from '../testing/testCore.ts';

let tc: TestCore;
before(async () => {
  tc = await startTestCore();
});
after(() => tc?.close());

interface Doc {
  openapi: string;
  paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, { type: string }> };
}

test('/openapi.json describes every /api/v1 route from the same zod schemas', async () => {
  const doc = (await tc.anonymous.get('/openapi.json')).body as Doc;
  assert.equal(doc.openapi, '3.1.0');
  for (const path of [
    '/api/v1/permissions',
    '/api/v1/session',
    '/api/v1/user/tokens',
    '/api/v1/users/{username}',
    '/api/v1/applications',
    '/api/v1/applications/{name}/members/{username}',
    '/api/v1/applications/{name}/pull-secret/rotate',
    '/api/v1/image-groups/{group}/repositories/{name}/access',
    '/api/v1/build-projects/{name}/activity',
    '/api/v1/quotas/default',
    '/api/v1/statistics/operations',
  ]) {
    assert.ok(doc.paths[path], `${path} is documented`);
  }
  const create = doc.paths['/api/v1/applications']?.post;
  assert.match(JSON.stringify(create?.requestBody), /CreateApplication/);
  assert.ok(create?.responses['201'] && create.responses['409'] && create.responses['422']);
  assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['session', 'token']);
  assert.ok(doc.components.schemas.Problem);
  assert.ok(doc.components.schemas.PermissionTable);
});

test('GET /api/v1/permissions serves the table without sign-in', async () => {
  const response = await tc.anonymous.get('/api/v1/permissions');
  assert.equal(response.status, 200);
  const application = response.body.resources.find((r: { kind: string }) => r.kind === 'application');
  const deploy = application.actions.find((a: { action: string }) => a.action === 'deploy');
  assert.deepEqual(deploy.roles, ['owner', 'master']);
});
