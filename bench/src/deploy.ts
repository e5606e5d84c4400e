// bench/deploy: applications on two real cells through leengine-core's API.
//   deploy_ready_p50/p99  POST .../versions (2 instances per cell, image already on the
//                         nodes) -> every instance Ready in both cells, as the cells see it
//   gray_upgrade_p50/p99  POST .../versions of the next version -> its operation succeeded:
//                         new instances Ready and routable, the old version drained,
//                         scaled down and deleted in both cells (no SLB domain bound)
// Readiness probe every 1 s, termination grace 1 s. --quick: 2 rounds instead of 10;
// --steps: each upgrade's step times (ms after the operation started) on stderr.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLIENT_HEADER, Core, loadConfig } from '@leengine/core';
import { CellClient } from '@leengine/kube';
import { Testbed } from '@leengine/testbed';
import { pino } from 'pino';
import { figure, isQuick, quantile } from './stats.ts';

const quick = isQuick();
const ROUNDS = quick ? 2 : 10;
const PER_CELL = 2;

type Json = Record<string, unknown> & { [key: string]: unknown };

function client(base: string, headers: Record<string, string>) {
  return async (method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Json) : {} };
  };
}

async function until(what: string, probe: () => Promise<boolean>, intervalMs: number, timeoutMs = 180_000) {
  const deadline = performance.now() + timeoutMs;
  while (!(await probe())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

const testbed = new Testbed();
let core: Core | undefined;
try {
  const [etcd, registry] = await Promise.all([testbed.etcd(), testbed.registry()]);
  const cells = await Promise.all(
    ['deploy-a', 'deploy-b'].map((name) => testbed.cell({ name, etcd, registry })),
  );
  const eyes = cells.map((c) => CellClient.fromKubeconfig(c.name, readFileSync(c.kubeconfig, 'utf8')));
  core = await Core.create(
    loadConfig({
      LEENGINE_HOST: '127.0.0.1',
      LEENGINE_PORT: '0',
      LEENGINE_DATA_DIR: 'memory://',
      LEENGINE_SECRET_KEY: randomBytes(32).toString('base64'),
      REGISTRY_URL: registry.url,
      LOG_LEVEL: 'silent',
    }),
    { logger: pino({ level: process.env.LOG_LEVEL ?? 'silent' }) },
  );
  const first = await core.ensureFirstAdmin();
  const url = await core.listen();
  if (!first) throw new Error('no first admin');
  const session = await fetch(`${url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [CLIENT_HEADER]: 'bench' },
    body: JSON.stringify({ username: first.username, password: first.password }),
  });
  const cookie = (session.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const token = await client(url, { cookie, [CLIENT_HEADER]: 'bench' })('POST', '/api/v1/user/tokens', {
    name: 'bench',
  });
  const api = client(url, { authorization: `Bearer ${token.body.token}` });
  const must = async (method: string, path: string, body: unknown, status: number) => {
    const answer = await api(method, path, body);
    if (answer.status !== status)
      throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body;
  };
  await must(
    'PUT',
    '/api/v1/quotas/default',
    { applications: 1000, instances: 10_000, cpuMillicores: 10_000_000, memoryMib: 10_000_000 },
    200,
  );
  await must('POST', '/api/v1/regions', { name: 'bench' }, 201);
  for (const cell of cells) {
    await must(
      'POST',
      '/api/v1/regions/bench/cells',
      { name: cell.name, kubeconfig: readFileSync(cell.kubeconfig, 'utf8') },
      201,
    );
  }
  const version = (mode: string) => ({
    image: { repository: 'leengine/httpbox', tag: '1' },
    instances: PER_CELL,
    cpu: { requestMillicores: 10, limitMillicores: 200 },
    memory: { requestMib: 16, limitMib: 64 },
    env: [{ name: 'MODE', value: mode }],
    healthCheck: { path: '/healthz', periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 1 },
    terminationGracePeriodSeconds: 1,
  });
  const operation = async (app: string, id: unknown) =>
    (await must('GET', `/api/v1/applications/${app}/operations/${id}`, undefined, 200)).state as string;

  const deployReady: number[] = [];
  const grayUpgrade: number[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    const app = `bench-${round}`;
    await must('POST', '/api/v1/applications', { name: app }, 201);
    const started = performance.now();
    const v1 = await must('POST', `/api/v1/applications/${app}/versions`, version('one'), 202);
    await until(
      'v1 ready in both cells',
      async () => {
        const counts = await Promise.all(
          eyes.map(
            async (e) => (await e.containers(app)).filter((c) => c.version === 'v1' && c.ready).length,
          ),
        );
        return counts.every((n) => n === PER_CELL);
      },
      25,
    );
    const ready = performance.now() - started;
    await until('v1 deployed', async () => (await operation(app, v1.id)) === 'succeeded', 100);

    const upgradeStarted = performance.now();
    const v2 = await must('POST', `/api/v1/applications/${app}/versions`, version('two'), 202);
    await until(
      'gray upgrade to v2',
      async () => {
        const state = await operation(app, v2.id);
        if (state === 'failed' || state === 'aborted') throw new Error(`upgrade ${state}`);
        return state === 'succeeded';
      },
      50,
    );
    const upgrade = performance.now() - upgradeStarted;
    if (process.argv.includes('--steps')) {
      // Where the upgrade's time went, to stderr (not a figure).
      const op = await must('GET', `/api/v1/applications/${app}/operations/${v2.id}`, undefined, 200);
      const steps = op.steps as { name: string; startedAt: string | null; finishedAt: string | null }[];
      const at = (t: string | null) => (t ? Date.parse(t) - Date.parse(String(op.createdAt)) : null);
      process.stderr.write(
        `${steps.map((x) => `${x.name} ${at(x.startedAt)}..${at(x.finishedAt)}`).join(', ')}\n`,
      );
    }
    // Round 0 warms up (API, reconcilers, watches); it is not counted.
    if (round > 0) {
      deployReady.push(ready);
      grayUpgrade.push(upgrade);
    }
    await must('DELETE', `/api/v1/applications/${app}`, undefined, 204);
    await until(
      'namespaces gone',
      async () => (await Promise.all(eyes.map((e) => e.namespace(app)))).every((s) => s === 'absent'),
      200,
    );
  }
  figure('deploy_ready_p50', Math.round(quantile(deployReady, 0.5)), 'ms');
  figure('deploy_ready_p99', Math.round(quantile(deployReady, 0.99)), 'ms');
  figure('gray_upgrade_p50', Math.round(quantile(grayUpgrade, 0.5)), 'ms');
  figure('gray_upgrade_p99', Math.round(quantile(grayUpgrade, 0.99)), 'ms');
} catch (error) {
  console.error(`bench/deploy: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await core?.close();
  await testbed.stop();
}
