import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import { problemType } from '@leengine/common';
import type { FastifyInstance } from 'fastify';
import { sendProblem } from './problems.ts';

/**
 * Serves the built console (packages/console/dist) at `/`, with the single-page app's
 * routes falling back to index.html. Without a build, `/` says how to make one.
 */
export async function registerConsole(app: FastifyInstance, dir: string): Promise<void> {
  const index = join(dir, 'index.html');
  if (!existsSync(index)) {
    app.get('/', { schema: { hide: true } }, async (request, reply) =>
      sendProblem(reply, {
        type: problemType('console-not-built'),
        title: 'Service Unavailable',
        status: 503,
        detail: `the console is not built in ${dir}: run ./dev setup (or npm run build -w @leengine/console)`,
        instance: request.url,
      }),
    );
    return;
  }
  await app.register(fastifyStatic, { root: dir, prefix: '/', index: ['index.html'], wildcard: false });
  // Client-side routes (/applications/shop, /boss, ...) are the app's: answer index.html.
  app.get('/*', { schema: { hide: true } }, async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (path.startsWith('/api/') || /\.[a-z0-9]+$/i.test(path)) {
      return sendProblem(reply, {
        type: problemType('route-not-found'),
        title: 'Not Found',
        status: 404,
        detail: `no route ${request.method} ${path}`,
        instance: request.url,
      });
    }
    return reply.type('text/html').sendFile('index.html');
  });
}
