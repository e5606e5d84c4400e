import type { Logger } from 'pino';
import { AccessService } from './access/accessService.ts';
import { ActivityService } from './activity/activityService.ts';
import { ApplicationService } from './applications/applicationService.ts';
import { AuthService } from './auth/authService.ts';
import { LoginLimiter } from './auth/loginLimiter.ts';
import { BuildProjectService } from './buildProjects/buildProjectService.ts';
import { BuildService, type BuildServiceDeps } from './builds/buildService.ts';
import type { Clock } from './clock.ts';
import type { Database } from './db/database.ts';
import { ImageGroupService } from './imageGroups/imageGroupService.ts';
import { ImageRepositoryService } from './imageRepositories/imageRepositoryService.ts';
import { MemberService } from './members/memberService.ts';
import { QuotaService } from './quotas/quotaService.ts';
import {
  createRegistryServices,
  defaultRegistrySettings,
  type RegistryServices,
  type RegistrySettings,
} from './registry/registryServices.ts';
import { StatisticsService } from './statistics/statisticsService.ts';
import { UserService } from './users/userService.ts';

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
  /** Code builds: the region registry's host, the build agents' secret, push credentials. */
  builds?: Partial<
    Pick<
      BuildServiceDeps,
      'registryHost' | 'registryInsecure' | 'agentToken' | 'pushCredentials' | 'requeueOnAgentLoss'
    >
  >;
}

export function createServices(deps: ServicesDeps): Services {
  const { db, clock } = deps;
  const activity = ActivityService.create({ db, clock, logger: deps.logger });
  const quotas = QuotaService.create({ db, activity });
  const imageGroups = ImageGroupService.create({ db, clock, activity });
  const imageRepositories = ImageRepositoryService.create({ db, clock, activity, imageGroups });
  // One limiter for logins and registry token requests: both take passwords.
  const limiter = new LoginLimiter({ clock, maxFailures: deps.maxFailedLogins });
  const auth = AuthService.create({ db, clock, activity, limiter, sessionTtlMs: deps.sessionTtlMs });
  return {
    access: AccessService.create({ db, activity }),
    auth,
    users: UserService.create({ db, clock, activity }),
    applications: ApplicationService.create({ db, clock, activity, quotas }),
    imageGroups,
    imageRepositories,
    buildProjects: BuildProjectService.create({ db, clock, activity, imageRepositories }),
    builds: BuildService.create({ db, clock, activity, logger: deps.logger, ...deps.builds }),
    members: MemberService.create({ db, clock, activity }),
    activity,
    quotas,
    statistics: StatisticsService.create({ db }),
    ...createRegistryServices({
      db,
      clock,
      logger: deps.logger,
      activity,
      auth,
      limiter,
      imageRepositories,
      settings: deps.registry ?? defaultRegistrySettings(),
    }),
  };
}
