import { CreatedRobotSchema, CreateRobotSchema, RobotSchema } from '@leengine/common';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerOf } from '../http/authHook.ts';
import { AUTHENTICATED, NameParamSchema, NoContentSchema, problems } from '../http/schemas.ts';
import type { RobotService } from './robotService.ts';

const OWNERS = [
  { kind: 'image-group', path: '/image-groups/:name/robots', title: 'image group' },
  { kind: 'build-project', path: '/build-projects/:name/robots', title: 'build project' },
] as const;

/** Robot accounts of image groups and build projects (`manage-robots`). */
export function robotRoutes(robots: RobotService): FastifyPluginAsyncZod {
  return async (app) => {
    for (const { kind, path, title } of OWNERS) {
      const tags = [kind];
      const params = z.strictObject({ name: NameParamSchema });
      const robotParams = params.extend({ robot: NameParamSchema });
      app.get(
        path,
        {
          schema: {
            tags,
            summary: `List the ${title}'s robot accounts (manage-robots)`,
            params,
            response: { 200: z.object({ items: z.array(RobotSchema) }), ...problems(...AUTHENTICATED) },
          },
        },
        async (request) => ({ items: await robots.list(callerOf(request), kind, request.params.name) }),
      );
      app.post(
        path,
        {
          schema: {
            tags,
            summary: `Create a robot account of the ${title}; its secret is in this answer only`,
            params,
            body: CreateRobotSchema,
            response: { 201: CreatedRobotSchema, ...problems(...AUTHENTICATED, 409) },
          },
        },
        async (request, reply) =>
          reply
            .status(201)
            .send(await robots.create(callerOf(request), kind, request.params.name, request.body)),
      );
      app.delete(
        `${path}/:robot`,
        {
          schema: {
            tags,
            summary: `Delete a robot account of the ${title} (its secret stops working)`,
            params: robotParams,
            response: { 204: NoContentSchema, ...problems(...AUTHENTICATED) },
          },
        },
        async (request, reply) => {
          await robots.delete(callerOf(request), kind, request.params.name, request.params.robot);
          return reply.status(204).send();
        },
      );
    }
  };
}
