import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type EtcdHandle, freePorts, type RegistryHandle, Testbed } from '@leengine/testbed';
import type { Logger } from 'pino';
import { type CoreConfig, loadConfig } from '../config.ts';
import { Core } from '../core.ts';
import { SecretBox } from '../crypto/secretBox.ts';
import { systemImageCredentials } from '../registry/regionImages.ts';
import { EVENTS_PATH, TOKEN_PATH } from '../registry/registryRoutes.ts';
import { DEFAULT_REGISTRY_ISSUER, DEFAULT_REGISTRY_SERVICE } from '../registry/registryServices.ts';
import { TokenSigner } from '../registry/tokenSigner.ts';
import type { FirstAdmin } from '../users/userService.ts';
import { startLocalBuildAgent, withLocalBuilds } from './buildAgent.ts';
import { localCellNetwork } from './cellNetwork.ts';
import { localRegistryMaintenance } from './registryMaintenance.ts';
import { FRONT_DOOR_SOURCE, frontDoorConfig, type RegionTraffic, startRegionTraffic } from './traffic.ts';

export interface LocalRegionOptions {
  /** Where the region keeps its state between runs (etcd, registry, PGlite). */
  stateDir: string;
  /** The environment core's configuration is read from (DATABASE_URL, LEENGINE_PORT, ...). */
  env: Record<string, string | undefined>;
  logger?: Logger;
}

/** Where everything of a running local region listens. */
export interface RegionEndpoints {
  core: string;
  openapi: string;
  database: string;
  etcd: string;
  registry: string;
  /** core's front door: an nginx in front of core (core trusts its X-Forwarded-For). */
  slb: string;
  /** The SLB group `local`: an slb-agent's nginx serving applications' domains, fed by discovery. */
  slbGroup: RegionTraffic;
  /** The region's cells: name, apiserver URL and admin kubeconfig path. */
  cells: { name: string; server: string; kubeconfig: string }[];
}

/**
 * A complete local region on this machine: etcd (message bus), the region registry
 * (token auth at core, notifications to core),
 * two Kubernetes cells with a real node each (LEENGINE_LOCAL_CELLS to change) registered in
 * core as region `local`, an nginx in front of core, the SLB group `local` (traffic.ts),
 * and leengine-core on PGlite (or DATABASE_URL).
 * Later capabilities add build agents and monitoring here.
 */
export class LocalRegion implements AsyncDisposable {
  readonly core: Core;
  readonly endpoints: RegionEndpoints;
  /** The admin created on the first start (empty database); null on every later start. */
  readonly firstAdmin: FirstAdmin | null;
  readonly #testbed: Testbed;

  private constructor(
    testbed: Testbed,
    core: Core,
    endpoints: RegionEndpoints,
    firstAdmin: FirstAdmin | null,
  ) {
    this.#testbed = testbed;
    this.core = core;
    this.endpoints = endpoints;
    this.firstAdmin = firstAdmin;
  }

  static async start(options: LocalRegionOptions): Promise<LocalRegion> {
    const stateDir = resolve(options.stateDir);
    mkdirSync(stateDir, { recursive: true });
    const testbed = new Testbed({ handleSignals: false });
    try {
      // The registry asks core for tokens and tells core about pushes, so it needs core's
      // address and key before core runs: pick core's port and make the key first.
      const auth = registryAuth(options.env, stateDir);
      const host = options.env.LEENGINE_HOST || '127.0.0.1';
      const corePort = numberOr(options.env.LEENGINE_PORT, 7070) || ((await freePorts(1)) as [number])[0];
      const coreUrl = `http://${host}:${corePort}`;
      const registryPort = await stickyPort(stateDir, 'registry', options.env.LEENGINE_REGISTRY_PORT);
      const [etcd, registry] = await Promise.all([
        testbed.etcd({ dir: join(stateDir, 'etcd') }),
        testbed.registry({
          dir: join(stateDir, 'registry'),
          port: registryPort,
          auth: {
            realm: `${coreUrl}${TOKEN_PATH}`,
            service: auth.service,
            issuer: auth.issuer,
            rootCertBundle: join(auth.keyDir, 'cert.pem'),
          },
          notifications: [
            {
              name: 'leengine-core',
              url: `${coreUrl}${EVENTS_PATH}`,
              headers: { Authorization: [`Bearer ${auth.notificationSecret}`] },
              timeout: '5s',
              threshold: 5,
              backoff: '2s',
            },
          ],
        }),
      ]);
      const config = coreConfig(withLocalBuilds(options.env), stateDir, etcd, registry, {
        ...auth,
        port: corePort,
      });
      const core = await Core.create(config, {
        ...(options.logger ? { logger: options.logger } : {}),
        registryMaintenance: localRegistryMaintenance(registry),
      });
      let firstAdmin: FirstAdmin | null;
      let cellImagePush: string;
      try {
        firstAdmin = await core.ensureFirstAdmin();
        await core.listen();
        cellImagePush = await systemImageCredentials(core.db, core.services);
        await testbed.add(startLocalBuildAgent({ stateDir, etcdUrl: etcd.url, core }));
      } catch (error) {
        await core.close();
        throw error;
      }
      const cellCount = numberOr(options.env.LEENGINE_LOCAL_CELLS, 2);
      const cells = await Promise.all(
        Array.from({ length: cellCount }, async (_, i) =>
          testbed.cell({
            name: `local-${i + 1}`,
            etcd,
            registry,
            registryCredentials: cellImagePush,
            dir: join(stateDir, 'cells', `local-${i + 1}`),
            // leengine-cni and its node agent; the same segment at every start
            ...(await localCellNetwork({
              testbed,
              etcd,
              cell: `local-${i + 1}`,
              dir: join(stateDir, 'cells', `local-${i + 1}`),
            })),
          }),
        ),
      ).catch(async (error: unknown) => {
        await core.close();
        throw error;
      });
      // Region `local` has exactly these cells; a restart brings new apiserver ports.
      await core.services.regions
        .ensure(
          'local',
          cells.map((c) => ({ name: c.name, kubeconfig: readFileSync(c.kubeconfig, 'utf8') })),
        )
        .catch(async (error: unknown) => {
          await core.close();
          throw error;
        });
      const nginx = await testbed.nginx({ port: numberOr(options.env.LEENGINE_SLB_PORT, 0) || undefined });
      await nginx.configure({ 'core.conf': frontDoorConfig(nginx.port, coreUrl) });
      const slbGroup = await startRegionTraffic({
        testbed,
        etcd,
        cells,
        stateDir,
        httpPort: numberOr(options.env.LEENGINE_APPS_PORT, 0),
      }).catch(async (error: unknown) => {
        await core.close();
        throw error;
      });
      const endpoints: RegionEndpoints = {
        core: coreUrl,
        openapi: `${coreUrl}/openapi.json`,
        database: config.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : `PGlite in ${config.LEENGINE_DATA_DIR}`,
        etcd: etcd.url,
        registry: registry.url,
        slb: `http://127.0.0.1:${nginx.port}`,
        slbGroup,
        cells: cells.map((c) => ({ name: c.name, server: c.server, kubeconfig: c.kubeconfig })),
      };
      writeFileSync(join(stateDir, 'region.json'), `${JSON.stringify(endpoints, null, 2)}\n`);
      return new LocalRegion(testbed, core, endpoints, firstAdmin);
    } catch (error) {
      await testbed.stop();
      throw error;
    }
  }

  async stop(): Promise<void> {
    await this.core.close().catch(() => {});
    await this.#testbed.stop();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

function coreConfig(
  env: Record<string, string | undefined>,
  stateDir: string,
  etcd: EtcdHandle,
  registry: RegistryHandle,
  auth: RegistryAuth & { port: number },
): CoreConfig {
  return loadConfig({
    LEENGINE_DATA_DIR: join(stateDir, 'data'),
    ...env,
    LEENGINE_PORT: String(auth.port),
    ETCD_ENDPOINTS: env.ETCD_ENDPOINTS ?? etcd.url,
    REGISTRY_URL: env.REGISTRY_URL ?? registry.url,
    REGISTRY_TOKEN_KEY_DIR: auth.keyDir,
    REGISTRY_TOKEN_SERVICE: auth.service,
    REGISTRY_TOKEN_ISSUER: auth.issuer,
    REGISTRY_NOTIFICATION_SECRET: auth.notificationSecret,
    LEENGINE_SECRET_KEY: env.LEENGINE_SECRET_KEY || secretKey(stateDir),
    LEENGINE_TRUSTED_PROXIES: [env.LEENGINE_TRUSTED_PROXIES, FRONT_DOOR_SOURCE].filter(Boolean).join(','),
  });
}

/** The key sealing cell kubeconfigs and secret env values: made once, kept in the state dir (0600). */
function secretKey(stateDir: string): string {
  const file = join(stateDir, 'secret.key');
  if (!existsSync(file)) writeFileSync(file, `${SecretBox.generateKey()}\n`, { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

interface RegistryAuth {
  keyDir: string;
  service: string;
  issuer: string;
  notificationSecret: string;
}

/**
 * The registry's side of core's configuration: the token key (made now if missing, so
 * the registry can trust its certificate before core starts) and the notification
 * secret (from the environment, or made once and kept in the state dir).
 */
function registryAuth(env: Record<string, string | undefined>, stateDir: string): RegistryAuth {
  // Where core looks by default: beside its data dir.
  const keyDir =
    env.REGISTRY_TOKEN_KEY_DIR ||
    join(dirname(resolve(env.LEENGINE_DATA_DIR || join(stateDir, 'data'))), 'registry-token');
  TokenSigner.fromDir(keyDir);
  let notificationSecret = env.REGISTRY_NOTIFICATION_SECRET;
  if (!notificationSecret) {
    const file = join(stateDir, 'registry-notification-secret');
    if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
    notificationSecret = readFileSync(file, 'utf8').trim();
  }
  return {
    keyDir,
    service: env.REGISTRY_TOKEN_SERVICE || DEFAULT_REGISTRY_SERVICE,
    issuer: env.REGISTRY_TOKEN_ISSUER || DEFAULT_REGISTRY_ISSUER,
    notificationSecret,
  };
}

/**
 * A port that stays the same across restarts: the environment's, else the one recorded in
 * the state dir, else a free one, recorded now. The registry needs it: every workload's
 * image reference names the registry's host:port, so a new port at each `./dev up` would
 * leave the pods of earlier deploys unable to pull their image again.
 */
async function stickyPort(stateDir: string, name: string, fromEnv: string | undefined): Promise<number> {
  const configured = numberOr(fromEnv, 0);
  if (configured) return configured;
  const file = join(stateDir, `${name}.port`);
  const recorded = existsSync(file) ? numberOr(readFileSync(file, 'utf8').trim(), 0) : 0;
  if (recorded) return recorded;
  const [port] = (await freePorts(1)) as [number];
  writeFileSync(file, `${port}\n`);
  return port;
}

function numberOr(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value && Number.isInteger(n) ? n : fallback;
}
