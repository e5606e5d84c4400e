import { QuotaLimitsSchema, QuotaOverridesSchema, UserQuotaSchema } from '@leengine/common';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { callerOf } from '../http/authHook.ts';
import { AUTHENTICATED, problems, UsernameParamsSchema } from '../http/schemas.ts';
import type { Services } from '../services.ts';

const tags = ['quota'];

/** Default limits, per-user overrides and usage. Setting them is for admins. */
export function quotaRoutes(services: Services): FastifyPluginAsyncZod {
  const quotas = services.quotas;
  return async (app) => {
    app.get(
      '/quotas/default',
      {
        schema: {
          tags,
          summary: 'The default limits (for users without overrides)',
          response: { 200: QuotaLimitsSchema, ...problems(401) },
        },
      },
      async () => quotas.defaults(),
    );
    app.put(
      '/quotas/default',
      {
        schema: {
          tags,
          summary: 'Set the default limits (admins)',
          body: QuotaLimitsSchema,
          response: { 200: QuotaLimitsSchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => quotas.setDefaults(callerOf(request), request.body),
    );
    app.get(
      '/user/quota',
      {
        schema: {
          tags,
          summary: "The caller's limits and usage",
          response: { 200: UserQuotaSchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => {
        const caller = callerOf(request);
        return quotas.forUser(caller, caller.username);
      },
    );
    app.get(
      '/users/:username/quota',
      {
        schema: {
          tags,
          summary: "A user's limits, overrides and usage (the user themselves, or admins)",
          params: UsernameParamsSchema,
          response: { 200: UserQuotaSchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => quotas.forUser(callerOf(request), request.params.username),
    );
    app.put(
      '/users/:username/quota',
      {
        schema: {
          tags,
          summary: "Set a user's overrides; null returns a limit to the default (admins)",
          params: UsernameParamsSchema,
          body: QuotaOverridesSchema,
          response: { 200: UserQuotaSchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => quotas.setOverrides(callerOf(request), request.params.username, request.body),
    );
  };
}
