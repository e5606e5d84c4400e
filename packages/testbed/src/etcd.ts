import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { findBinary } from './binaries.ts';
import { baseHandle, type ComponentHandle, retryOnPortClash, startedOrCleanedUp } from './component.ts';
import { ManagedProcess } from './managedProcess.ts';
import { freePorts } from './ports.ts';
import { waitUntilReady } from './waitUntil.ts';
import { makeWorkDir } from './workDir.ts';

export interface EtcdOptions {
  /** Listen on this port instead of a free one (no retry if it is taken). */
  port?: number;
  /** Path of the executable, instead of looking it up. */
  binary?: string;
  /** Keep data here across restarts (default: a temp dir on tmpfs, removed on stop). */
  dir?: string;
  timeoutMs?: number;
}

export interface EtcdHandle extends ComponentHandle {
  /** Client URL, e.g. http://127.0.0.1:40123 */
  readonly url: string;
  readonly port: number;
  /** A new etcd3 client for this member; the caller closes it. */
  client(): Etcd3;
}

/** Starts a single-member etcd (Debian etcd-server, 3.4). */
export function startEtcd(options: EtcdOptions = {}): Promise<EtcdHandle> {
  return options.port ? startEtcdOnce(options) : retryOnPortClash(() => startEtcdOnce(options));
}

async function startEtcdOnce(options: EtcdOptions): Promise<EtcdHandle> {
  const binary = findBinary('etcd', options.binary ?? 'etcd');
  const workDir = makeWorkDir('etcd', { dir: options.dir, tmpfs: true });
  const [freeClientPort, peerPort] = (await freePorts(2)) as [number, number];
  const port = options.port ?? freeClientPort;
  const url = `http://127.0.0.1:${port}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const startedAt = performance.now();
  const proc = ManagedProcess.start({
    component: 'etcd',
    argv: [
      binary,
      '--name=testbed',
      `--data-dir=${join(workDir.path, 'data')}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=testbed=${peerUrl}`,
      '--initial-cluster-state=new',
      // A single member has no peers to wait for: a short election timeout makes it
      // leader in ~0.1 s instead of ~1 s (measured by bench/testbed-startup).
      '--heartbeat-interval=10',
      '--election-timeout=100',
      // A test etcd is small and short-lived; a large snapshot count only costs memory.
      '--snapshot-count=10000',
      '--log-level=warn',
      '--logger=zap',
    ],
    cwd: workDir.path,
    logFile: join(workDir.path, 'etcd.log'),
    env: { ...process.env, ETCD_UNSUPPORTED_ARCH: process.arch === 'x64' ? '' : process.arch },
  });
  await startedOrCleanedUp(proc, workDir, () =>
    waitUntilReady(proc, () => etcdHealthy(url), {
      timeoutMs: options.timeoutMs ?? 15_000,
      what: `GET ${url}/health`,
    }),
  );
  return {
    ...baseHandle(proc, workDir, startedAt),
    url,
    port,
    client: () => new Etcd3({ hosts: url }),
  };
}

async function etcdHealthy(url: string): Promise<boolean> {
  const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
  const body = (await response.json()) as { health?: string };
  return response.ok && body.health === 'true';
}
