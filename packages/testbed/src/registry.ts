import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findBinary } from './binaries.ts';
import { type ComponentHandle, retryOnPortClash } from './component.ts';
import { ComponentError } from './componentError.ts';
import { ManagedProcess } from './managedProcess.ts';
import { freePorts } from './ports.ts';
import { parseGarbageCollect, type RegistryGarbage, scanBlobs } from './registryGarbage.ts';
import { waitUntilReady } from './waitUntil.ts';

const run = promisify(execFile);
/** How long a stopping registry lets requests in flight finish (`http.draintimeout`). */
const DRAIN_SECONDS = 10;

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
  /** The filesystem driver's root directory (blobs and repositories). */
  readonly storageDir: string;
  /** The config file `serve` and `garbage-collect` read. */
  readonly configPath: string;
  /** Whether the running registry was started read-only (`storage.maintenance.readonly`). */
  readonly readOnly: boolean;
  /**
   * Restarts the registry on the same port read-only (pulls answer, pushes get `405`) or
   * read-write again; nothing to do when it already runs that way. Distribution reads the
   * setting only at start, so this is a restart: connections are refused for its length.
   */
  setReadOnly(readOnly: boolean): Promise<void>;
  /**
   * Runs `docker-registry garbage-collect` on this registry's config and storage and
   * reports what it marked and what was (with `dryRun`: would be) deleted. Only safe
   * while no push can happen: call it read-only (the registry does not check).
   */
  garbageCollect(options: { dryRun: boolean; deleteUntagged?: boolean }): Promise<RegistryGarbage>;
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
  const secret = randomBytes(16).toString('hex');
  const config = (readOnly: boolean) => ({
    version: 0.1,
    log: { level: 'info', formatter: 'text', accesslog: { disabled: true } },
    storage: {
      filesystem: { rootdirectory: storage },
      delete: { enabled: true },
      cache: { blobdescriptor: 'inmemory' },
      ...(readOnly ? { maintenance: { readonly: { enabled: true } } } : {}),
    },
    http: {
      addr: host,
      secret,
      debug: { addr: `127.0.0.1:${debugPort}` },
      headers: { 'X-Content-Type-Options': ['nosniff'] },
      // On SIGTERM, finish requests in flight (a pull during a restart) before exiting.
      draintimeout: `${DRAIN_SECONDS}s`,
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
  });
  // YAML is a superset of JSON: the config is written as JSON, with no YAML library.
  const configPath = join(workDir.path, 'config.yml');
  const writeConfig = (readOnly: boolean) =>
    writeFileSync(configPath, JSON.stringify(config(readOnly), null, 2));
  writeConfig(false);
  const url = `http://${host}`;
  const startedAt = performance.now();
  // With token auth, /v2/ answers 401 with a challenge: that is ready too.
  const expected = options.auth ? 401 : 200;
  const serve = async (): Promise<ManagedProcess> => {
    const proc = ManagedProcess.start({
      component: 'registry',
      argv: [binary, 'serve', configPath],
      cwd: workDir.path,
      logFile: join(workDir.path, 'registry.log'),
    });
    try {
      await waitUntilReady(
        proc,
        async () => {
          const response = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
          await response.arrayBuffer();
          return response.status === expected;
        },
        { timeoutMs: options.timeoutMs ?? 15_000, what: `GET ${url}/v2/ answering ${expected}` },
      );
    } catch (error) {
      await proc.stop(1000);
      throw error;
    }
    return proc;
  };
  let proc: ManagedProcess;
  try {
    proc = await serve();
  } catch (error) {
    workDir.remove();
    throw error;
  }
  let readOnly = false;
  // One restart at a time; stop() waits for one under way and then stops what it started.
  let changing: Promise<void> = Promise.resolve();
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await changing.catch(() => {});
      await proc.stop();
      workDir.remove();
    })();
    return stopping;
  };
  const setReadOnly = (wanted: boolean): Promise<void> => {
    const next = changing.then(async () => {
      if (stopping) throw new ComponentError('registry', 'the registry is stopped');
      if (wanted === readOnly && !proc.exitStatus) return;
      // Requests in flight get the drain time before the old process is killed.
      await proc.stop((DRAIN_SECONDS + 2) * 1000);
      writeConfig(wanted);
      proc = await serve();
      readOnly = wanted;
    });
    changing = next.catch(() => {});
    return next;
  };
  const garbageCollect = async (gc: {
    dryRun: boolean;
    deleteUntagged?: boolean;
  }): Promise<RegistryGarbage> => {
    const argv = [
      'garbage-collect',
      ...(gc.dryRun ? ['--dry-run'] : []),
      ...(gc.deleteUntagged ? ['--delete-untagged'] : []),
    ];
    const before = await scanBlobs(storage);
    const started = performance.now();
    let output: string;
    try {
      const { stdout, stderr } = await run(binary, [...argv, configPath], {
        cwd: workDir.path,
        maxBuffer: 256 * 1024 * 1024,
      });
      output = `${stdout}${stderr}`;
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; message: string };
      throw new ComponentError(
        'registry',
        `garbage-collect failed: ${e.message.split('\n')[0]}`,
        `${e.stdout ?? ''}${e.stderr ?? ''}`.slice(-4000),
        { cause: error },
      );
    }
    const durationMs = Math.round(performance.now() - started);
    return {
      ...parseGarbageCollect(output, gc.dryRun, before.blobs),
      blobBytesBefore: before.bytes,
      blobBytesAfter: (await scanBlobs(storage)).bytes,
      durationMs,
      output,
    };
  };
  return {
    component: 'registry',
    dir: workDir.path,
    get process() {
      return proc;
    },
    startupMs: Math.round(performance.now() - startedAt),
    logTail: (lines) => proc.tail(lines),
    stop,
    [Symbol.asyncDispose]: stop,
    url,
    host,
    port,
    storageDir: storage,
    configPath,
    get readOnly() {
      return readOnly;
    },
    setReadOnly,
    garbageCollect,
  };
}
