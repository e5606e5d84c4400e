import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Discovery } from '@leengine/discovery';
import { DomainConfigSchema, SlbAgent, SlbStore } from '@leengine/slb';
import { httpGet, startSlbNginx, steadyLoad } from '@leengine/slb/testing';
import { useTestbed } from '@leengine/testbed';
import pino from 'pino';
import type { Json } from '../testing/apiClient.ts';
import { finished, httpboxVersion, startCellRegion, until } from '../testing/cellRegion.ts';

const testbed = useTestbed();
const log = pino({ level: 'silent' });

test('through the SLB: a gray upgrade and a scale-down wait for the load balancer and drop no request', async () => {
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

    const stop = new AbortController();
    const load = steadyLoad({
      port: nginx.httpPort,
      host: 'shop.test',
      rate: 40,
      total: 1_000_000,
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
    await until(
      'a few more requests',
      async () => (await httpGet(nginx.httpPort, 'shop.test')).status === 200,
    );
    stop.abort();
    const result = await load;
    assert.ok(result.sent > 100, `sent ${result.sent}`);
    assert.equal(result.failed, 0, `failures: ${JSON.stringify(result.failures)}`);
    const served = Object.keys(result.bodies);
    assert.ok(
      served.some((b) => b.startsWith('v1-')) && served.some((b) => b.startsWith('v2-')),
      served.join(' '),
    );
    const containers = (await alice.get('/api/v1/applications/shop/containers')).body.items as Json[];
    assert.equal(containers.length, 2);
  } finally {
    await discovery.stop();
    await agent.stop();
    await core.close();
    client.close();
  }
});
