import {
  CreateImageGroupSchema,
  ImageGroupSchema,
  pageSchema,
  ResourceListQuerySchema,
  UpdateImageGroupSchema,
} from '@leengine/common';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { callerOf } from '../http/authHook.ts';
import { resourceSubroutes } from '../http/resourceSubroutes.ts';
import { AUTHENTICATED, NameParamsSchema, NoContentSchema, problems } from '../http/schemas.ts';
import type { Services } from '../services.ts';

const tags = ['image-group'];

/** /image-groups: create, list (mine), read, update, delete, plus access, members, activity. */
export function imageGroupRoutes(services: Services): FastifyPluginAsyncZod {
  const groups = services.imageGroups;
  return async (app) => {
    app.get(
      '/image-groups',
      {
        schema: {
          tags,
          summary: 'List the image groups the caller is a member of (scope=all: every one, admins)',
          querystring: ResourceListQuerySchema,
          response: { 200: pageSchema(ImageGroupSchema), ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => groups.list(callerOf(request), request.query),
    );
    app.post(
      '/image-groups',
      {
        schema: {
          tags,
          summary: 'Create an image group; the caller becomes its Owner',
          body: CreateImageGroupSchema,
          response: { 201: ImageGroupSchema, ...problems(...AUTHENTICATED, 409) },
        },
      },
      async (request, reply) => reply.status(201).send(await groups.create(callerOf(request), request.body)),
    );
    app.get(
      '/image-groups/:name',
      {
        schema: {
          tags,
          summary: 'Read an image group',
          params: NameParamsSchema,
          response: { 200: ImageGroupSchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => groups.get(callerOf(request), request.params.name),
    );
    app.patch(
      '/image-groups/:name',
      {
        schema: {
          tags,
          summary: 'Update an image group',
          params: NameParamsSchema,
          body: UpdateImageGroupSchema,
          response: { 200: ImageGroupSchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => groups.update(callerOf(request), request.params.name, request.body),
    );
    app.delete(
      '/image-groups/:name',
      {
        schema: {
          tags,
          summary: 'Delete an empty image group',
          params: NameParamsSchema,
          response: { 204: NoContentSchema, ...problems(...AUTHENTICATED, 409) },
        },
      },
      async (request, reply) => {
        await groups.delete(callerOf(request), request.params.name);
        return reply.status(204).send();
      },
    );
    await app.register(
      resourceSubroutes(services, {
        kind: 'image-group',
        path: '/image-groups/:name',
        params: NameParamsSchema,
        nameOf: (p) => p.name ?? '',
      }),
    );
  };
}
