import { FeedQuerySchema, OperationSchema, pageSchema } from '@leengine/common';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerOf } from '../http/authHook.ts';
import { AUTHENTICATED, NameParamSchema, NameParamsSchema, problems } from '../http/schemas.ts';
import type { Services } from '../services.ts';

const tags = ['application'];
const OperationParams = z.strictObject({
  name: NameParamSchema,
  id: z.coerce
    .number()
    .int()
    .min(1)
    .max(2 ** 31 - 1),
});

/** Tracked operations (deploy, rollback, scale): their steps and progress, and abort. */
export function operationRoutes(services: Services): FastifyPluginAsyncZod {
  const operations = services.operations;
  return async (app) => {
    app.get(
      '/applications/:name/operations',
      {
        schema: {
          tags,
          summary: "The application's operations, newest first",
          params: NameParamsSchema,
          querystring: FeedQuerySchema,
          response: { 200: pageSchema(OperationSchema), ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => operations.list(callerOf(request), request.params.name, request.query),
    );
    app.get(
      '/applications/:name/operations/:id',
      {
        schema: {
          tags,
          summary: 'An operation with its steps and progress',
          params: OperationParams,
          response: { 200: OperationSchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => operations.get(callerOf(request), request.params.name, request.params.id),
    );
    app.post(
      '/applications/:name/operations/:id/abort',
      {
        schema: {
          tags,
          summary:
            'Abort a running operation before the old version leaves the load balancer (a deploy then removes its version)',
          params: OperationParams,
          response: { 200: OperationSchema, ...problems(...AUTHENTICATED, 409) },
        },
      },
      async (request) => operations.abort(callerOf(request), request.params.name, request.params.id),
    );
  };
}
