import { ContainerListSchema, ExecRequestSchema, ExecResultSchema, LogQuerySchema } from '@leengine/common';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerOf } from '../http/authHook.ts';
import { AUTHENTICATED, NameParamSchema, NameParamsSchema, problems } from '../http/schemas.ts';
import type { Services } from '../services.ts';

const tags = ['application'];
const LogParams = z.strictObject({ name: NameParamSchema, cell: NameParamSchema, pod: NameParamSchema });

/** Containers of an application in every cell, and their logs (tail, or follow). */
export function containerRoutes(services: Services): FastifyPluginAsyncZod {
  const containers = services.containers;
  return async (app) => {
    // Followed logs stay open as long as their container runs: core ends them when it
    // stops, or closing the server would wait for every one of them.
    const followed = new Set<() => void>();
    app.addHook('preClose', async () => {
      for (const end of followed) end();
    });
    app.get(
      '/applications/:name/containers',
      {
        schema: {
          tags,
          summary: 'Containers in every cell: cell, node, pod IP, version, state, restarts, start time',
          params: NameParamsSchema,
          response: { 200: ContainerListSchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => containers.list(callerOf(request), request.params.name),
    );
    app.post(
      '/applications/:name/cells/:cell/containers/:pod/exec',
      {
        schema: {
          tags,
          summary:
            'Run a command in a container, as kubectl exec (no shell unless you run one, no TTY, no stdin): its exit code, stdout and stderr (role exec; recorded in the activity feed)',
          params: LogParams,
          body: ExecRequestSchema,
          response: { 200: ExecResultSchema, ...problems(...AUTHENTICATED, 503) },
        },
      },
      async (request) => {
        const { name, cell, pod } = request.params;
        return containers.exec(callerOf(request), name, cell, pod, request.body);
      },
    );
    app.get(
      '/applications/:name/cells/:cell/containers/:pod/logs',
      {
        schema: {
          tags,
          summary:
            "A container's log as text/plain: its last `tail` lines, and with follow=true new lines as they come (role logs)",
          params: LogParams,
          querystring: LogQuerySchema,
          response: { 200: z.string().describe('text/plain log lines'), ...problems(...AUTHENTICATED, 503) },
        },
      },
      async (request, reply) => {
        const caller = callerOf(request);
        const { name, cell, pod } = request.params;
        const { tail, follow } = request.query;
        reply.type('text/plain; charset=utf-8');
        if (!follow) return reply.send(await containers.tail(caller, name, cell, pod, tail));
        const stream = await containers.follow(caller, name, cell, pod, tail);
        // Headers go out at once (a quiet container writes nothing for a while); then the
        // lines as they come, until either side goes away.
        reply.hijack();
        const out = reply.raw;
        out.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
        out.flushHeaders();
        const end = () => {
          followed.delete(end);
          stream.destroy();
          out.end();
        };
        followed.add(end);
        // The response's close: the client went away (or the answer ended).
        out.on('close', end);
        stream.on('error', end);
        stream.on('end', () => followed.delete(end));
        stream.pipe(out);
        return reply;
      },
    );
  };
}
