import { FixedAddressesSchema, FixedAddressRequestSchema, UnavailableError } from '@leengine/common';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { callerOf } from '../http/authHook.ts';
import { AUTHENTICATED, NameParamsSchema, NoContentSchema, problems } from '../http/schemas.ts';
import type { Services } from '../services.ts';
import type { FixedAddressService } from './fixedAddressService.ts';

const tags = ['application'];

/** /applications/:name/fixed-addresses: an application's fixed container addresses (a pool per cell). */
export function fixedAddressRoutes(services: Services): FastifyPluginAsyncZod {
  const fixed = (): FixedAddressService => {
    if (!services.fixedAddresses)
      throw new UnavailableError('fixed addresses need the IPAM: core has no etcd (ETCD_ENDPOINTS)');
    return services.fixedAddresses;
  };
  return async (app) => {
    app.get(
      '/applications/:name/fixed-addresses',
      {
        schema: {
          tags,
          summary: "The application's fixed addresses: its pool in each cell and the pods holding them",
          params: NameParamsSchema,
          response: { 200: FixedAddressesSchema, ...problems(...AUTHENTICATED, 503) },
        },
      },
      async (request) => fixed().get(callerOf(request), request.params.name),
    );
    app.put(
      '/applications/:name/fixed-addresses',
      {
        schema: {
          tags,
          summary:
            'Reserve a pool of `size` fixed addresses in every cell of the application; its pods then take addresses only from it (role manage-fixed-addresses)',
          params: NameParamsSchema,
          body: FixedAddressRequestSchema,
          response: { 200: FixedAddressesSchema, ...problems(...AUTHENTICATED, 409, 503) },
        },
      },
      async (request) => fixed().reserve(callerOf(request), request.params.name, request.body),
    );
    app.delete(
      '/applications/:name/fixed-addresses',
      {
        schema: {
          tags,
          summary: "Release the application's pools (refused while a pod holds one of their addresses)",
          params: NameParamsSchema,
          response: { 204: NoContentSchema, ...problems(...AUTHENTICATED, 409, 503) },
        },
      },
      async (request, reply) => {
        await fixed().release(callerOf(request), request.params.name);
        return reply.status(204).send();
      },
    );
  };
}
