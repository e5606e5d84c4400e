import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { logFailedAndSlowRequests } from './requestLog.ts';

test('only failed and slow requests are logged, one line each', async () => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const app = Fastify({
    loggerInstance: pino({ level: 'info' }, sink) as FastifyBaseLogger,
    disableRequestLogging: true,
  });
  logFailedAndSlowRequests(app, 50);
  app.get('/ok', async () => ({ ok: true }));
  app.get('/crash', async () => {
    throw new Error('boom');
  });
  app.get('/slow', async () => {
    await sleep(80);
    return { ok: true };
  });
  for (let i = 0; i < 5; i++) assert.equal((await app.inject('/ok')).statusCode, 200);
  assert.equal((await app.inject('/crash')).statusCode, 500);
  assert.equal((await app.inject('/slow')).statusCode, 200);
  await app.close();
  const requestLines = lines.filter((l) => l.msg === 'request failed' || l.msg === 'slow request');
  assert.deepEqual(
    requestLines.map((l) => [l.msg, (l.req as { url: string }).url, l.status]),
    [
      ['request failed', '/crash', 500],
      ['slow request', '/slow', 200],
    ],
  );
  assert.ok(!lines.some((l) => (l.req as { url?: string } | undefined)?.url === '/ok'), 'fast ones are not');
});
