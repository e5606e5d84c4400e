import { ApplicationEventSchema, FeedQuerySchema, pageSchema } from '@leengine/common';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { callerOf } from '../http/authHook.ts';
import { AUTHENTICATED, NameParamsSchema, problems } from '../http/schemas.ts';
import type { Services } from '../services.ts';

/** /applications/{name}/events: Kubernetes events from every cell, and the platform's own. */
export function eventRoutes(services: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/applications/:name/events',
      {
        schema: {
          tags: ['application'],
          summary:
            "The application's events from every cell (collected continuously) and from its operations, newest first",
          params: NameParamsSchema,
          querystring: FeedQuerySchema,
          response: { 200: pageSchema(ApplicationEventSchema), ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => services.events.list(callerOf(request), request.params.name, request.query),
    );
  };
}
