import {
  ActivitySchema,
  ChangePasswordSchema,
  CreateUserSchema,
  FeedQuerySchema,
  pageSchema,
  UpdateMeSchema,
  UpdateUserSchema,
  UserListQuerySchema,
  UserSchema,
} from '@leengine/common';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { hashSecret } from '../auth/secrets.ts';
import { callerOf, sessionCookie } from '../http/authHook.ts';
import { AUTHENTICATED, NoContentSchema, problems, UsernameParamsSchema } from '../http/schemas.ts';
import type { Services } from '../services.ts';

const tags = ['user'];

/** /user (the caller) and /users (everyone; creating and changing users is for admins). */
export function userRoutes(services: Services): FastifyPluginAsyncZod {
  const users = services.users;
  return async (app) => {
    app.get(
      '/user',
      { schema: { tags, summary: 'The signed-in user', response: { 200: UserSchema, ...problems(401) } } },
      async (request) => users.me(callerOf(request)),
    );
    app.patch(
      '/user',
      {
        schema: {
          tags,
          summary: "Change the caller's display name or e-mail",
          body: UpdateMeSchema,
          response: { 200: UserSchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => users.updateMe(callerOf(request), request.body),
    );
    app.put(
      '/user/password',
      {
        schema: {
          tags,
          summary: "Change the caller's password; their other sessions end",
          body: ChangePasswordSchema,
          response: { 204: NoContentSchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request, reply) => {
        const session = sessionCookie(request);
        await users.changePassword(
          callerOf(request),
          request.body,
          session ? hashSecret(session) : undefined,
        );
        return reply.status(204).send();
      },
    );
    app.get(
      '/user/activity',
      {
        schema: {
          tags,
          summary: 'What the caller did, newest first',
          querystring: FeedQuerySchema,
          response: { 200: pageSchema(ActivitySchema), ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => {
        const caller = callerOf(request);
        return services.activity.forUser(caller, caller.username, request.query);
      },
    );
    app.get(
      '/users',
      {
        schema: {
          tags,
          summary: 'Find users (to add them as members); newest first',
          querystring: UserListQuerySchema,
          response: { 200: pageSchema(UserSchema), ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => users.list(callerOf(request), request.query),
    );
    app.post(
      '/users',
      {
        schema: {
          tags,
          summary: 'Create a user (admins)',
          body: CreateUserSchema,
          response: { 201: UserSchema, ...problems(...AUTHENTICATED, 409) },
        },
      },
      async (request, reply) => reply.status(201).send(await users.create(callerOf(request), request.body)),
    );
    app.get(
      '/users/:username',
      {
        schema: {
          tags,
          summary: 'Read a user',
          params: UsernameParamsSchema,
          response: { 200: UserSchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => users.get(callerOf(request), request.params.username),
    );
    app.patch(
      '/users/:username',
      {
        schema: {
          tags,
          summary: 'Change a user: admin flag, disabled, password, profile (admins)',
          params: UsernameParamsSchema,
          body: UpdateUserSchema,
          response: { 200: UserSchema, ...problems(...AUTHENTICATED, 409) },
        },
      },
      async (request) => users.update(callerOf(request), request.params.username, request.body),
    );
    app.get(
      '/users/:username/activity',
      {
        schema: {
          tags,
          summary: 'What a user did, newest first (the user themselves, or admins)',
          params: UsernameParamsSchema,
          querystring: FeedQuerySchema,
          response: { 200: pageSchema(ActivitySchema), ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => services.activity.forUser(callerOf(request), request.params.username, request.query),
    );
  };
}
