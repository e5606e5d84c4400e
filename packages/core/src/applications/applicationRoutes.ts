import {
  ApplicationSchema,
  CreateApplicationSchema,
  pageSchema,
  ResourceListQuerySchema,
  UpdateApplicationSchema,
} from '@leengine/common';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { callerOf } from '../http/authHook.ts';
import { resourceSubroutes } from '../http/resourceSubroutes.ts';
import { AUTHENTICATED, NameParamsSchema, NoContentSchema, problems } from '../http/schemas.ts';
import type { Services } from '../services.ts';

const tags = ['application'];

/** /applications: create, list (mine), read, update, delete, plus access, members, activity. */
export function applicationRoutes(services: Services): FastifyPluginAsyncZod {
  const applications = services.applications;
  return async (app) => {
    app.get(
      '/applications',
      {
        schema: {
          tags,
          summary: 'List the applications the caller is a member of (scope=all: every one, admins)',
          querystring: ResourceListQuerySchema,
          response: { 200: pageSchema(ApplicationSchema), ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => applications.list(callerOf(request), request.query),
    );
    app.post(
      '/applications',
      {
        schema: {
          tags,
          summary: 'Create an application; the caller becomes its Owner (counts against their quota)',
          body: CreateApplicationSchema,
          response: { 201: ApplicationSchema, ...problems(...AUTHENTICATED, 409, 422) },
        },
      },
      async (request, reply) =>
        reply.status(201).send(await applications.create(callerOf(request), request.body)),
    );
    app.get(
      '/applications/:name',
      {
        schema: {
          tags,
          summary: 'Read an application',
          params: NameParamsSchema,
          response: { 200: ApplicationSchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => applications.get(callerOf(request), request.params.name),
    );
    app.patch(
      '/applications/:name',
      {
        schema: {
          tags,
          summary: 'Update an application',
          params: NameParamsSchema,
          body: UpdateApplicationSchema,
          response: { 200: ApplicationSchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => applications.update(callerOf(request), request.params.name, request.body),
    );
    app.delete(
      '/applications/:name',
      {
        schema: {
          tags,
          summary: 'Delete an application',
          params: NameParamsSchema,
          response: { 204: NoContentSchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request, reply) => {
        await applications.delete(callerOf(request), request.params.name);
        return reply.status(204).send();
      },
    );
    await app.register(
      resourceSubroutes(services, {
        kind: 'application',
        path: '/applications/:name',
        params: NameParamsSchema,
        nameOf: (p) => p.name ?? '',
      }),
    );
  };
}
