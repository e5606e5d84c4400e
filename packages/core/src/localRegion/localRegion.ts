import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type EtcdHandle, type NginxHandle, type RegistryHandle, Testbed } from '@leengine/testbed';
import type { Logger } from 'pino';
import { type CoreConfig, loadConfig } from '../config.ts';
import { Core } from '../core.ts';
import type { FirstAdmin } from '../users/userService.ts';

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
  slb: string;
  /** The region's cells: name, apiserver URL and admin kubeconfig path. */
  cells: { name: string; server: string; kubeconfig: string }[];
}

/**
 * A complete local region on this machine: etcd (message bus), the region registry,
 * two Kubernetes cells with a real node each (LEENGINE_LOCAL_CELLS to change), an nginx
 * SLB node in front of core, and leengine-core on PGlite (or DATABASE_URL).
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
      const [etcd, registry] = await Promise.all([
        testbed.etcd({ dir: join(stateDir, 'etcd') }),
        testbed.registry({ dir: join(stateDir, 'registry') }),
      ]);
      const cellCount = numberOr(options.env.LEENGINE_LOCAL_CELLS, 2);
      const cells = await Promise.all(
        Array.from({ length: cellCount }, (_, i) =>
          testbed.cell({
            name: `local-${i + 1}`,
            etcd,
            registry,
            dir: join(stateDir, 'cells', `local-${i + 1}`),
          }),
        ),
      );
      const config = coreConfig(options.env, stateDir, etcd, registry);
      const core = await Core.create(config, options.logger ? { logger: options.logger } : {});
      let coreUrl: string;
      let firstAdmin: FirstAdmin | null;
      try {
        firstAdmin = await core.ensureFirstAdmin();
        coreUrl = await core.listen();
      } catch (error) {
        await core.close();
        throw error;
      }
      const nginx = await testbed.nginx({ port: numberOr(options.env.LEENGINE_SLB_PORT, 0) || undefined });
      await nginx.configure({ 'core.conf': proxyToCore(nginx, coreUrl) });
      const endpoints: RegionEndpoints = {
        core: coreUrl,
        openapi: `${coreUrl}/openapi.json`,
        database: config.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : `PGlite in ${config.LEENGINE_DATA_DIR}`,
        etcd: etcd.url,
        registry: registry.url,
        slb: `http://127.0.0.1:${nginx.port}`,
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
): CoreConfig {
  return loadConfig({
    LEENGINE_DATA_DIR: join(stateDir, 'data'),
    ...env,
    ETCD_ENDPOINTS: env.ETCD_ENDPOINTS ?? etcd.url,
    REGISTRY_URL: env.REGISTRY_URL ?? registry.url,
  });
}

function numberOr(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value && Number.isInteger(n) ? n : fallback;
}

/** Until the SLB capability manages it, the region's nginx fronts core. */
function proxyToCore(nginx: NginxHandle, coreUrl: string): string {
  return `server {
  listen 127.0.0.1:${nginx.port};
  location / {
    proxy_pass ${coreUrl};
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Request-Id $request_id;
  }
}
`;
}
