import {
  CreateImageRepositorySchema,
  ImageRepositorySchema,
  pageSchema,
  ResourceListQuerySchema,
  UpdateImageRepositorySchema,
} from '@leengine/common';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerOf } from '../http/authHook.ts';
import { resourceSubroutes } from '../http/resourceSubroutes.ts';
import { AUTHENTICATED, NameParamSchema, NoContentSchema, problems } from '../http/schemas.ts';
import type { Services } from '../services.ts';

const tags = ['image-repository'];
const RepositoryParamsSchema = z.strictObject({ group: NameParamSchema, name: NameParamSchema });
const GroupParamsSchema = z.strictObject({ group: NameParamSchema });

/**
 * Image repositories live under their group: /image-groups/:group/repositories/:name.
 * /image-repositories lists every one the caller sees, public ones included.
 */
export function imageRepositoryRoutes(services: Services): FastifyPluginAsyncZod {
  const repositories = services.imageRepositories;
  return async (app) => {
    app.get(
      '/image-repositories',
      {
        schema: {
          tags,
          summary: 'List the image repositories the caller sees: member of it or its group, or public',
          querystring: ResourceListQuerySchema,
          response: { 200: pageSchema(ImageRepositorySchema), ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => repositories.list(callerOf(request), request.query),
    );
    app.get(
      '/image-groups/:group/repositories',
      {
        schema: {
          tags,
          summary: 'List the image repositories of a group that the caller sees',
          params: GroupParamsSchema,
          querystring: ResourceListQuerySchema,
          response: { 200: pageSchema(ImageRepositorySchema), ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => repositories.listInGroup(callerOf(request), request.params.group, request.query),
    );
    app.post(
      '/image-groups/:group/repositories',
      {
        schema: {
          tags,
          summary:
            "Create an image repository in a group (group's create-repository); the caller becomes its Owner",
          params: GroupParamsSchema,
          body: CreateImageRepositorySchema,
          response: { 201: ImageRepositorySchema, ...problems(...AUTHENTICATED, 409) },
        },
      },
      async (request, reply) =>
        reply
          .status(201)
          .send(await repositories.create(callerOf(request), request.params.group, request.body)),
    );
    app.get(
      '/image-groups/:group/repositories/:name',
      {
        schema: {
          tags,
          summary: 'Read an image repository',
          params: RepositoryParamsSchema,
          response: { 200: ImageRepositorySchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => repositories.get(callerOf(request), request.params.group, request.params.name),
    );
    app.patch(
      '/image-groups/:group/repositories/:name',
      {
        schema: {
          tags,
          summary: 'Update an image repository (description, public)',
          params: RepositoryParamsSchema,
          body: UpdateImageRepositorySchema,
          response: { 200: ImageRepositorySchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request) =>
        repositories.update(callerOf(request), request.params.group, request.params.name, request.body),
    );
    app.delete(
      '/image-groups/:group/repositories/:name',
      {
        schema: {
          tags,
          summary: 'Delete an image repository and its manifests in the registry',
          params: RepositoryParamsSchema,
          response: { 204: NoContentSchema, ...problems(...AUTHENTICATED, 409, 503) },
        },
      },
      async (request, reply) => {
        await repositories.delete(callerOf(request), request.params.group, request.params.name);
        return reply.status(204).send();
      },
    );
    await app.register(
      resourceSubroutes(services, {
        kind: 'image-repository',
        path: '/image-groups/:group/repositories/:name',
        params: RepositoryParamsSchema,
        nameOf: (p) => `${p.group}/${p.name}`,
      }),
    );
  };
}
