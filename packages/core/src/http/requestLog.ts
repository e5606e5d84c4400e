import type { FastifyInstance } from 'fastify';

/** Requests slower than this are logged (with the status and time). */
export const SLOW_REQUEST_MS = 1_000;

/**
 * Logs failed (5xx) and slow requests only, one line each. Fastify's own request logging
 * (two lines per request at info) is off: at the request rates core serves, it would be
 * most of the log and a good share of the CPU. The failure itself is logged with its
 * stack by the error handler (problems.ts).
 */
export function logFailedAndSlowRequests(app: FastifyInstance, slowMs = SLOW_REQUEST_MS): void {
  app.addHook('onResponse', async (request, reply) => {
    const ms = reply.elapsedTime;
    const status = reply.statusCode;
    if (status < 500 && ms < slowMs) return;
    request.log.warn(
      {
        req: { method: request.method, url: request.url, remoteAddress: request.ip },
        status,
        responseTimeMs: Math.round(ms),
      },
      status >= 500 ? 'request failed' : 'slow request',
    );
  });
}
