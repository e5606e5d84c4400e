import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { CellClient } from '@leengine/kube';
import type { CellCni, CellHandle, EtcdHandle, RegistryHandle, Testbed } from '@leengine/testbed';
import type { ApiClient, Json } from './apiClient.ts';
import { startTestCore, type TestCore, type TestCoreOptions } from './testCore.ts';

/** A region `test` of real cells behind a listening core, and clients to look into the cells directly. */
export interface CellRegion {
  core: TestCore;
  etcd: EtcdHandle;
  registry: RegistryHandle;
  cells: CellHandle[];
  /** Direct clients (the test's own eyes on each cell). */
  clients: Map<string, CellClient>;
  /** The test image in the region registry. */
  image: { repository: string; tag: string };
}

/**
 * Starts etcd, the registry, `cellNames` real cells and core, and registers the cells as
 * region `test`. `withEtcd`: core gets ETCD_ENDPOINTS (and so the SLB's gate and the
 * cells' IPAM); `cni`: the cells' pod network.
 */
export async function startCellRegion(
  testbed: Testbed,
  cellNames: string[],
  options: TestCoreOptions & {
    withEtcd?: boolean;
    /** The pod network of each cell (default: the testbed's bridge + host-local). */
    cni?: (cell: string, etcd: EtcdHandle) => Promise<CellCni>;
  } = {},
): Promise<CellRegion> {
  const [etcd, registry] = await Promise.all([testbed.etcd(), testbed.registry()]);
  const { withEtcd, cni, ...coreOptions } = options;
  const cells = await Promise.all(
    cellNames.map(async (name) =>
      testbed.cell({ name, etcd, registry, ...(cni ? { cni: await cni(name, etcd) } : {}) }),
    ),
  );
  const core = await startTestCore({
    registryUrl: registry.url,
    runtime: { resyncMs: 5000, healthIntervalMs: 1000 },
    ...(withEtcd ? { etcdEndpoints: etcd.url } : {}),
    ...coreOptions,
  });
  assert.equal((await core.admin.post('/api/v1/regions', { name: 'test' })).status, 201);
  for (const cell of cells) {
    const added = await core.admin.post('/api/v1/regions/test/cells', {
      name: cell.name,
      kubeconfig: readFileSync(cell.kubeconfig, 'utf8'),
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
  }
  const clients = new Map(
    cells.map((c) => [c.name, CellClient.fromKubeconfig(c.name, readFileSync(c.kubeconfig, 'utf8'))]),
  );
  return { core, etcd, registry, cells, clients, image: { repository: 'leengine/httpbox', tag: '1' } };
}

/** Polls until `probe` returns something other than undefined/false. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    // A probe that never returns counts as a failed one when the time is up.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error('the last probe did not return')),
        Math.max(deadline - Date.now(), 0) + 1000,
      );
    });
    try {
      const value = await Promise.race([probe(), late]);
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    } finally {
      clearTimeout(timer);
    }
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(250);
  }
}

/** Waits until an operation leaves running/rolling-back; returns it. */
export async function finished(
  client: ApiClient,
  application: string,
  id: number,
  timeoutMs = 180_000,
): Promise<Json> {
  let last: Json;
  return until(
    `operation ${id} to finish`,
    async () => {
      const op = await client.get(`/api/v1/applications/${application}/operations/${id}`);
      assert.equal(op.status, 200, JSON.stringify(op.body));
      last = op.body;
      return ['running', 'rolling-back'].includes(op.body.state) ? undefined : op.body;
    },
    timeoutMs,
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; last seen: ${JSON.stringify(last)}`);
  });
}

/** A version to deploy: the httpbox image, ready on /healthz, quick to stop. */
export function httpboxVersion(region: CellRegion, overrides: Record<string, unknown> = {}): Json {
  return {
    image: region.image,
    instances: 2,
    port: 8080,
    cpu: { requestMillicores: 20, limitMillicores: 200 },
    memory: { requestMib: 16, limitMib: 64 },
    env: [{ name: 'MODE', value: 'test' }],
    healthCheck: { path: '/healthz', periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 1 },
    terminationGracePeriodSeconds: 1,
    ...overrides,
  };
}

/** Every event of an application, through all pages. */
export async function allEvents(client: ApiClient, application: string): Promise<Json[]> {
  const list: Json[] = [];
  let cursor = '';
  for (let pages = 0; pages < 100; pages++) {
    const page = (await client.get(`/api/v1/applications/${application}/events?limit=100${cursor}`)).body;
    list.push(...page.items);
    if (!page.nextCursor) return list;
    cursor = `&cursor=${page.nextCursor}`;
  }
  throw new Error('no last page of events');
}
