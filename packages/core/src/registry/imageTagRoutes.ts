import { RegistryInfoSchema, RegistryTagListSchema, RegistryTagNameSchema } from '@leengine/common';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerOf } from '../http/authHook.ts';
import { AUTHENTICATED, NameParamSchema, NoContentSchema, problems } from '../http/schemas.ts';
import type { RegistryService } from './registryService.ts';

const tags = ['image-repository'];
const RepositoryParamsSchema = z.strictObject({ group: NameParamSchema, name: NameParamSchema });

/** An image repository's tags, read from the registry, and tag deletion. */
export function imageTagRoutes(registry: RegistryService): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/registry',
      {
        schema: {
          tags,
          summary: 'Where the region registry is, for pull and push commands',
          response: { 200: RegistryInfoSchema, ...problems(...AUTHENTICATED) },
        },
      },
      async () => ({ host: registry.host() }),
    );
    app.get(
      '/image-groups/:group/repositories/:name/tags',
      {
        schema: {
          tags,
          summary: 'List the tags in the registry with digest, size, pushed-at and pusher (read)',
          params: RepositoryParamsSchema,
          response: { 200: RegistryTagListSchema, ...problems(...AUTHENTICATED, 503) },
        },
      },
      async (request) => registry.tags(callerOf(request), request.params.group, request.params.name),
    );
    app.delete(
      '/image-groups/:group/repositories/:name/tags/:tag',
      {
        schema: {
          tags,
          summary: 'Delete a tag (delete-tag): its manifest is deleted in the registry',
          params: RepositoryParamsSchema.extend({ tag: RegistryTagNameSchema }),
          response: { 204: NoContentSchema, ...problems(...AUTHENTICATED, 409, 503) },
        },
      },
      async (request, reply) => {
        await registry.deleteTag(
          callerOf(request),
          request.params.group,
          request.params.name,
          request.params.tag,
        );
        return reply.status(204).send();
      },
    );
  };
}
