import { PermissionTableSchema, permissionTable } from '@leengine/common';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

/** The permission table, public: the console's help page shows it before sign-in too. */
export function permissionRoutes(): FastifyPluginAsyncZod {
  const table = permissionTable();
  return async (app) => {
    app.get(
      '/permissions',
      {
        config: { public: true },
        schema: {
          tags: ['permissions'],
          summary: 'The permission table: who may do what on each resource kind',
          response: { 200: PermissionTableSchema },
        },
      },
      async () => table,
    );
  };
}
