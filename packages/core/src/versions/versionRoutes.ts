import {
  DeployVersionSchema,
  NewVersionSchema,
  OperationSchema,
  RollbackSchema,
  ScaleVersionSchema,
  VersionSchema,
} from '@leengine/common';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerOf } from '../http/authHook.ts';
import { AUTHENTICATED, NameParamSchema, NameParamsSchema, problems } from '../http/schemas.ts';
import type { Services } from '../services.ts';

const tags = ['application'];
const VersionParams = z.strictObject({ name: NameParamSchema, version: NameParamSchema });

/** Versions of an application: list, the prefilled deploy form, deploy (gray upgrade), scale, rollback. */
export function versionRoutes(services: Services): FastifyPluginAsyncZod {
  const versions = services.versions;
  return async (app) => {
    app.get(
      '/applications/:name/versions',
      {
        schema: {
          tags,
          summary: 'Versions of the application, newest first, with what each cell last reported',
          params: NameParamsSchema,
          response: { 200: z.object({ items: z.array(VersionSchema) }), ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => ({ items: await versions.list(callerOf(request), request.params.name) }),
    );
    app.get(
      '/applications/:name/versions/new',
      {
        schema: {
          tags,
          summary:
            'The deploy form prefilled from the newest version (secret values left out: sent so, they are kept)',
          params: NameParamsSchema,
          response: { 200: NewVersionSchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => versions.template(callerOf(request), request.params.name),
    );
    app.post(
      '/applications/:name/versions',
      {
        schema: {
          tags,
          summary:
            'Deploy a new version: a gray upgrade of the running ones, tracked as an operation (role deploy; quota checked first)',
          params: NameParamsSchema,
          body: DeployVersionSchema,
          response: { 202: OperationSchema, ...problems(...AUTHENTICATED, 409, 422, 503) },
        },
      },
      async (request, reply) => {
        const op = await versions.deploy(callerOf(request), request.params.name, request.body);
        return reply
          .status(202)
          .header('location', `/api/v1/applications/${request.params.name}/operations/${op.id}`)
          .send(op);
      },
    );
    app.get(
      '/applications/:name/versions/:version',
      {
        schema: {
          tags,
          summary: 'Read a version',
          params: VersionParams,
          response: { 200: VersionSchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => versions.get(callerOf(request), request.params.name, request.params.version),
    );
    app.post(
      '/applications/:name/versions/:version/scale',
      {
        schema: {
          tags,
          summary:
            'Scale a running version, in total or per cell; instances that stop leave the load balancer first (role scale)',
          params: VersionParams,
          body: ScaleVersionSchema,
          response: { 202: OperationSchema, ...problems(...AUTHENTICATED, 409, 422) },
        },
      },
      async (request, reply) =>
        reply
          .status(202)
          .send(
            await versions.scale(
              callerOf(request),
              request.params.name,
              request.params.version,
              request.body,
            ),
          ),
    );
    app.post(
      '/applications/:name/rollback',
      {
        schema: {
          tags,
          summary:
            'Roll back to an earlier version: it runs again and replaces the current ones (role rollback)',
          params: NameParamsSchema,
          body: RollbackSchema,
          response: { 202: OperationSchema, ...problems(...AUTHENTICATED, 409, 422) },
        },
      },
      async (request, reply) =>
        reply.status(202).send(await versions.rollback(callerOf(request), request.params.name, request.body)),
    );
  };
}
