import { RegistryGcListSchema, RegistryGcSchema, StartRegistryGcSchema } from '@leengine/common';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerOf } from '../http/authHook.ts';
import { AUTHENTICATED, NameParamSchema, problems } from '../http/schemas.ts';
import type { RegistryGcService } from './registryGcService.ts';

const tags = ['registry'];

/** /registry/garbage-collections: dry runs and collections of the region registry (admins). */
export function registryGcRoutes(gc: RegistryGcService): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/registry/garbage-collections',
      {
        schema: {
          tags,
          summary:
            'Start a dry run (default: report reclaimable blobs and bytes) or a collection (dryRun: false: read-only, collect, read-write) of the region registry; one at a time (admins)',
          body: StartRegistryGcSchema,
          response: { 202: RegistryGcSchema, ...problems(...AUTHENTICATED, 409, 503) },
        },
      },
      async (request, reply) => reply.status(202).send(await gc.start(callerOf(request), request.body)),
    );
    app.get(
      '/registry/garbage-collections',
      {
        schema: {
          tags,
          summary: 'The garbage collections this core ran, newest first (admins)',
          response: { 200: RegistryGcListSchema, ...problems(401, 403, 503) },
        },
      },
      async (request) => ({ items: gc.list(callerOf(request)) }),
    );
    app.get(
      '/registry/garbage-collections/:id',
      {
        schema: {
          tags,
          summary: "A garbage collection's state, steps and report (admins)",
          params: z.strictObject({ id: NameParamSchema }),
          response: { 200: RegistryGcSchema, ...problems(...AUTHENTICATED, 503) },
        },
      },
      async (request) => gc.get(callerOf(request), request.params.id),
    );
  };
}
