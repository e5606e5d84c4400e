import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useTestbed } from './nodeTest.ts';

const testbed = useTestbed();

test('etcd stores, reads and watches keys through the etcd3 client', async () => {
  const etcd = await testbed.etcd();
  const client = etcd.client();
  try {
    const watcher = await client.watch().key('/leengine/test/watched').create();
    const seen = new Promise<string>((resolve) => watcher.on('put', (kv) => resolve(kv.value.toString())));

    await client.put('/leengine/test/a').value('1');
    await client.put('/leengine/test/watched').value('changed');

    assert.equal(await client.get('/leengine/test/a').string(), '1');
    assert.equal(await seen, 'changed');
    const all = await client.getAll().prefix('/leengine/test/').keys();
    assert.deepEqual(all.sort(), ['/leengine/test/a', '/leengine/test/watched']);
    await watcher.cancel();
  } finally {
    client.close();
  }
});

test('etcd keeps its data in the component dir and reports a real version', async () => {
  const etcd = await testbed.etcd();
  const response = await fetch(`${etcd.url}/version`);
  const version = (await response.json()) as { etcdserver: string };
  assert.match(version.etcdserver, /^3\.\d+\.\d+/);
  assert.ok(etcd.dir.length > 0);
});
