import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { permissionRoutes } from '../access/permissionRoutes.ts';
import { applicationRoutes } from '../applications/applicationRoutes.ts';
import { authRoutes } from '../auth/authRoutes.ts';
import { buildProjectRoutes } from '../buildProjects/buildProjectRoutes.ts';
import { buildRoutes } from '../builds/buildRoutes.ts';
import { containerRoutes } from '../containers/containerRoutes.ts';
import { eventRoutes } from '../events/eventRoutes.ts';
import { fixedAddressRoutes } from '../fixedAddresses/fixedAddressRoutes.ts';
import { imageGroupRoutes } from '../imageGroups/imageGroupRoutes.ts';
import { imageRepositoryRoutes } from '../imageRepositories/imageRepositoryRoutes.ts';
import { operationRoutes } from '../operations/operationRoutes.ts';
import { pullSecretRoutes } from '../pullSecrets/pullSecretRoutes.ts';
import { quotaRoutes } from '../quotas/quotaRoutes.ts';
import { regionRoutes } from '../regions/regionRoutes.ts';
import { imageTagRoutes } from '../registry/imageTagRoutes.ts';
import { registryGcRoutes } from '../registry/registryGcRoutes.ts';
import { robotRoutes } from '../robots/robotRoutes.ts';
import type { Services } from '../services.ts';
import { slbRoutes } from '../slb/slbRoutes.ts';
import { statisticsRoutes } from '../statistics/statisticsRoutes.ts';
import { userRoutes } from '../users/userRoutes.ts';
import { versionRoutes } from '../versions/versionRoutes.ts';
import { authHook } from './authHook.ts';

/** Everything under /api/v1: one auth hook in front of every route (public ones opt out). */
export function apiV1(services: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.decorateRequest('caller', null);
    app.addHook('onRequest', authHook(services.auth));
    for (const routes of [
      permissionRoutes(),
      authRoutes(services),
      userRoutes(services),
      quotaRoutes(services),
      statisticsRoutes(services),
      regionRoutes(services),
      applicationRoutes(services),
      slbRoutes(services),
      fixedAddressRoutes(services),
      pullSecretRoutes(services),
      versionRoutes(services),
      operationRoutes(services),
      eventRoutes(services),
      containerRoutes(services),
      imageGroupRoutes(services),
      imageRepositoryRoutes(services),
      imageTagRoutes(services.registry),
      registryGcRoutes(services.registryGc),
      robotRoutes(services.robots),
      buildProjectRoutes(services),
      buildRoutes(services),
    ]) {
      await app.register(routes);
    }
  };
}
