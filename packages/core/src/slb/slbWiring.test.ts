import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { useTestbed } from '@leengine/testbed';
import { loadConfig } from '../config.ts';
import { Core } from '../core.ts';

const testbed = useTestbed();
let core: Core | undefined;
after(() => core?.close());

test('a core with etcd serves slb-core (groups, domains) instead of answering 503', async () => {
  const etcd = await testbed.etcd();
  core = await Core.create(
    loadConfig({
      LEENGINE_DATA_DIR: 'memory://',
      LEENGINE_PORT: '0',
      LOG_LEVEL: 'silent',
      ETCD_ENDPOINTS: etcd.url,
    }),
  );
  const base = await core.listen();
  const admin = await core.ensureFirstAdmin();
  assert.ok(admin);
  const session = await fetch(`${base}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-leengine-client': 'test' },
    body: JSON.stringify({ username: admin.username, password: admin.password }),
  });
  assert.equal(session.status, 200);
  const cookie = (session.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const groups = await fetch(`${base}/api/v1/slb/groups`, { headers: { cookie } });
  assert.equal(groups.status, 200, await groups.clone().text());
  const body = (await groups.json()) as unknown;
  assert.ok(Array.isArray(body), JSON.stringify(body));
});
