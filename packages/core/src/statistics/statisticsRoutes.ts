import { OperationStatsQuerySchema, OperationStatsSchema, SummaryStatsSchema } from '@leengine/common';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { callerOf } from '../http/authHook.ts';
import { AUTHENTICATED, problems } from '../http/schemas.ts';
import type { Services } from '../services.ts';

const tags = ['statistics'];

/** Figures for the boss console (admins). */
export function statisticsRoutes(services: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/statistics/operations',
      {
        schema: {
          tags,
          summary: 'Per UTC day: succeeded deploys, builds, image pushes and scalings (admins)',
          querystring: OperationStatsQuerySchema,
          response: { 200: OperationStatsSchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => services.statistics.operations(callerOf(request), request.query),
    );
    app.get(
      '/statistics/summary',
      {
        schema: {
          tags,
          summary: 'How many users and resources the platform holds (admins)',
          response: { 200: SummaryStatsSchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => services.statistics.summary(callerOf(request)),
    );
  };
}
