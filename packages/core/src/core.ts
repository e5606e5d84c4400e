import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Ipam } from '@leengine/ipam';
import { SlbStore } from '@leengine/slb';
import { Etcd3 } from 'etcd3';
import pino, { type Logger } from 'pino';
import { buildSettings } from './builds/buildSettings.ts';
import { type Clock, systemClock } from './clock.ts';
import { type CoreConfig, redactConfig } from './config.ts';
import { type Database, openDatabase } from './db/database.ts';
import { migrate } from './db/migrate.ts';
import { type App, buildApp } from './http/app.ts';
import type { ReadinessCheck } from './http/health.ts';
import { CellIpamReader } from './regions/cellIpam.ts';
import type { WithIpam } from './regions/regionRoutes.ts';
import type { RegistryMaintenance } from './registry/registryMaintenance.ts';
import type { RegistrySettings } from './registry/registryServices.ts';
import { TokenSigner } from './registry/tokenSigner.ts';
import { createServices, type Services, type ServicesDeps } from './services.ts';
import type { WithSlb } from './slb/slbRoutes.ts';
import { SlbService } from './slb/slbService.ts';
import { type SlbGate, slbGate } from './traffic/slbGate.ts';
import type { TrafficGate } from './traffic/trafficGate.ts';
import type { FirstAdmin } from './users/userService.ts';

const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export interface CoreDeps {
  logger?: Logger;
  /** Tests move time with their own clock (token expiry, sessions, statistics). */
  clock?: Clock;
  /** Failed logins allowed per username and address per 15 minutes (default 5). */
  maxFailedLogins?: number;
  /** Build service options beyond the configuration (push credentials, re-queue on agent loss). */
  builds?: ServicesDeps['builds'];
  /**
   * The load balancer for gray upgrades and scale-downs. Default: the SLB through etcd
   * (discovery's drains, agents' confirmations) when ETCD_ENDPOINTS is set, else none.
   */
  gate?: TrafficGate;
  /** Runtime timings (tests shorten them). */
  runtime?: { resyncMs?: number; healthIntervalMs?: number };
  /** The region registry's host, for garbage collection; without it those routes answer 503. */
  registryMaintenance?: RegistryMaintenance;
}

/** leengine-core: owns the database and the HTTP API; `close()` releases both. */
export class Core {
  readonly app: App;
  readonly db: Database;
  readonly services: Services;
  readonly config: CoreConfig;
  readonly logger: Logger;
  #url: string | undefined;
  #gate: SlbGate | undefined;
  #slbClient: Etcd3 | undefined;

  private constructor(config: CoreConfig, app: App, db: Database, services: Services, logger: Logger) {
    this.config = config;
    this.app = app;
    this.db = db;
    this.services = services;
    this.logger = logger;
  }

  /** Opens the database, applies pending migrations and builds the API (not yet listening). */
  static async create(config: CoreConfig, deps: CoreDeps = {}): Promise<Core> {
    const logger = deps.logger ?? pino({ level: config.LOG_LEVEL, base: { service: 'leengine-core' } });
    logger.info({ config: redactConfig(config) }, 'starting leengine-core');
    const db = await openDatabase({ url: config.DATABASE_URL, dataDir: config.LEENGINE_DATA_DIR });
    const readiness: ReadinessCheck[] = [{ name: 'database', check: () => db.ping() }];
    if (config.ETCD_ENDPOINTS) readiness.push(etcdCheck(config.ETCD_ENDPOINTS));
    const ownGate = !deps.gate && config.ETCD_ENDPOINTS ? slbGate(config.ETCD_ENDPOINTS) : undefined;
    const gate = deps.gate ?? ownGate;
    let slbClient: Etcd3 | undefined;
    try {
      const applied = await migrate(db);
      if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
      // One etcd client for slb-core and the cells' IPAM (leengine-cni keeps it there, docs/ipam.md).
      const client = config.ETCD_ENDPOINTS ? new Etcd3({ hosts: config.ETCD_ENDPOINTS }) : undefined;
      slbClient = client;
      const services = createServices({
        db,
        clock: deps.clock ?? systemClock,
        logger,
        sessionTtlMs: config.LEENGINE_SESSION_HOURS * 3_600_000,
        maxFailedLogins: deps.maxFailedLogins,
        registry: registrySettings(config),
        builds: { ...buildSettings(config), ...deps.builds },
        allowLocalGit: config.LEENGINE_BUILD_ALLOW_LOCAL_GIT,
        secretKey: config.LEENGINE_SECRET_KEY,
        registryUrl: config.REGISTRY_URL,
        ...(gate ? { gate } : {}),
        ...(deps.runtime ? { runtime: deps.runtime } : {}),
        registryMaintenance: deps.registryMaintenance,
        ...(client ? { ipam: (cell: string) => Ipam.create({ client, cell }) } : {}),
      });
      // slb-core keeps its system of record in etcd: without etcd its routes answer 503.
      if (slbClient) {
        (services as WithSlb).slb = SlbService.create({
          db,
          activity: services.activity,
          store: SlbStore.create({ client: slbClient }),
          logger,
        });
        // The boss console's view of every cell's container addresses (read-only).
        (services as WithIpam).cellIpam = CellIpamReader.create({ etcd: slbClient });
      }
      const app = await buildApp({
        logger,
        readiness,
        version: VERSION,
        services,
        consoleDir: config.LEENGINE_CONSOLE_DIR,
        trustedProxies: config.LEENGINE_TRUSTED_PROXIES,
        validateResponses: config.LEENGINE_VALIDATE_RESPONSES,
      });
      // Cells are driven from the database from the start: a restart resumes operations.
      await services.runtime.start();
      // Builds are placed on the agents registered in etcd (none without etcd).
      if (config.ETCD_ENDPOINTS) await services.builds.connect(config.ETCD_ENDPOINTS);
      const core = new Core(config, app, db, services, logger);
      core.#gate = ownGate;
      core.#slbClient = slbClient;
      return core;
    } catch (error) {
      ownGate?.close();
      slbClient?.close();
      await db.close();
      throw error;
    }
  }

  /** Listens on the configured host and port (0 picks a free one); returns the base URL. */
  async listen(): Promise<string> {
    await this.app.listen({ host: this.config.LEENGINE_HOST, port: this.config.LEENGINE_PORT });
    const address = this.app.server.address();
    const port = typeof address === 'object' && address ? address.port : this.config.LEENGINE_PORT;
    this.#url = `http://${this.config.LEENGINE_HOST}:${port}`;
    return this.#url;
  }

  /** Creates the first admin on an empty database; their credentials, or null if users exist. */
  ensureFirstAdmin(): Promise<FirstAdmin | null> {
    return this.services.users.ensureFirstAdmin();
  }

  /** The base URL once listening. */
  get url(): string | undefined {
    return this.#url;
  }

  async close(): Promise<void> {
    // A collection under way ends with the registry read-write again before core goes.
    await this.services.registryGc.idle();
    await this.services.builds.stop();
    await this.services.runtime.stop();
    this.#gate?.close();
    this.#slbClient?.close();
    await this.app.close();
    await this.services.auth.stop();
    await this.db.close();
  }
}

/** The registry's settings from the configuration; the signing key is read or made here. */
function registrySettings(config: CoreConfig): RegistrySettings {
  const keyDir =
    config.REGISTRY_TOKEN_KEY_DIR ??
    (config.LEENGINE_DATA_DIR.startsWith('memory://')
      ? undefined
      : // Beside the data dir, not in it: PGlite wants its directory to itself.
        join(dirname(resolve(config.LEENGINE_DATA_DIR)), 'registry-token'));
  return {
    url: config.REGISTRY_URL,
    signer: keyDir ? TokenSigner.fromDir(keyDir) : TokenSigner.ephemeral(),
    service: config.REGISTRY_TOKEN_SERVICE,
    issuer: config.REGISTRY_TOKEN_ISSUER,
    ttlSeconds: config.REGISTRY_TOKEN_TTL_SECONDS,
    createOnPush: config.REGISTRY_CREATE_ON_PUSH,
    notificationSecret: config.REGISTRY_NOTIFICATION_SECRET,
  };
}

/** etcd answers /health on each client URL; one healthy member is enough to serve. */
function etcdCheck(endpoints: string[]): ReadinessCheck {
  return {
    name: 'etcd',
    check: async () => {
      const errors: string[] = [];
      for (const endpoint of endpoints) {
        try {
          const response = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
          const body = (await response.json()) as { health?: string };
          if (body.health === 'true') return;
          errors.push(`${endpoint}: unhealthy`);
        } catch (error) {
          errors.push(`${endpoint}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      throw new Error(errors.join('; '));
    },
  };
}
