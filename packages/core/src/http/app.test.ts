import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NotFoundError, ProblemSchema } from '@leengine/common';
import pino from 'pino';
import { z } from 'zod';
import { type App, buildApp } from './app.ts';
import type { ReadinessCheck } from './health.ts';

const silent = pino({ level: 'silent' });

async function appWith(readiness: ReadinessCheck[] = []): Promise<App> {
  const app = await buildApp({ logger: silent, readiness, version: '0.0.0-test' });
  // A route with a strict body, to see how validation errors reach the caller.
  app.post(
    '/echo',
    {
      schema: {
        body: z.strictObject({
          name: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/),
          replicas: z.number().int().min(1).max(100),
          env: z.array(z.strictObject({ name: z.string().min(1), value: z.string() })).optional(),
        }),
      },
    },
    async (request) => request.body,
  );
  app.get('/missing', async () => {
    throw new NotFoundError('application "web" not found');
  });
  app.get('/crash', async () => {
    throw new Error('secret internal detail');
  });
  return app;
}

test('GET /healthz answers ok', async () => {
  const app = await appWith();
  const response = await app.inject({ method: 'GET', url: '/healthz' });
  assert.equal(response.statusCode, 200);
  assert.deepEqual(response.json(), { status: 'ok' });
});

test('GET /readyz is 200 when every check passes and 503 naming the failed one', async () => {
  const ok = await appWith([{ name: 'database', check: async () => {} }]);
  assert.equal((await ok.inject('/readyz')).statusCode, 200);

  const down = await appWith([
    { name: 'database', check: async () => {} },
    {
      name: 'etcd',
      check: async () => {
        throw new Error('connection refused');
      },
    },
  ]);
  const response = await down.inject('/readyz');
  assert.equal(response.statusCode, 503);
  assert.deepEqual(response.json(), {
    status: 'not-ready',
    checks: { database: { status: 'ok' }, etcd: { status: 'failed', error: 'connection refused' } },
  });
});

test('/openapi.json is an OpenAPI 3.1 document with the health routes and named schemas', async () => {
  const app = await appWith();
  const doc = (await app.inject('/openapi.json')).json() as {
    openapi: string;
    paths: Record<string, unknown>;
    components: { schemas: Record<string, unknown> };
  };
  assert.equal(doc.openapi, '3.1.0');
  assert.ok(doc.paths['/healthz']);
  assert.ok(doc.paths['/readyz']);
  assert.ok(doc.components.schemas.Readiness, 'referenced schemas are defined in components');
});

test('invalid bodies get a 400 problem naming each offending field', async () => {
  const app = await appWith();
  const response = await app.inject({
    method: 'POST',
    url: '/echo',
    payload: { name: 'Web App; rm -rf /', replicas: 0, env: [{ name: '', value: 1 }], extra: true },
  });
  assert.equal(response.statusCode, 400);
  assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
  const problem = ProblemSchema.parse(response.json());
  assert.equal(problem.type, 'urn:leengine:problem:invalid-input');
  const paths = (problem.errors ?? []).map((e) => `${e.in}:${e.path}`).sort();
  assert.deepEqual(paths, [
    'body:env.0.name',
    'body:env.0.value',
    'body:extra',
    'body:name',
    'body:replicas',
  ]);
  const unknown = problem.errors?.find((e) => e.path === 'extra');
  assert.equal(unknown?.message, 'is not a known field', 'an unknown field is reported at its own path');
});

test('malformed JSON and wrong content types are problems, not crashes', async () => {
  const app = await appWith();
  const badJson = await app.inject({
    method: 'POST',
    url: '/echo',
    headers: { 'content-type': 'application/json' },
    payload: '{"name": ',
  });
  assert.equal(badJson.statusCode, 400);
  assert.equal(badJson.json().type, 'urn:leengine:problem:invalid-json');

  const text = await app.inject({
    method: 'POST',
    url: '/echo',
    headers: { 'content-type': 'text/plain' },
    payload: 'hello',
  });
  assert.equal(text.statusCode, 415);
  assert.equal(text.json().type, 'urn:leengine:problem:unsupported-media-type');

  const big = await app.inject({
    method: 'POST',
    url: '/echo',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ name: 'a'.repeat(2 * 1024 * 1024), replicas: 1 }),
  });
  assert.equal(big.statusCode, 413);
  assert.equal(big.json().type, 'urn:leengine:problem:body-too-large');
});

test('domain errors map to their status; internal errors hide their detail', async () => {
  const app = await appWith();
  const missing = await app.inject('/missing');
  assert.equal(missing.statusCode, 404);
  assert.deepEqual(missing.json(), {
    type: 'urn:leengine:problem:not-found',
    title: 'Not Found',
    status: 404,
    detail: 'application "web" not found',
    instance: '/missing',
  });

  const crash = await app.inject('/crash');
  assert.equal(crash.statusCode, 500);
  assert.equal(crash.json().type, 'urn:leengine:problem:internal');
  assert.ok(!crash.body.includes('secret internal detail'));
});

test('an unknown route is a 404 problem', async () => {
  const app = await appWith();
  const response = await app.inject('/api/v1/nothing-here?x=1');
  assert.equal(response.statusCode, 404);
  assert.equal(response.json().type, 'urn:leengine:problem:route-not-found');
  assert.equal(response.json().detail, 'no route GET /api/v1/nothing-here');
});
