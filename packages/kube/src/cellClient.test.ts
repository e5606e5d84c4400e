import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { useTestbed } from '@leengine/testbed';
import { CellClient } from './cellClient.ts';
import {
  deploymentManifest,
  namespaceManifest,
  secretManifest,
  serviceManifest,
  type VersionSpec,
} from './manifests.ts';

const testbed = useTestbed();

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await sleep(200);
  }
}

test('an application version applied to a real cell runs, reports status and containers, and is removed', async () => {
  const [etcd, registry] = await Promise.all([testbed.etcd(), testbed.registry()]);
  const cell = await testbed.cell({ name: 'kube', etcd, registry });
  const client = CellClient.fromKubeconfig(cell.name, readFileSync(cell.kubeconfig, 'utf8'));
  const spec: VersionSpec = {
    application: 'shop',
    version: 'v1',
    image: cell.images?.httpbox ?? '',
    replicas: 2,
    port: 8080,
    cpu: { requestMillis: 10, limitMillis: 200 },
    memory: { requestMiB: 16, limitMiB: 64 },
    env: [
      { name: 'MODE', value: 'test' },
      { name: 'TOKEN', value: 'hidden', secret: true },
    ],
    healthCheck: {
      path: '/healthz',
      port: 8080,
      initialDelaySeconds: 0,
      periodSeconds: 1,
      timeoutSeconds: 1,
      failureThreshold: 3,
      liveness: true,
    },
    terminationGracePeriodSeconds: 1,
  };
  await client.apply(namespaceManifest('shop'));
  await client.apply(serviceManifest('shop', 8080));
  await client.apply(secretManifest(spec) ?? assert.fail('a secret'));
  const first = await client.apply(deploymentManifest(spec));
  const again = await client.apply(deploymentManifest(spec));
  // The Deployment controller writes status meanwhile; the spec's generation must not move.
  assert.equal(again.metadata?.generation, first.metadata?.generation, 'applying twice changes no spec');

  const status = await until('2 ready', async () => {
    const s = await client.versionStatus('shop', 'v1');
    return s.ready === 2 ? s : undefined;
  });
  assert.deepEqual(status, { exists: true, desired: 2, ready: 2, updated: 2, observed: true });

  const containers = await client.containers('shop');
  assert.equal(containers.length, 2);
  for (const c of containers) {
    assert.equal(c.cell, 'kube');
    assert.equal(c.version, 'v1');
    assert.equal(c.node, 'kube-node');
    assert.equal(c.ready, true);
    assert.equal(c.phase, 'Running');
    assert.match(c.startedAt ?? '', /^\d{4}-/);
    assert.equal((await (await fetch(`http://${c.ip}:8080/`)).text()).trim(), c.name);
  }
  const events = await client.events('shop');
  assert.ok(
    events.some((e) => e.reason === 'Scheduled' || e.reason === 'ScalingReplicaSet'),
    'events are read',
  );
  assert.equal(typeof (await client.logs('shop', containers[0]?.name ?? '')), 'string');

  // An apiserver that holds the connection and never answers (here: frozen with SIGSTOP)
  // fails each call after the client's deadline, instead of holding its caller forever.
  const apiserver = cell.processes.find((p) => p.component.endsWith('/kube-apiserver'));
  assert.ok(apiserver, 'the cell runs a kube-apiserver');
  const impatient = CellClient.fromKubeconfig(cell.name, readFileSync(cell.kubeconfig, 'utf8'), {
    requestTimeoutMs: 1000,
  });
  process.kill(apiserver.pid, 'SIGSTOP');
  try {
    for (const call of [
      () => impatient.containers('shop'),
      () => impatient.apply(namespaceManifest('shop')),
      () => impatient.followLogs('shop', containers[0]?.name ?? ''),
    ]) {
      const started = Date.now();
      await assert.rejects(call(), /timeout|no answer/i);
      const waited = Date.now() - started;
      assert.ok(
        waited >= 900 && waited < 10_000,
        `failed after the deadline, not before or much later: ${waited} ms`,
      );
    }
  } finally {
    process.kill(apiserver.pid, 'SIGCONT');
  }
  assert.equal(
    (await impatient.containers('shop')).length,
    2,
    'the same client works once the apiserver answers',
  );

  assert.equal(await client.remove(deploymentManifest(spec)), true);
  assert.equal(await client.remove(deploymentManifest(spec)), false, 'removing twice is fine');
  await until('no containers', async () =>
    (await client.containers('shop')).length === 0 ? true : undefined,
  );
  assert.equal((await client.versionStatus('shop', 'v1')).exists, false);
});
