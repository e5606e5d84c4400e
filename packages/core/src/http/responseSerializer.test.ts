import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ApplicationSchema,
  ImageGroupSchema,
  PermissionTableSchema,
  pageSchema,
  TokenSchema,
  UserSchema,
} from '@leengine/common';
import { serializerCompiler } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { startTestCore } from '../testing/testCore.ts';
import { fastSerializerCompiler } from './responseSerializer.ts';

const route = (schema: z.ZodType) =>
  ({ schema, method: 'GET', url: '/x', httpStatus: '200' }) as Parameters<typeof serializerCompiler>[0];

const application = {
  name: 'web',
  description: 'the "web" app \u2028 <script>',
  createdBy: 'alice',
  createdAt: '2026-11-26T10:00:00.000Z',
  updatedAt: '2026-11-26T10:00:00.000Z',
  callerRole: null,
  allocation: { instances: 2, cpuMillicores: 500, memoryMib: 256 },
  region: 'east',
  cells: [{ name: 'east-a', state: 'active' }],
};

test('the fast serializer writes what zod would, and nothing beyond the schema', () => {
  const schema = pageSchema(ApplicationSchema);
  const fast = fastSerializerCompiler(route(schema)) as (data: unknown) => string;
  const checked = serializerCompiler(route(schema)) as (data: unknown) => string;
  const page = {
    items: [application, { ...application, name: 'api', region: null, cells: [] }],
    nextCursor: null,
  };
  assert.equal(fast(page), checked(page));
  const leaky = {
    items: [
      {
        ...application,
        id: 7,
        passwordHash: 'scrypt$...',
        allocation: { ...application.allocation, secret: 1 },
      },
    ],
    nextCursor: 'c',
  };
  assert.deepEqual(JSON.parse(fast(leaky)), { items: [application], nextCursor: 'c' });
});

test('with responses not validated, core answers exactly what the schemas describe', async () => {
  const tc = await startTestCore({ validateResponses: false });
  try {
    const alice = await tc.user('alice');
    assert.equal((await alice.post('/api/v1/applications', { name: 'web', description: 'x' })).status, 201);
    assert.equal((await alice.post('/api/v1/image-groups', { name: 'base' })).status, 201);
    assert.equal((await alice.post('/api/v1/user/tokens', { name: 'ci' })).status, 201);
    const answers: [string, z.ZodType][] = [
      ['/api/v1/applications', pageSchema(ApplicationSchema)],
      ['/api/v1/applications/web', ApplicationSchema],
      ['/api/v1/image-groups', pageSchema(ImageGroupSchema)],
      ['/api/v1/user', UserSchema],
      ['/api/v1/user/tokens', pageSchema(TokenSchema)],
      ['/api/v1/permissions', PermissionTableSchema],
    ];
    for (const [path, schema] of answers) {
      const answer = await alice.get(path);
      assert.equal(answer.status, 200, path);
      assert.deepEqual(answer.body, schema.parse(answer.body), path);
    }
    const missing = await alice.get('/api/v1/applications/nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.type, 'urn:leengine:problem:not-found');
  } finally {
    await tc.close();
  }
});
