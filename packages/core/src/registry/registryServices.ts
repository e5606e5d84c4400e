import type { Logger } from 'pino';
import type { ActivityService } from '../activity/activityService.ts';
import type { AuthService } from '../auth/authService.ts';
import type { LoginLimiter } from '../auth/loginLimiter.ts';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import type { ImageRepositoryService } from '../imageRepositories/imageRepositoryService.ts';
import { RobotService } from '../robots/robotService.ts';
import { RegistryClient } from './registryClient.ts';
import { RegistryGcService } from './registryGcService.ts';
import type { RegistryMaintenance } from './registryMaintenance.ts';
import { RegistryService } from './registryService.ts';
import { CORE_SUBJECT, RegistryTokenService, type TokenAccessCache } from './registryTokenService.ts';
import { TokenSigner } from './tokenSigner.ts';

/** How core meets its region's registry (from REGISTRY_* configuration). */
export interface RegistrySettings {
  /** The registry's API, for tags and deletes; unset: those answer 503. */
  url?: string | undefined;
  signer: TokenSigner;
  service: string;
  issuer: string;
  ttlSeconds: number;
  createOnPush: boolean;
  /** The shared secret of the registry's notification endpoint; unset: notifications refused. */
  notificationSecret?: string | undefined;
}

export const DEFAULT_REGISTRY_SERVICE = 'leengine-registry';
export const DEFAULT_REGISTRY_ISSUER = 'leengine-core';

/** Settings for tests and tools that do not talk to a registry: a throwaway key. */
export function defaultRegistrySettings(): RegistrySettings {
  return {
    signer: TokenSigner.ephemeral(),
    service: DEFAULT_REGISTRY_SERVICE,
    issuer: DEFAULT_REGISTRY_ISSUER,
    ttlSeconds: 300,
    createOnPush: true,
  };
}

export interface RegistryServices {
  registryTokens: RegistryTokenService;
  registry: RegistryService;
  robots: RobotService;
  /** Garbage collection of the registry (503 without a RegistryMaintenance). */
  registryGc: RegistryGcService;
}

/** The registry's part of core: token service, tags and notifications, robot accounts. */
export function createRegistryServices(deps: {
  db: Database;
  clock: Clock;
  logger: Logger;
  activity: ActivityService;
  auth: AuthService;
  limiter: LoginLimiter;
  imageRepositories: ImageRepositoryService;
  settings: RegistrySettings;
  /** The token endpoint's cache; whoever changes access invalidates it. */
  accessCache: TokenAccessCache;
  /** The registry's host, for garbage collection; only the core that manages it has one. */
  maintenance?: RegistryMaintenance | undefined;
}): RegistryServices {
  const { db, clock, logger, activity, settings } = deps;
  const registryTokens = RegistryTokenService.create({
    db,
    clock,
    logger,
    auth: deps.auth,
    limiter: deps.limiter,
    signer: settings.signer,
    service: settings.service,
    issuer: settings.issuer,
    ttlSeconds: settings.ttlSeconds,
    createOnPush: settings.createOnPush,
    cache: deps.accessCache,
  });
  const client = settings.url
    ? new RegistryClient(
        settings.url,
        (repository, actions) =>
          registryTokens.sign(CORE_SUBJECT, [{ type: 'repository', name: repository, actions }]).token,
      )
    : undefined;
  return {
    registryTokens,
    registry: RegistryService.create({
      db,
      clock,
      logger,
      activity,
      imageRepositories: deps.imageRepositories,
      client,
      notificationSecret: settings.notificationSecret,
    }),
    robots: RobotService.create({ db, clock, activity }),
    registryGc: RegistryGcService.create({ clock, logger, activity, maintenance: deps.maintenance }),
  };
}
