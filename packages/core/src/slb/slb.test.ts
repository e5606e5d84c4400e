import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SlbStore } from '@leengine/slb';
import { useTestbed } from '@leengine/testbed';
import type { Etcd3 } from 'etcd3';
import pino from 'pino';
import type { ApiClient } from '../testing/apiClient.ts';
import { startTestCore, type TestCore } from '../testing/testCore.ts';
import type { WithSlb } from './slbRoutes.ts';
import { SlbService } from './slbService.ts';

const testbed = useTestbed();
let t: TestCore;
let client: Etcd3;
let store: SlbStore;
let owner: ApiClient;
let developer: ApiClient;
let stranger: ApiClient;

before(async () => {
  const etcd = await testbed.etcd();
  client = etcd.client();
  store = SlbStore.create({ client });
  t = await startTestCore();
  // What core does when it has an etcd (ETCD_ENDPOINTS): slb-core among its services.
  (t.core.services as WithSlb).slb = SlbService.create({
    db: t.core.db,
    activity: t.core.services.activity,
    store,
    logger: pino({ level: 'silent' }),
  });
  owner = await t.user('olivia');
  developer = await t.user('dave');
  stranger = await t.user('sam');
  assert.equal((await owner.request('POST', '/api/v1/applications', { name: 'shop' })).status, 201);
  const added = await owner.request('POST', '/api/v1/applications/shop/members', {
    username: 'dave',
    role: 'developer',
  });
  assert.ok(added.status < 300, JSON.stringify(added.body));
});

after(async () => {
  await t?.close();
  client?.close();
});

test('SLB groups: admins manage them, everyone lists them', async () => {
  const group = {
    description: 'internet-facing',
    hosts: ['slb-1.example.com'],
    vip: '203.0.113.10',
    cname: 'public.slb.example.com',
  };
  assert.equal((await owner.request('PUT', '/api/v1/slb/groups/public', group)).status, 403);
  const put = await t.admin.request('PUT', '/api/v1/slb/groups/public', group);
  assert.equal(put.status, 200, JSON.stringify(put.body));
  const listed = await stranger.request('GET', '/api/v1/slb/groups');
  assert.equal(listed.status, 200);
  assert.deepEqual(listed.body, [{ name: 'public', ...group }]);
  const bad = await t.admin.request('PUT', '/api/v1/slb/groups/Bad_Name', group);
  assert.equal(bad.status, 400, 'a group name must be a DNS label');
});

test("domains: the application's Masters and Owners bind them; others are refused or see nothing", async () => {
  const body = { domain: 'shop.example.com', group: 'public', locations: [{ path: '/' }] };
  assert.equal((await developer.request('POST', '/api/v1/applications/shop/domains', body)).status, 403);
  assert.equal((await stranger.request('POST', '/api/v1/applications/shop/domains', body)).status, 404);
  const created = await owner.request('POST', '/api/v1/applications/shop/domains', body);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal((await store.getDomain('public', 'shop.example.com'))?.value.application, 'shop', 'in etcd');
  assert.equal(
    (await owner.request('POST', '/api/v1/applications/shop/domains', body)).status,
    409,
    'one binding per name',
  );

  const listed = await developer.request('GET', '/api/v1/applications/shop/domains');
  assert.equal(listed.status, 200);
  assert.deepEqual(
    listed.body.map((d: { domain: string }) => d.domain),
    ['shop.example.com'],
  );
  const nginx = await developer.request('GET', '/api/v1/applications/shop/domains/shop.example.com/nginx');
  assert.equal(nginx.status, 200);
  assert.match(String(nginx.body), /server_name "shop\.example\.com";/);

  const activity = await owner.request('GET', '/api/v1/applications/shop/activity');
  assert.ok(
    JSON.stringify(activity.body).includes('bind-domain'),
    `the binding is in the application's activity: ${JSON.stringify(activity.body)}`,
  );
});

test('user input is validated strictly: injection attempts are refused with the field named', async () => {
  const attempts = [
    { domain: 'evil.example.com; }', group: 'public' },
    { domain: 'evil.example.com', group: 'public', locations: [{ path: '/a { return 200; }' }] },
    {
      domain: 'evil.example.com',
      group: 'public',
      headers: { response: [{ name: 'X-A', value: 'a"; add_header X-B "b' }] },
    },
    { domain: 'evil.example.com', group: 'public', snippet: 'return 200;' },
  ];
  for (const body of attempts) {
    const reply = await owner.request('POST', '/api/v1/applications/shop/domains', body);
    assert.ok(reply.status === 400 || reply.status === 422, `${JSON.stringify(body)} -> ${reply.status}`);
  }
  assert.equal(await store.groupOf('evil.example.com'), undefined);
});

test('special settings are for admins only; an admin sets them, the owner keeps them when editing', async () => {
  const special = { proxyBufferSizeKb: 16 };
  const denied = await owner.request('PUT', '/api/v1/applications/shop/domains/shop.example.com', {
    special,
  });
  assert.equal(denied.status, 403);
  const byAdmin = await t.admin.request('PUT', '/api/v1/applications/shop/domains/shop.example.com', {
    special,
  });
  assert.equal(byAdmin.status, 200, JSON.stringify(byAdmin.body));
  const edit = await owner.request('PUT', '/api/v1/applications/shop/domains/shop.example.com', {
    proxy: { readTimeoutSeconds: 30 },
  });
  assert.equal(edit.status, 200, JSON.stringify(edit.body));
  const stored = await store.getDomain('public', 'shop.example.com');
  assert.deepEqual(stored?.value.special, special);
  assert.equal(stored?.value.proxy.readTimeoutSeconds, 30);
});

test("a domain's view reports each agent's error for it (what nginx -t refused)", async () => {
  await client.put('/slb/public/agents/slb-1').value(
    JSON.stringify({
      host: 'slb-1',
      group: 'public',
      revision: 1_000_000,
      generation: 'g9',
      appliedAt: new Date().toISOString(),
      error: null,
      domainErrors: { 'shop.example.com': '[emerg] "proxy_busy_buffers_size" must be less than ...' },
      reloads: 3,
    }),
  );
  const view = await owner.request('GET', '/api/v1/applications/shop/domains/shop.example.com');
  assert.equal(view.status, 200, JSON.stringify(view.body));
  assert.deepEqual(view.body.agents, [
    { host: 'slb-1', applied: false, error: '[emerg] "proxy_busy_buffers_size" must be less than ...' },
  ]);
  assert.equal((await owner.request('GET', '/api/v1/slb/groups/public/agents')).status, 403);
  assert.equal((await t.admin.request('GET', '/api/v1/slb/groups/public/agents')).body[0].reloads, 3);
});

test('unbinding removes the domain from etcd; a group with domains cannot be deleted before', async () => {
  assert.equal((await t.admin.request('DELETE', '/api/v1/slb/groups/public')).status, 409);
  assert.equal(
    (await developer.request('DELETE', '/api/v1/applications/shop/domains/shop.example.com')).status,
    403,
  );
  assert.equal(
    (await owner.request('DELETE', '/api/v1/applications/shop/domains/shop.example.com')).status,
    204,
  );
  assert.equal(await store.getDomain('public', 'shop.example.com'), undefined);
  assert.equal((await t.admin.request('DELETE', '/api/v1/slb/groups/public')).status, 204);
});
