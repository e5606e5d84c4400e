import { PullSecretRotationSchema } from '@leengine/common';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { callerOf } from '../http/authHook.ts';
import { AUTHENTICATED, NameParamsSchema, problems } from '../http/schemas.ts';
import type { Services } from '../services.ts';

const tags = ['application'];

/** /applications/:name/pull-secret: the application's registry pull credential. */
export function pullSecretRoutes(services: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/applications/:name/pull-secret/rotate',
      {
        schema: {
          tags,
          summary:
            "Give the application's pull secret a new value: the old one gets no token any more, every cell's leengine-pull Secret is rewritten (role update)",
          params: NameParamsSchema,
          response: { 200: PullSecretRotationSchema, ...problems(...AUTHENTICATED, 503) },
        },
      },
      async (request) => services.pullSecrets.rotate(callerOf(request), request.params.name),
    );
  };
}
