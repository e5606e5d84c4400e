import {
  BuildProjectSchema,
  CreateBuildProjectSchema,
  pageSchema,
  ResourceListQuerySchema,
  UpdateBuildProjectSchema,
} from '@leengine/common';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { callerOf } from '../http/authHook.ts';
import { resourceSubroutes } from '../http/resourceSubroutes.ts';
import { AUTHENTICATED, NameParamsSchema, NoContentSchema, problems } from '../http/schemas.ts';
import type { Services } from '../services.ts';

const tags = ['build-project'];

/** /build-projects: create, list (mine), read, update, delete, plus access, members, activity. */
export function buildProjectRoutes(services: Services): FastifyPluginAsyncZod {
  const projects = services.buildProjects;
  return async (app) => {
    app.get(
      '/build-projects',
      {
        schema: {
          tags,
          summary: 'List the build projects the caller is a member of (scope=all: every one, admins)',
          querystring: ResourceListQuerySchema,
          response: { 200: pageSchema(BuildProjectSchema), ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => projects.list(callerOf(request), request.query),
    );
    app.post(
      '/build-projects',
      {
        schema: {
          tags,
          summary:
            'Create a build project (needs push on its image repository); the caller becomes its Owner',
          body: CreateBuildProjectSchema,
          response: { 201: BuildProjectSchema, ...problems(...AUTHENTICATED, 409) },
        },
      },
      async (request, reply) =>
        reply.status(201).send(await projects.create(callerOf(request), request.body)),
    );
    app.get(
      '/build-projects/:name',
      {
        schema: {
          tags,
          summary: 'Read a build project',
          params: NameParamsSchema,
          response: { 200: BuildProjectSchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => projects.get(callerOf(request), request.params.name),
    );
    app.patch(
      '/build-projects/:name',
      {
        schema: {
          tags,
          summary: 'Update a build project',
          params: NameParamsSchema,
          body: UpdateBuildProjectSchema,
          response: { 200: BuildProjectSchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => projects.update(callerOf(request), request.params.name, request.body),
    );
    app.delete(
      '/build-projects/:name',
      {
        schema: {
          tags,
          summary: 'Delete a build project',
          params: NameParamsSchema,
          response: { 204: NoContentSchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request, reply) => {
        await projects.delete(callerOf(request), request.params.name);
        return reply.status(204).send();
      },
    );
    await app.register(
      resourceSubroutes(services, {
        kind: 'build-project',
        path: '/build-projects/:name',
        params: NameParamsSchema,
        nameOf: (p) => p.name ?? '',
      }),
    );
  };
}
