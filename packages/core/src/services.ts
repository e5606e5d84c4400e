import type { Ipam } from '@leengine/ipam';
import type { Logger } from 'pino';
import { AccessService } from './access/accessService.ts';
import { ActivityService } from './activity/activityService.ts';
import { ApplicationService } from './applications/applicationService.ts';
import { AuthService } from './auth/authService.ts';
import { LoginLimiter } from './auth/loginLimiter.ts';
import { BuildProjectService } from './buildProjects/buildProjectService.ts';
import { BuildRobots } from './builds/buildRobots.ts';
import { BuildService, type BuildServiceDeps } from './builds/buildService.ts';
import type { Clock } from './clock.ts';
import { ContainerService } from './containers/containerService.ts';
import { SecretBox } from './crypto/secretBox.ts';
import type { Database } from './db/database.ts';
import { EventService } from './events/eventService.ts';
import { FixedAddressService } from './fixedAddresses/fixedAddressService.ts';
import { ImageGroupService } from './imageGroups/imageGroupService.ts';
import { ImageRepositoryService } from './imageRepositories/imageRepositoryService.ts';
import { MemberService } from './members/memberService.ts';
import { OperationService } from './operations/operationService.ts';
import { PullSecretService } from './pullSecrets/pullSecretService.ts';
import { QuotaService } from './quotas/quotaService.ts';
import { RegionService } from './regions/regionService.ts';
import { RegistryAccessCache } from './registry/registryAccessCache.ts';
import { RegistryClient } from './registry/registryClient.ts';
import type { RegistryMaintenance } from './registry/registryMaintenance.ts';
import {
  createRegistryServices,
  defaultRegistrySettings,
  type RegistryServices,
  type RegistrySettings,
} from './registry/registryServices.ts';
import { CORE_SUBJECT, type TokenAccessCache } from './registry/registryTokenService.ts';
import { Runtime } from './runtime/runtime.ts';
import { StatisticsService } from './statistics/statisticsService.ts';
import { noLoadBalancer, type TrafficGate } from './traffic/trafficGate.ts';
import { UserService } from './users/userService.ts';
import { ImageRegistry } from './versions/imageRegistry.ts';
import { VersionService } from './versions/versionService.ts';

/** Every domain service of core, wired once per Core. */
export interface Services extends RegistryServices {
  access: AccessService;
  auth: AuthService;
  users: UserService;
  applications: ApplicationService;
  imageGroups: ImageGroupService;
  imageRepositories: ImageRepositoryService;
  buildProjects: BuildProjectService;
  builds: BuildService;
  members: MemberService;
  activity: ActivityService;
  quotas: QuotaService;
  statistics: StatisticsService;
  regions: RegionService;
  versions: VersionService;
  operations: OperationService;
  events: EventService;
  containers: ContainerService;
  /** Rotation of applications' pull secrets. */
  pullSecrets: PullSecretService;
  /** Applications' fixed addresses; only with the cells' IPAM (etcd). */
  fixedAddresses?: FixedAddressService | undefined;
  /** The workers driving cells toward the database; Core starts and stops it. */
  runtime: Runtime;
}

export interface ServicesDeps {
  db: Database;
  clock: Clock;
  logger: Logger;
  sessionTtlMs: number;
  /** Failed logins allowed per username and address per 15 minutes. */
  maxFailedLogins?: number;
  /** The region registry: token signing and where its API is (default: a throwaway key, no API). */
  registry?: RegistrySettings;
  /** The registry's host, for garbage collection (the local region's registry process). */
  registryMaintenance?: RegistryMaintenance | undefined;
  /** Code builds: the region registry's host, the build agents' secret, push credentials. */
  builds?: Partial<
    Pick<
      BuildServiceDeps,
      | 'registryHost'
      | 'registryInsecure'
      | 'agentToken'
      | 'pushCredentials'
      | 'requeueOnAgentLoss'
      | 'reconcileMs'
    >
  >;
  /** LEENGINE_BUILD_ALLOW_LOCAL_GIT: build projects may use file:// repositories. */
  allowLocalGit?: boolean;
  /** LEENGINE_SECRET_KEY: seals kubeconfigs and secret env values; without it no cell can be added. */
  secretKey?: string | undefined;
  /** REGISTRY_URL: deploys check tags there and cells pull from its host. */
  registryUrl?: string | undefined;
  /** The load balancer as upgrades and scale-downs see it; default: none (no domains). */
  gate?: TrafficGate;
  /** The cells' IPAM (in the region's etcd): applications' fixed addresses need it. */
  ipam?: ((cell: string) => Ipam) | undefined;
  /** Runtime timings (tests shorten them). */
  runtime?: { resyncMs?: number; healthIntervalMs?: number };
}

export function createServices(deps: ServicesDeps): Services {
  const { db, clock } = deps;
  // The token endpoint reuses verified credentials and repository lookups for seconds;
  // any committed change (members, robots, tokens, passwords...) drops them.
  const accessCache: TokenAccessCache = new RegistryAccessCache({ clock });
  // Likewise every API request's token or session: checked credentials are reused for
  // seconds and dropped on any committed change (revocations, disabled users, passwords).
  const activity = ActivityService.create({
    db,
    clock,
    logger: deps.logger,
    changed: () => {
      accessCache.invalidate();
      auth.invalidateCallers();
    },
  });
  const quotas = QuotaService.create({ db, activity });
  const imageGroups = ImageGroupService.create({ db, clock, activity });
  const registryUrl = deps.registry?.url ?? deps.registryUrl;
  // Core's own calls to the registry (tags of deploys, deleted repositories' manifests)
  // carry tokens core signs for itself; the token service is made below, before any call.
  const registryClient = registryUrl
    ? new RegistryClient(
        registryUrl,
        (repository, actions) =>
          registryServices.registryTokens.sign(CORE_SUBJECT, [
            { type: 'repository', name: repository, actions },
          ]).token,
      )
    : undefined;
  const imageRepositories = ImageRepositoryService.create({
    db,
    clock,
    activity,
    imageGroups,
    images: registryClient,
  });
  // One limiter for logins and registry token requests: both take passwords.
  const limiter = new LoginLimiter({ clock, maxFailures: deps.maxFailedLogins });
  const auth = AuthService.create({
    db,
    clock,
    activity,
    limiter,
    logger: deps.logger,
    sessionTtlMs: deps.sessionTtlMs,
  });
  const box = deps.secretKey ? SecretBox.fromKey(deps.secretKey) : undefined;
  const fixedAddresses = deps.ipam
    ? FixedAddressService.create({ db, activity, ipam: deps.ipam, logger: deps.logger })
    : undefined;
  const runtime = new Runtime({
    db,
    clock,
    logger: deps.logger,
    box,
    registryHost: registryUrl ? new URL(registryUrl).host : undefined,
    gate: deps.gate ?? noLoadBalancer,
    ...(fixedAddresses
      ? {
          namespaceGone: (cell: string, app: string) => fixedAddresses.namespaceGone(cell, app),
          beforeApply: (cell: string, app: string) => fixedAddresses.ensureInCell(cell, app),
        }
      : {}),
    ...deps.runtime,
  });
  const registryServices = createRegistryServices({
    db,
    clock,
    logger: deps.logger,
    activity,
    auth,
    limiter,
    imageRepositories,
    settings: deps.registry ?? defaultRegistrySettings(),
    accessCache,
    maintenance: deps.registryMaintenance,
  });
  // Deploys check tags with a token core signs for itself (the registry may use token auth).
  const registry = new ImageRegistry(registryUrl, registryClient);
  return {
    access: AccessService.create({ db, activity }),
    auth,
    users: UserService.create({ db, clock, activity }),
    applications: ApplicationService.create({ db, clock, activity, quotas, signals: runtime }),
    imageGroups,
    imageRepositories,
    buildProjects: BuildProjectService.create({
      db,
      clock,
      activity,
      imageRepositories,
      allowLocalGit: deps.allowLocalGit,
    }),
    builds: BuildService.create({
      db,
      clock,
      activity,
      logger: deps.logger,
      pushCredentials: BuildRobots.create({
        clock,
        logger: deps.logger,
        ended: () => accessCache.invalidate(),
      }),
      ...deps.builds,
    }),
    members: MemberService.create({ db, clock, activity }),
    activity,
    quotas,
    statistics: StatisticsService.create({ db }),
    ...registryServices,
    regions: RegionService.create({ db, clock, activity, box, cells: runtime, signals: runtime }),
    versions: VersionService.create({
      db,
      clock,
      activity,
      quotas,
      box,
      registry,
      signals: runtime,
      fixedAddresses,
    }),
    operations: OperationService.create({ db, clock, activity, signals: runtime }),
    events: EventService.create({ db }),
    containers: ContainerService.create({ db, cells: runtime, activity }),
    fixedAddresses,
    pullSecrets: PullSecretService.create({
      clock,
      activity,
      logger: deps.logger,
      box,
      registryConfigured: registryUrl !== undefined,
      signals: runtime,
    }),
    runtime,
  };
}
