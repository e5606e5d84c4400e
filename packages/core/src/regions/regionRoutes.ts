import {
  CellCapacitySchema,
  CellIpamSchema,
  CellSchema,
  CreateCellSchema,
  CreateRegionSchema,
  EvacuationSchema,
  RegionSchema,
  UnavailableError,
  UpdateCellSchema,
  UpdateRegionSchema,
} from '@leengine/common';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerOf } from '../http/authHook.ts';
import { AUTHENTICATED, NameParamSchema, NoContentSchema, problems } from '../http/schemas.ts';
import type { Services } from '../services.ts';
import type { CellIpamReader } from './cellIpam.ts';

/** Core's services plus the IPAM reader, present when core has an etcd (ETCD_ENDPOINTS). */
export type WithIpam = Services & { cellIpam?: CellIpamReader };

const tags = ['region'];
const RegionParams = z.strictObject({ region: NameParamSchema });
const CellParams = z.strictObject({ region: NameParamSchema, cell: NameParamSchema });

/** /regions and their cells: everyone signed in reads them; admins change them. */
export function regionRoutes(services: WithIpam): FastifyPluginAsyncZod {
  const regions = services.regions;
  return async (app) => {
    app.get(
      '/regions',
      {
        schema: {
          tags,
          summary: "List regions with their cells and the cells' health",
          response: { 200: z.object({ items: z.array(RegionSchema) }), ...problems(401) },
        },
      },
      async (request) => ({ items: await regions.list(callerOf(request)) }),
    );
    app.post(
      '/regions',
      {
        schema: {
          tags,
          summary: 'Create a region (admins)',
          body: CreateRegionSchema,
          response: { 201: RegionSchema, ...problems(...AUTHENTICATED, 409) },
        },
      },
      async (request, reply) => reply.status(201).send(await regions.create(callerOf(request), request.body)),
    );
    app.get(
      '/regions/:region',
      {
        schema: {
          tags,
          summary: 'Read a region',
          params: RegionParams,
          response: { 200: RegionSchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => regions.get(callerOf(request), request.params.region),
    );
    app.patch(
      '/regions/:region',
      {
        schema: {
          tags,
          summary: "Change a region's description (admins)",
          params: RegionParams,
          body: UpdateRegionSchema,
          response: { 200: RegionSchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => regions.update(callerOf(request), request.params.region, request.body),
    );
    app.delete(
      '/regions/:region',
      {
        schema: {
          tags,
          summary: 'Delete a region without cells or applications (admins)',
          params: RegionParams,
          response: { 204: NoContentSchema, ...problems(...AUTHENTICATED, 409) },
        },
      },
      async (request, reply) => {
        await regions.delete(callerOf(request), request.params.region);
        return reply.status(204).send();
      },
    );
    app.post(
      '/regions/:region/cells',
      {
        schema: {
          tags,
          summary:
            'Register a cell (a Kubernetes cluster) with its admin kubeconfig, stored encrypted (admins); its apiserver must answer, and a cluster that already is a cell is refused (409)',
          params: RegionParams,
          body: CreateCellSchema,
          response: { 201: CellSchema, ...problems(...AUTHENTICATED, 409, 503) },
        },
      },
      async (request, reply) =>
        reply.status(201).send(await regions.addCell(callerOf(request), request.params.region, request.body)),
    );
    app.get(
      '/regions/:region/cells/:cell',
      {
        schema: {
          tags,
          summary: 'Read a cell and its health',
          params: CellParams,
          response: { 200: CellSchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => regions.getCell(callerOf(request), request.params.region, request.params.cell),
    );
    app.patch(
      '/regions/:region/cells/:cell',
      {
        schema: {
          tags,
          summary:
            "Change a cell's description or kubeconfig (admins); a new kubeconfig must reach the same cluster (409)",
          params: CellParams,
          body: UpdateCellSchema,
          response: { 200: CellSchema, ...problems(...AUTHENTICATED, 409, 503) },
        },
      },
      async (request) =>
        regions.updateCell(callerOf(request), request.params.region, request.params.cell, request.body),
    );
    app.delete(
      '/regions/:region/cells/:cell',
      {
        schema: {
          tags,
          summary: 'Remove a cell that runs no application (admins)',
          params: CellParams,
          response: { 204: NoContentSchema, ...problems(...AUTHENTICATED, 409) },
        },
      },
      async (request, reply) => {
        await regions.deleteCell(callerOf(request), request.params.region, request.params.cell);
        return reply.status(204).send();
      },
    );
    app.get(
      '/regions/:region/cells/:cell/capacity',
      {
        schema: {
          tags,
          summary: 'Nodes, allocatable and requested CPU and memory, pods, read from the cell now (admins)',
          params: CellParams,
          response: { 200: CellCapacitySchema, ...problems(...AUTHENTICATED, 503) },
        },
      },
      async (request) => regions.capacity(callerOf(request), request.params.region, request.params.cell),
    );
    app.get(
      '/regions/:region/cells/:cell/ipam',
      {
        schema: {
          tags,
          summary:
            "The cell's container addresses: segments, node blocks, usage, and addresses leaked by pods that are gone (admins)",
          params: CellParams,
          response: { 200: CellIpamSchema, ...problems(...AUTHENTICATED, 503) },
        },
      },
      async (request) => {
        const client = await regions.cellClient(
          callerOf(request),
          request.params.region,
          request.params.cell,
        );
        if (!services.cellIpam)
          throw new UnavailableError('the IPAM is not configured: core has no etcd (ETCD_ENDPOINTS)');
        return services.cellIpam.read(client);
      },
    );
    for (const [action, cordoned] of [
      ['cordon', true],
      ['uncordon', false],
    ] as const) {
      app.post(
        `/regions/:region/cells/:cell/${action}`,
        {
          schema: {
            tags,
            summary: cordoned
              ? 'Cordon a cell: no new applications are placed on it (admins)'
              : 'Uncordon a cell (admins)',
            params: CellParams,
            response: { 200: CellSchema, ...problems(...AUTHENTICATED) },
          },
        },
        async (request) =>
          regions.cordon(callerOf(request), request.params.region, request.params.cell, cordoned),
      );
    }
    app.post(
      '/regions/:region/cells/:cell/evacuate',
      {
        schema: {
          tags,
          summary: "Cordon a cell and move every application to the region's other cells (admins)",
          params: CellParams,
          response: { 200: EvacuationSchema, ...problems(...AUTHENTICATED) },
        },
      },
      async (request) => regions.evacuate(callerOf(request), request.params.region, request.params.cell),
    );
  };
}
