import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { SlbStore } from '@leengine/slb';
import { startSlbNginx } from '@leengine/slb/testing';
import {
  type CellHandle,
  type ComponentHandle,
  type EtcdHandle,
  ManagedProcess,
  makeWorkDir,
  processHandle,
  type Testbed,
} from '@leengine/testbed';

/** The SLB group of the local region, its one nginx host, and how users point names at it. */
export const LOCAL_GROUP = {
  name: 'local',
  host: 'slb-local-1',
  vip: '127.0.0.1',
  cname: 'local.slb.leengine.test',
};

/**
 * The address core's front-door nginx connects to core from (`proxy_bind`). Core trusts
 * X-Forwarded-For only from it (LEENGINE_TRUSTED_PROXIES); a client talking to core
 * directly from 127.0.0.1 is known by its own address, whatever header it sends.
 */
export const FRONT_DOOR_SOURCE = '127.0.0.2';

/** Where the region's SLB group serves applications. */
export interface RegionTraffic {
  group: string;
  /** The group's nginx: applications' domains by Host header (plain HTTP). */
  http: string;
  /** Prometheus text at `/metrics` (requests per domain, config loads). */
  metrics: string;
  /** Logs of the slb-agent and discovery processes. */
  logs: { agent: string; discovery: string };
}

export interface RegionTrafficOptions {
  testbed: Testbed;
  etcd: EtcdHandle;
  cells: CellHandle[];
  /** The region's state dir: the processes' logs go there. */
  stateDir: string;
  /** The group's HTTP port on 127.0.0.1 (0: a free one). */
  httpPort: number;
}

/**
 * Traffic for applications in the local region, as on real SLB hosts: the SLB group
 * `local` (ensured in slb-core's etcd prefix with this host, VIP and CNAME), an nginx of
 * its own on an slb-agent root, the `leengine-slb-agent` process applying the group to
 * it, and one `leengine-discovery` process watching every cell. Separate from core's
 * front door: the agent owns its nginx's whole config (see docs/slb.md).
 */
export async function startRegionTraffic(o: RegionTrafficOptions): Promise<RegionTraffic> {
  const client = o.etcd.client();
  try {
    const store = SlbStore.create({ client });
    const existing = await store.getGroup(LOCAL_GROUP.name);
    const revision = await store.putGroup({
      name: LOCAL_GROUP.name,
      description: existing?.description || 'The local region (./dev up)',
      // Only this host: the traffic gate waits for every declared host's agent.
      hosts: [LOCAL_GROUP.host],
      vip: LOCAL_GROUP.vip,
      cname: LOCAL_GROUP.cname,
    });
    const nginx = await startSlbNginx(o.testbed, {
      group: LOCAL_GROUP.name,
      host: LOCAL_GROUP.host,
      ...(o.httpPort ? { httpPort: o.httpPort } : {}),
      // A lease long enough not to lapse while the machine is busy (the gate would wait).
      settings: { leaseTtlSeconds: 10 },
    });
    const logs = { agent: join(o.stateDir, 'slb-agent.log'), discovery: join(o.stateDir, 'discovery.log') };
    const agentDir = makeWorkDir('slb-agent');
    const settingsFile = join(agentDir.path, 'agent.json');
    writeFileSync(settingsFile, JSON.stringify(nginx.settings, null, 2));
    const agent = await o.testbed.add(
      nodeProcess('slb-agent', 'leengine-slb-agent', logs.agent, agentDir.path, () => agentDir.remove(), [
        fileURLToPath(new URL('agent/main.ts', import.meta.resolve('@leengine/slb'))),
        '--config',
        settingsFile,
        '--etcd',
        o.etcd.url,
      ]),
    );
    await until(agent, 'the slb-agent to report the group', async () =>
      (await store.agents(LOCAL_GROUP.name)).some(
        (a) => a.host === LOCAL_GROUP.host && a.revision >= revision && !a.error,
      ),
    );
    const discoveryDir = makeWorkDir('discovery');
    const discovery = await o.testbed.add(
      nodeProcess(
        'discovery',
        'leengine-discovery',
        logs.discovery,
        discoveryDir.path,
        () => discoveryDir.remove(),
        [
          fileURLToPath(new URL('main.ts', import.meta.resolve('@leengine/discovery'))),
          '--etcd',
          o.etcd.url,
          ...o.cells.flatMap((c) => ['--cell', `${c.name}=${c.kubeconfig}`]),
        ],
      ),
    );
    // Up means every cell is listed and the upstreams are written from them.
    await until(discovery, 'discovery to list every cell', () => {
      const listed = jsonLines(logs.discovery).filter((l) => l.msg === 'cell listed; full resync');
      return o.cells.every((c) => listed.some((l) => l.cell === c.name));
    });
    return {
      group: LOCAL_GROUP.name,
      http: `http://127.0.0.1:${nginx.httpPort}`,
      metrics: `http://127.0.0.1:${nginx.metricsPort}`,
      logs,
    };
  } finally {
    client.close();
  }
}

/** nginx's server for core's front door: everything to core, from FRONT_DOOR_SOURCE. */
export function frontDoorConfig(port: number, coreUrl: string): string {
  return `server {
  listen 127.0.0.1:${port};
  location / {
    proxy_pass ${coreUrl};
    proxy_bind ${FRONT_DOOR_SOURCE};
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_set_header X-Request-Id $request_id;
  }
}
`;
}

/** One of the workspace's Node executables as a testbed component (logs truncated per start). */
async function nodeProcess(
  component: string,
  what: string,
  logFile: string,
  dir: string,
  cleanup: () => void,
  args: string[],
): Promise<ComponentHandle> {
  writeFileSync(logFile, '');
  const startedAt = performance.now();
  const proc = ManagedProcess.start({
    component,
    argv: [process.execPath, ...args],
    cwd: dirname(logFile),
    logFile,
  });
  return processHandle(proc, dir, startedAt, () => proc.stop().then(cleanup), `${component} (${what})`);
}

/** Polls `ready` until true; fails with the process's log if it exits or 60 s pass. */
async function until(
  handle: ComponentHandle,
  what: string,
  ready: () => boolean | Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (await Promise.resolve(ready()).catch(() => false)) return;
    const exited = handle.process.exitStatus;
    if (exited || Date.now() > deadline) {
      throw new Error(
        `local region: waiting for ${what} ${exited ? `(it exited: ${JSON.stringify(exited)})` : 'timed out'}:\n${handle.logTail(20)}`,
      );
    }
    await sleep(100);
  }
}

function jsonLines(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}
