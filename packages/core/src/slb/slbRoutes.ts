import {
  AgentStatusSchema,
  BindDomainSchema,
  DomainConfigSchema,
  DomainViewSchema,
  LabelSchema,
  SlbGroupSchema,
  UnavailableError,
  UpdateDomainSchema,
} from '@leengine/common';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerOf } from '../http/authHook.ts';
import { AUTHENTICATED, NameParamSchema, NoContentSchema, problems } from '../http/schemas.ts';
import type { Services } from '../services.ts';
import type { SlbService } from './slbService.ts';

/** Core's services plus slb-core, present when core has an etcd (ETCD_ENDPOINTS). */
export type WithSlb = Services & { slb?: SlbService };

const tags = ['slb'];
const GroupParamsSchema = z.strictObject({ group: NameParamSchema });
const AppParamsSchema = z.strictObject({ name: NameParamSchema });
const DomainParamsSchema = z.strictObject({ name: NameParamSchema, domain: NameParamSchema });

/**
 * slb-core's API: /slb/groups (admins manage, everyone lists) and
 * /applications/:name/domains (bound by the application's Masters and Owners).
 */
export function slbRoutes(services: WithSlb): FastifyPluginAsyncZod {
  const slb = (): SlbService => {
    if (!services.slb)
      throw new UnavailableError('the SLB is not configured: core has no etcd (ETCD_ENDPOINTS)');
    return services.slb;
  };
  return async (app) => {
    app.get(
      '/slb/groups',
      {
        schema: {
          tags,
          summary: 'List SLB groups (nginx clusters) with their hosts, VIP and CNAME',
          response: { 200: z.array(SlbGroupSchema), ...problems(...AUTHENTICATED, 503) },
        },
      },
      async (request) => slb().listGroups(callerOf(request)),
    );
    app.put(
      '/slb/groups/:group',
      {
        schema: {
          tags,
          summary: 'Create or replace an SLB group (admins)',
          params: z.strictObject({ group: LabelSchema }),
          body: SlbGroupSchema.omit({ name: true }),
          response: { 200: SlbGroupSchema, ...problems(...AUTHENTICATED, 422, 503) },
        },
      },
      async (request) => slb().putGroup(callerOf(request), { ...request.body, name: request.params.group }),
    );
    app.delete(
      '/slb/groups/:group',
      {
        schema: {
          tags,
          summary: 'Delete an SLB group that holds no domain (admins)',
          params: GroupParamsSchema,
          response: { 204: NoContentSchema, ...problems(...AUTHENTICATED, 409, 503) },
        },
      },
      async (request, reply) => {
        await slb().deleteGroup(callerOf(request), request.params.group);
        return reply.status(204).send();
      },
    );
    app.get(
      '/slb/groups/:group/agents',
      {
        schema: {
          tags,
          summary: "The group's live slb-agents: applied revision, errors (admins)",
          params: GroupParamsSchema,
          response: { 200: z.array(AgentStatusSchema), ...problems(...AUTHENTICATED, 503) },
        },
      },
      async (request) => slb().agents(callerOf(request), request.params.group),
    );
    app.get(
      '/applications/:name/domains',
      {
        schema: {
          tags,
          summary: "The application's domains",
          params: AppParamsSchema,
          response: { 200: z.array(DomainConfigSchema), ...problems(...AUTHENTICATED, 503) },
        },
      },
      async (request) => slb().listDomains(callerOf(request), request.params.name),
    );
    app.post(
      '/applications/:name/domains',
      {
        schema: {
          tags,
          summary: 'Bind a domain to the application on an SLB group (special settings: admins)',
          params: AppParamsSchema,
          body: BindDomainSchema,
          response: { 201: DomainConfigSchema, ...problems(...AUTHENTICATED, 409, 422, 503) },
        },
      },
      async (request, reply) =>
        reply.status(201).send(await slb().bindDomain(callerOf(request), request.params.name, request.body)),
    );
    app.get(
      '/applications/:name/domains/:domain',
      {
        schema: {
          tags,
          summary: "A domain's config, backends, and whether every agent serves it",
          params: DomainParamsSchema,
          response: { 200: DomainViewSchema, ...problems(...AUTHENTICATED, 503) },
        },
      },
      async (request) => slb().getDomain(callerOf(request), request.params.name, request.params.domain),
    );
    app.put(
      '/applications/:name/domains/:domain',
      {
        schema: {
          tags,
          summary: "Replace a domain's settings (special settings: admins)",
          params: DomainParamsSchema,
          body: UpdateDomainSchema,
          response: { 200: DomainConfigSchema, ...problems(...AUTHENTICATED, 409, 422, 503) },
        },
      },
      async (request) =>
        slb().updateDomain(callerOf(request), request.params.name, request.params.domain, request.body),
    );
    app.delete(
      '/applications/:name/domains/:domain',
      {
        schema: {
          tags,
          summary: 'Unbind a domain',
          params: DomainParamsSchema,
          response: { 204: NoContentSchema, ...problems(...AUTHENTICATED, 503) },
        },
      },
      async (request, reply) => {
        await slb().unbindDomain(callerOf(request), request.params.name, request.params.domain);
        return reply.status(204).send();
      },
    );
    app.get(
      '/applications/:name/domains/:domain/nginx',
      {
        schema: {
          tags,
          summary: "The domain's nginx server block, as the agents render it",
          params: DomainParamsSchema,
          response: { 200: z.string(), ...problems(...AUTHENTICATED, 503) },
        },
      },
      async (request, reply) =>
        reply
          .type('text/plain; charset=utf-8')
          .send(await slb().renderedConfig(callerOf(request), request.params.name, request.params.domain)),
    );
  };
}
