import {
  CreatedTokenSchema,
  CreateTokenSchema,
  FeedQuerySchema,
  LoginSchema,
  NotAllowedError,
  NotAuthenticatedError,
  pageSchema,
  TokenSchema,
  UserSchema,
} from '@leengine/common';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  CLIENT_HEADER,
  callerOf,
  clearSessionCookie,
  presentedCredentials,
  sessionCookie,
  setSessionCookie,
} from '../http/authHook.ts';
import { AUTHENTICATED, NoContentSchema, problems } from '../http/schemas.ts';
import type { Services } from '../services.ts';

const tags = ['auth'];

/** Console login sessions and personal access tokens. */
export function authRoutes(services: Services): FastifyPluginAsyncZod {
  const auth = services.auth;
  return async (app) => {
    app.post(
      '/session',
      {
        config: { public: true },
        schema: {
          tags,
          summary: `Sign in with username and password: sets the session cookie (send ${CLIENT_HEADER})`,
          body: LoginSchema,
          response: { 200: z.object({ user: UserSchema }), ...problems(400, 401, 403, 429) },
        },
      },
      async (request, reply) => {
        // Login CSRF: a foreign page must not sign the browser in as someone else.
        if (!request.headers[CLIENT_HEADER])
          throw new NotAllowedError(`sign-in requests must send ${CLIENT_HEADER}`);
        const session = await auth.login(request.body.username, request.body.password, request.ip);
        setSessionCookie(request, reply, session.secret, session.maxAgeSeconds);
        return { user: session.user };
      },
    );
    app.get(
      '/session',
      {
        config: { public: true },
        schema: {
          tags,
          summary:
            'Who is signed in: the user, or null also for an expired or unknown credential (the console asks this on load, where a 401 would be noise)',
          response: { 200: z.object({ user: UserSchema.nullable() }) },
        },
      },
      async (request) => {
        // An expired or revoked session is "nobody signed in" here, not an error.
        const caller = await auth.authenticate(presentedCredentials(request)).catch((error: unknown) => {
          if (error instanceof NotAuthenticatedError) return null;
          throw error;
        });
        return { user: caller ? await services.users.me(caller) : null };
      },
    );
    app.delete(
      '/session',
      {
        schema: {
          tags,
          summary: 'Sign out: ends the session and clears the cookie',
          response: { 204: NoContentSchema, ...problems(401, 403) },
        },
      },
      async (request, reply) => {
        const secret = sessionCookie(request);
        if (callerOf(request).via === 'session' && secret) await auth.logout(secret);
        clearSessionCookie(request, reply);
        return reply.status(204).send();
      },
    );
    app.get(
      '/user/tokens',
      {
        schema: {
          tags,
          summary: "The caller's live personal access tokens (never their secrets)",
          querystring: FeedQuerySchema,
          response: { 200: pageSchema(TokenSchema), ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => auth.listTokens(callerOf(request), request.query.cursor, request.query.limit),
    );
    app.post(
      '/user/tokens',
      {
        schema: {
          tags,
          summary: 'Create a personal access token; its secret is in this answer only',
          body: CreateTokenSchema,
          response: { 201: CreatedTokenSchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request, reply) =>
        reply.status(201).send(await auth.createToken(callerOf(request), request.body)),
    );
    app.delete(
      '/user/tokens/:id',
      {
        schema: {
          tags,
          summary: 'Revoke one of the caller’s tokens',
          params: z.strictObject({ id: z.coerce.number().int().min(1).max(2_147_483_647) }),
          response: { 204: NoContentSchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request, reply) => {
        await auth.revokeToken(callerOf(request), request.params.id);
        return reply.status(204).send();
      },
    );
  };
}
