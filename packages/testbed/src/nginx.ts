import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findBinary } from './binaries.ts';
import { baseHandle, type ComponentHandle, retryOnPortClash, startedOrCleanedUp } from './component.ts';
import { ComponentError } from './componentError.ts';
import { ManagedProcess } from './managedProcess.ts';
import { freePorts } from './ports.ts';
import { childPids } from './procfs.ts';
import { httpOk, waitUntilReady } from './waitUntil.ts';
import { makeWorkDir } from './workDir.ts';

const MODULES_DIR = '/usr/lib/nginx/modules';
const CONF_FILE = /^[a-z0-9][a-z0-9._-]*\.conf$/;

export interface NginxOptions {
  /** Listen on this port instead of a free one (no retry if it is taken). */
  port?: number;
  /** Path of the executable, instead of looking it up. */
  binary?: string;
  /** Files for conf.d/ (name -> content), included inside `http {}`. */
  files?: Record<string, string>;
  /** Extra directives at the `http {}` level (e.g. `lua_shared_dict`). */
  http?: string;
  workerProcesses?: number;
  timeoutMs?: number;
}

export interface NginxHandle extends ComponentHandle {
  /** A free port reserved for the caller's servers (testbed's own server uses statusPort). */
  readonly port: number;
  /** testbed's health server: GET /__testbed/health. */
  readonly statusPort: number;
  /** nginx's prefix dir (conf/, logs/, tmp/). */
  readonly prefix: string;
  /** Replaces conf.d/ with these files, checks the config with `nginx -t`, and reloads. */
  configure(files: Record<string, string>): Promise<void>;
  /** `nginx -t` on the current config; throws a ComponentError with its output. */
  test(): void;
  /** Reloads (SIGHUP) and waits until a new worker generation is running. */
  reload(): Promise<void>;
  /** PIDs of the current worker processes. */
  workerPids(): number[];
}

/** Starts nginx (Debian nginx-light) with the Lua module loaded, in its own prefix dir. */
export function startNginx(options: NginxOptions = {}): Promise<NginxHandle> {
  return options.port ? startNginxOnce(options) : retryOnPortClash(() => startNginxOnce(options));
}

async function startNginxOnce(options: NginxOptions): Promise<NginxHandle> {
  const binary = findBinary('nginx', options.binary ?? 'nginx');
  const workDir = makeWorkDir('nginx');
  const prefix = workDir.path;
  const [freeUserPort, statusPort] = (await freePorts(2)) as [number, number];
  const port = options.port ?? freeUserPort;
  const confDir = join(prefix, 'conf', 'conf.d');
  mkdirSync(confDir, { recursive: true });
  mkdirSync(join(prefix, 'logs'));
  const tempDirs = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((d) => join(prefix, 'tmp', d));
  for (const d of tempDirs) mkdirSync(d, { recursive: true });
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    // Workers drop to nobody: they must reach the prefix and write their temp files.
    chmodSync(prefix, 0o755);
    for (const d of [join(prefix, 'tmp'), ...tempDirs]) chownSync(d, 65534, 65534);
  }
  writeFileSync(
    join(prefix, 'conf', 'nginx.conf'),
    mainConfig({
      prefix,
      statusPort,
      asRoot,
      http: options.http ?? '',
      workers: options.workerProcesses ?? 1,
    }),
  );
  writeConfFiles(confDir, options.files ?? {});
  const confPath = join(prefix, 'conf', 'nginx.conf');
  const checkConfig = () => {
    const run = spawnSync(binary, ['-t', '-q', '-p', prefix, '-c', confPath], { encoding: 'utf8' });
    if (run.status !== 0) {
      throw new ComponentError('nginx', 'configuration test failed (nginx -t)', `${run.stdout}${run.stderr}`);
    }
  };
  try {
    checkConfig();
  } catch (error) {
    workDir.remove();
    throw error;
  }

  const startedAt = performance.now();
  const proc = ManagedProcess.start({
    component: 'nginx',
    argv: [binary, '-p', prefix, '-c', confPath],
    cwd: prefix,
    logFile: join(prefix, 'logs', 'nginx.log'),
    stopSignal: 'SIGQUIT',
  });
  const health = `http://127.0.0.1:${statusPort}/__testbed/health`;
  await startedOrCleanedUp(proc, workDir, () =>
    waitUntilReady(proc, () => httpOk(health), {
      timeoutMs: options.timeoutMs ?? 10_000,
      what: `GET ${health}`,
    }),
  );
  const workerPids = () => childPids(proc.pid);
  const reload = async () => {
    const before = new Set(workerPids());
    proc.signal('SIGHUP');
    const deadline = Date.now() + 10_000;
    while (!workerPids().some((pid) => !before.has(pid))) {
      if (proc.exitStatus || Date.now() > deadline) {
        throw new ComponentError('nginx', 'reload did not start new workers within 10 s', proc.tail());
      }
      await sleep(10);
    }
    // Old workers finish their requests and close idle keep-alive connections; until
    // they are gone a reused connection may still see the old config. Long-lived
    // connections may hold one for a while: do not wait for those past a few seconds.
    const drainDeadline = Date.now() + 5000;
    while (workerPids().some((pid) => before.has(pid)) && Date.now() < drainDeadline) await sleep(10);
  };
  return {
    ...baseHandle(proc, workDir, startedAt),
    port,
    statusPort,
    prefix,
    test: checkConfig,
    reload,
    workerPids,
    configure: async (files) => {
      writeConfFiles(confDir, files);
      checkConfig();
      await reload();
    },
  };
}

function writeConfFiles(confDir: string, files: Record<string, string>): void {
  for (const name of Object.keys(files)) {
    if (!CONF_FILE.test(name)) throw new Error(`nginx: invalid conf.d file name: ${JSON.stringify(name)}`);
  }
  for (const old of readdirSync(confDir)) rmSync(join(confDir, old));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(confDir, name), content);
}

function mainConfig(o: {
  prefix: string;
  statusPort: number;
  asRoot: boolean;
  http: string;
  workers: number;
}) {
  const tmp = (d: string) => join(o.prefix, 'tmp', d);
  return `# written by @leengine/testbed
load_module ${MODULES_DIR}/ndk_http_module.so;
load_module ${MODULES_DIR}/ngx_http_lua_module.so;
daemon off;
master_process on;
worker_processes ${o.workers};
${o.asRoot ? 'user nobody nogroup;' : ''}
pid ${join(o.prefix, 'logs', 'nginx.pid')};
error_log stderr notice;

events {
  worker_connections 1024;
}

http {
  access_log ${join(o.prefix, 'logs', 'access.log')};
  client_body_temp_path ${tmp('client_body')};
  proxy_temp_path ${tmp('proxy')};
  fastcgi_temp_path ${tmp('fastcgi')};
  uwsgi_temp_path ${tmp('uwsgi')};
  scgi_temp_path ${tmp('scgi')};
  lua_package_path "/usr/share/lua/5.1/?.lua;;";
${o.http}
  server {
    listen 127.0.0.1:${o.statusPort};
    location = /__testbed/health { return 200 "ok\\n"; }
  }

  include ${join(o.prefix, 'conf', 'conf.d')}/*.conf;
}
`;
}
