import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import { Discovery } from '@leengine/discovery';
import { DomainConfigSchema, SlbAgent, SlbStore } from '@leengine/slb';
import { httpGet, startSlbNginx, steadyLoad } from '@leengine/slb/testing';
import { useTestbed } from '@leengine/testbed';
import pino from 'pino';
import type { Json } from '../testing/apiClient.ts';
import { finished, httpboxVersion, startCellRegion, until } from '../testing/cellRegion.ts';

const testbed = useTestbed();
const log = pino({ level: 'silent' });

test('through the SLB: no failed request out of 20,000 during a gray upgrade and a scale-down; a terminating pod leaves at once; a refused admin setting is reported', async () => {
  const region = await startCellRegion(testbed, ['lb-a', 'lb-b'], { withEtcd: true });
  const { core, etcd } = region;
  const client = etcd.client();
  const store = SlbStore.create({ client });
  await store.putGroup({ name: 'public', description: '', hosts: ['slb-1'] });
  await store.createDomain(
    DomainConfigSchema.parse({ domain: 'shop.test', group: 'public', application: 'shop' }),
  );
  const nginx = await startSlbNginx(testbed, { group: 'public', workerProcesses: 1 });
  const agent = await SlbAgent.start({ settings: nginx.settings, client, log });
  const discovery = Discovery.start({
    client,
    cells: region.cells.map((c) => ({ name: c.name, kubeConfig: c.kubeConfig() })),
    log,
  });
  try {
    const alice = await core.user('alice');
    assert.equal((await alice.post('/api/v1/applications', { name: 'shop' })).status, 201);
    const v1 = await alice.post('/api/v1/applications/shop/versions', httpboxVersion(region));
    const op1 = await finished(alice, 'shop', v1.body.id);
    assert.equal(op1.state, 'succeeded', JSON.stringify(op1));
    assert.match(op1.steps[2].message, /4 instances of v1 routable/);
    // Routable means every agent serves it: nginx answers at once.
    const first = await httpGet(nginx.httpPort, 'shop.test');
    assert.equal(first.status, 200, first.body);
    assert.match(first.body, /^v1-/);

    // At least 20,000 requests at a steady 500/s on keep-alive connections, spanning the
    // whole gray upgrade and the scale-down (the stream runs on until both are done).
    const stop = new AbortController();
    const load = steadyLoad({
      port: nginx.httpPort,
      host: 'shop.test',
      rate: 500,
      total: 200_000,
      minimum: 20_000,
      maxInFlight: 32,
      signal: stop.signal,
    });
    const v2 = await alice.post('/api/v1/applications/shop/versions', httpboxVersion(region, { env: [] }));
    const op2 = await finished(alice, 'shop', v2.body.id);
    assert.equal(op2.state, 'succeeded', JSON.stringify(op2));
    assert.match(op2.steps[3].message, /v1 out of the load balancer \(confirmed\)/);
    const down = await alice.post('/api/v1/applications/shop/versions/v2/scale', { instances: 2 });
    const op3 = await finished(alice, 'shop', down.body.id);
    assert.equal(op3.state, 'succeeded', JSON.stringify(op3));
    assert.match(op3.steps[1].message, /2 instances out of the load balancer \(confirmed\)/);
    stop.abort();
    const result = await load;
    assert.ok(result.sent >= 20_000, `sent ${result.sent}`);
    assert.equal(result.failed, 0, `failures: ${JSON.stringify(result.failures)}`);
    assert.equal(result.ok, result.sent);
    const served = Object.keys(result.bodies);
    assert.ok(
      served.every((b) => /^v[12]-/.test(b)),
      `every answer from a v1 or v2 pod: ${served.join(' ')}`,
    );
    assert.ok(
      served.some((b) => b.startsWith('v1-')) && served.some((b) => b.startsWith('v2-')),
      served.join(' '),
    );
    const containers = (await alice.get('/api/v1/applications/shop/containers')).body.items as Json[];
    assert.equal(containers.length, 2);

    // A pod deleted without draining first: discovery drops its address as soon as the
    // pod is terminating, long before it is gone (httpd as PID 1 ignores SIGTERM, so the
    // pod lives out its 60 s grace period).
    const [doomed] = containers;
    assert.ok(doomed);
    const cell = region.cells.find((c) => c.name === doomed.cell);
    assert.ok(cell);
    const pods = cell.kubeConfig().makeApiClient(CoreV1Api);
    await pods.deleteNamespacedPod({ name: doomed.name, namespace: 'shop', gracePeriodSeconds: 60 });
    await until('the terminating pod out of the upstreams', async () => {
      const upstreams = (await store.getUpstreams('public', 'shop.test'))?.value ?? [];
      return upstreams.length > 0 && upstreams.every((u) => u.ip !== doomed.ip);
    });
    const terminating = await pods.readNamespacedPod({ name: doomed.name, namespace: 'shop' });
    assert.ok(terminating.metadata?.deletionTimestamp, 'the pod is still there, terminating');

    // An admin's special settings that nginx -t refuses (proxy_busy_buffers_size larger
    // than the buffers allow): the agent keeps the last good config serving and the
    // domain's view shows its error.
    const reloads = agent.reloads;
    const broken = await core.admin.put('/api/v1/applications/shop/domains/shop.test', {
      special: { proxyBuffers: { count: 2, sizeKb: 4 }, proxyBusyBuffersSizeKb: 64 },
    });
    assert.equal(broken.status, 200, JSON.stringify(broken.body));
    const view = await until('the agent error in the domain view', async () => {
      const got = await alice.get('/api/v1/applications/shop/domains/shop.test');
      assert.equal(got.status, 200, JSON.stringify(got.body));
      return got.body.agents[0]?.error ? got.body : undefined;
    });
    assert.equal(view.agents.length, 1);
    assert.equal(view.agents[0].host, 'slb-1');
    assert.equal(view.agents[0].applied, false);
    assert.match(view.agents[0].error, /proxy_busy_buffers_size/);
    assert.equal(agent.reloads, reloads, 'the refused config was never loaded');
    const still = await httpGet(nginx.httpPort, 'shop.test');
    assert.equal(still.status, 200, still.body);
    assert.match(still.body, /^v2-/);
  } finally {
    await discovery.stop();
    await agent.stop();
    await core.close();
    client.close();
  }
});
