import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type ComponentHandle,
  findBinary,
  freePorts,
  ManagedProcess,
  makeWorkDir,
  type Testbed,
} from '@leengine/testbed';
import type { AgentSettingsInput } from '../agent/agentSettings.ts';
import type { NginxRuntime } from '../agent/nginxRuntime.ts';
import { SlbAgent } from '../agent/slbAgent.ts';
import { childPids } from './procfs.ts';

/** A real nginx started on an slb-agent's root, as systemd would start it on an SLB host. */
export interface SlbNginxHandle extends ComponentHandle {
  /** The agent settings this nginx was bootstrapped with (pass them to SlbAgent.start). */
  readonly settings: AgentSettingsInput;
  readonly runtime: NginxRuntime;
  /** The plain-HTTP port domains listen on (127.0.0.1). */
  readonly httpPort: number;
  readonly metricsPort: number;
  /** PIDs of the current worker processes. */
  workerPids(): number[];
  /** Prometheus text from the metrics server. */
  metrics(): Promise<string>;
}

/**
 * Bootstraps an agent root (first generation, no domains) in a temp dir and starts the
 * real nginx master on `<root>/live/nginx.conf` under testbed's process management (its
 * own process group, reaped if the test process dies).
 */
export async function startSlbNginx(
  testbed: Testbed,
  options: {
    group?: string;
    host?: string;
    workerProcesses?: number;
    /** The plain-HTTP port on 127.0.0.1 (default: a free one). */
    httpPort?: number;
    settings?: Partial<AgentSettingsInput>;
  } = {},
): Promise<SlbNginxHandle> {
  return testbed.add(
    (async () => {
      const workDir = makeWorkDir('slb-nginx');
      const [freeHttpPort, metricsPort] = (await freePorts(2)) as [number, number];
      const httpPort = options.httpPort ?? freeHttpPort;
      const settings: AgentSettingsInput = {
        group: options.group ?? 'public',
        host: options.host ?? 'slb-1',
        root: workDir.path,
        nginxBinary: findBinary('nginx', 'nginx'),
        http: [`127.0.0.1:${httpPort}`],
        https: [],
        metrics: `127.0.0.1:${metricsPort}`,
        workerProcesses: options.workerProcesses ?? 1,
        reloadMinIntervalMs: 200,
        leaseTtlSeconds: 3,
        verifyIntervalMs: 500,
        upstreamsDictMb: 32,
        ...options.settings,
      };
      const runtime = await SlbAgent.bootstrap(settings);
      const startedAt = performance.now();
      const proc = ManagedProcess.start({
        component: 'slb-nginx',
        argv: [runtime.binary, '-p', runtime.root, '-c', runtime.liveConfig],
        cwd: runtime.root,
        logFile: join(runtime.root, 'logs', 'nginx.log'),
        stopSignal: 'SIGQUIT',
      });
      const deadline = Date.now() + 10_000;
      for (;;) {
        const ok = await runtime.control.generation().then(
          () => true,
          () => false,
        );
        if (ok) break;
        if (proc.exitStatus || Date.now() > deadline) {
          await proc.stop(1000);
          workDir.remove();
          throw new Error(`slb-nginx did not start: ${proc.tail()}`);
        }
        await sleep(20);
      }
      let stopping: Promise<void> | undefined;
      const stop = () => {
        stopping ??= proc.stop().then(() => workDir.remove());
        return stopping;
      };
      return {
        component: 'slb-nginx',
        dir: workDir.path,
        process: proc,
        startupMs: Math.round(performance.now() - startedAt),
        logTail: (lines?: number) =>
          `${proc.tail(lines)}\n${readTail(join(runtime.root, 'logs', 'error.log'), lines ?? 30)}`,
        stop,
        [Symbol.asyncDispose]: stop,
        settings,
        runtime,
        httpPort,
        metricsPort,
        workerPids: () => childPids(proc.pid),
        metrics: async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(),
      };
    })(),
  );
}

function readTail(path: string, lines: number): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
