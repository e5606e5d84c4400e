import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

/** A dependency core needs to serve (database, etcd, ...). */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

const CheckResult = z.object({ status: z.enum(['ok', 'failed']), error: z.string().optional() });

const Readiness = z
  .object({
    status: z.enum(['ready', 'not-ready']),
    checks: z.record(z.string(), CheckResult),
  })
  .meta({ id: 'Readiness' });

const CHECK_TIMEOUT_MS = 2000;

/** /healthz (the process lives) and /readyz (its dependencies answer). */
export function healthRoutes(checks: ReadinessCheck[]): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/healthz',
      {
        schema: {
          tags: ['health'],
          summary: 'Liveness: the process is up',
          response: { 200: z.object({ status: z.literal('ok') }) },
        },
      },
      async () => ({ status: 'ok' as const }),
    );
    app.get(
      '/readyz',
      {
        schema: {
          tags: ['health'],
          summary: 'Readiness: every dependency answers',
          response: { 200: Readiness, 503: Readiness },
        },
      },
      async (_request, reply) => {
        const results = await Promise.all(checks.map(runCheck));
        const ready = results.every(([, r]) => r.status === 'ok');
        return reply
          .status(ready ? 200 : 503)
          .send({ status: ready ? 'ready' : 'not-ready', checks: Object.fromEntries(results) });
      },
    );
  };
}

async function runCheck(c: ReadinessCheck): Promise<[string, z.infer<typeof CheckResult>]> {
  try {
    await Promise.race([
      c.check(),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`no answer in ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS).unref(),
      ),
    ]);
    return [c.name, { status: 'ok' }];
  } catch (error) {
    return [c.name, { status: 'failed', error: error instanceof Error ? error.message : String(error) }];
  }
}
