import {
  AccessSchema,
  ActivitySchema,
  AddMemberSchema,
  FeedQuerySchema,
  MemberSchema,
  pageSchema,
  RESOURCE_TITLES,
  type ResourceKind,
  UpdateMemberSchema,
} from '@leengine/common';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../services.ts';
import { callerOf } from './authHook.ts';
import { AUTHENTICATED, NameParamSchema, NoContentSchema, problems } from './schemas.ts';

/** Where a resource lives in the API and how its path parameters make its name. */
export interface ResourcePath {
  kind: ResourceKind;
  /** e.g. `/applications/:name`. */
  path: string;
  /** The path parameters (all strings). */
  params: z.ZodObject<Record<string, z.ZodString>>;
  nameOf(params: Record<string, string>): string;
}

/** The routes every resource has: access, members, activity. */
export function resourceSubroutes(services: Services, resource: ResourcePath): FastifyPluginAsyncZod {
  const { kind, path, params } = resource;
  const nameOf = (p: unknown) => resource.nameOf(p as Record<string, string>);
  const usernameOf = (p: unknown) => (p as { username: string }).username;
  const title = RESOURCE_TITLES[kind].toLowerCase();
  const tags = [kind];
  const memberParams = params.extend({ username: NameParamSchema });
  return async (app) => {
    app.get(
      `${path}/access`,
      {
        schema: {
          tags,
          summary: `What the caller may do on the ${title} (role and allowed actions)`,
          params,
          response: { 200: AccessSchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => services.access.access(callerOf(request), kind, nameOf(request.params)),
    );
    app.get(
      `${path}/activity`,
      {
        schema: {
          tags,
          summary: `The ${title}'s activity feed, newest first`,
          params,
          querystring: FeedQuerySchema,
          response: { 200: pageSchema(ActivitySchema), ...problems(...AUTHENTICATED) },
        },
      },
      async (request) =>
        services.access.activity(callerOf(request), kind, nameOf(request.params), request.query),
    );
    app.get(
      `${path}/members`,
      {
        schema: {
          tags,
          summary: `The ${title}'s members`,
          params,
          response: { 200: z.object({ items: z.array(MemberSchema) }), ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => ({
        items: await services.members.list(callerOf(request), kind, nameOf(request.params)),
      }),
    );
    app.post(
      `${path}/members`,
      {
        schema: {
          tags,
          summary: `Add a member to the ${title}`,
          params,
          body: AddMemberSchema,
          response: { 201: MemberSchema, ...problems(...AUTHENTICATED, 409) },
        },
      },
      async (request, reply) => {
        const member = await services.members.add(
          callerOf(request),
          kind,
          nameOf(request.params),
          request.body,
        );
        return reply.status(201).send(member);
      },
    );
    app.put(
      `${path}/members/:username`,
      {
        schema: {
          tags,
          summary: `Change a member's role on the ${title}`,
          params: memberParams,
          body: UpdateMemberSchema,
          response: { 200: MemberSchema, ...problems(...AUTHENTICATED, 409) },
        },
      },
      async (request) => {
        const p = request.params;
        return services.members.update(callerOf(request), kind, nameOf(p), usernameOf(p), request.body);
      },
    );
    app.delete(
      `${path}/members/:username`,
      {
        schema: {
          tags,
          summary: `Remove a member from the ${title} (yourself: leave)`,
          params: memberParams,
          response: { 204: NoContentSchema, ...problems(...AUTHENTICATED, 409) },
        },
      },
      async (request, reply) => {
        await services.members.remove(
          callerOf(request),
          kind,
          nameOf(request.params),
          usernameOf(request.params),
        );
        return reply.status(204).send();
      },
    );
  };
}
