import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findBinary } from './binaries.ts';
import { baseHandle, type ComponentHandle, retryOnPortClash, startedOrCleanedUp } from './component.ts';
import { ManagedProcess } from './managedProcess.ts';
import { freePorts } from './ports.ts';
import { waitUntilReady } from './waitUntil.ts';
import { makeWorkDir } from './workDir.ts';

export interface RegistryTokenAuth {
  /** Token endpoint URL the 401 challenge points at. */
  realm: string;
  /** `service` in the challenge and `aud` in tokens. */
  service: string;
  issuer: string;
  /** Path of a PEM bundle with the token signer's certificate(s). */
  rootCertBundle: string;
}

export interface RegistryNotificationEndpoint {
  name: string;
  url: string;
  headers?: Record<string, string[]>;
  timeout?: string;
  threshold?: number;
  backoff?: string;
}

export interface RegistryOptions {
  /** Listen on this port instead of a free one (no retry if it is taken). */
  port?: number;
  /** Path of the executable, instead of looking it up. */
  binary?: string;
  /** Keep images here across restarts (default: a temp dir, removed on stop). */
  dir?: string;
  auth?: RegistryTokenAuth;
  notifications?: RegistryNotificationEndpoint[];
  timeoutMs?: number;
}

export interface RegistryHandle extends ComponentHandle {
  /** e.g. http://127.0.0.1:40123 */
  readonly url: string;
  /** host:port, as used in image references. */
  readonly host: string;
  readonly port: number;
}

/** Starts a Docker distribution registry (Debian docker-registry, 2.8) with filesystem storage. */
export function startRegistry(options: RegistryOptions = {}): Promise<RegistryHandle> {
  return options.port ? startRegistryOnce(options) : retryOnPortClash(() => startRegistryOnce(options));
}

async function startRegistryOnce(options: RegistryOptions): Promise<RegistryHandle> {
  const binary = findBinary('registry', options.binary ?? 'docker-registry');
  const workDir = makeWorkDir('registry', { dir: options.dir });
  const storage = join(workDir.path, 'storage');
  mkdirSync(storage, { recursive: true });
  const [freeApiPort, debugPort] = (await freePorts(2)) as [number, number];
  const port = options.port ?? freeApiPort;
  const host = `127.0.0.1:${port}`;
  const config = {
    version: 0.1,
    log: { level: 'info', formatter: 'text', accesslog: { disabled: true } },
    storage: {
      filesystem: { rootdirectory: storage },
      delete: { enabled: true },
      cache: { blobdescriptor: 'inmemory' },
    },
    http: {
      addr: host,
      secret: randomBytes(16).toString('hex'),
      debug: { addr: `127.0.0.1:${debugPort}` },
      headers: { 'X-Content-Type-Options': ['nosniff'] },
    },
    ...(options.auth
      ? {
          auth: {
            token: {
              realm: options.auth.realm,
              service: options.auth.service,
              issuer: options.auth.issuer,
              rootcertbundle: options.auth.rootCertBundle,
            },
          },
        }
      : {}),
    ...(options.notifications ? { notifications: { endpoints: options.notifications } } : {}),
  };
  // YAML is a superset of JSON: the config is written as JSON, with no YAML library.
  const configPath = join(workDir.path, 'config.yml');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const url = `http://${host}`;
  const startedAt = performance.now();
  const proc = ManagedProcess.start({
    component: 'registry',
    argv: [binary, 'serve', configPath],
    cwd: workDir.path,
    logFile: join(workDir.path, 'registry.log'),
  });
  // With token auth, /v2/ answers 401 with a challenge: that is ready too.
  const expected = options.auth ? 401 : 200;
  await startedOrCleanedUp(proc, workDir, () =>
    waitUntilReady(
      proc,
      async () => {
        const response = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
        await response.arrayBuffer();
        return response.status === expected;
      },
      { timeoutMs: options.timeoutMs ?? 15_000, what: `GET ${url}/v2/ answering ${expected}` },
    ),
  );
  return { ...baseHandle(proc, workDir, startedAt), url, host, port };
}
