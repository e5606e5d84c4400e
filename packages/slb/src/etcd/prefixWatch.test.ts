import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { useTestbed } from '@leengine/testbed';
import type { Etcd3 } from 'etcd3';
import { pino } from 'pino';
import { type KeyChange, type KeyState, PrefixWatch } from './prefixWatch.ts';

const testbed = useTestbed();
const log = pino({ level: 'silent' });
const clients: Etcd3[] = [];
after(() => {
  for (const c of clients) c.close();
});

async function until(probe: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

test('lists, then delivers changes in order with their revision', async () => {
  const client = (await testbed.etcd()).client();
  clients.push(client);
  await client.put('/p/a').value('1');
  const resets: KeyState[][] = [];
  const changes: KeyChange[] = [];
  const watch = PrefixWatch.start({
    client,
    prefix: '/p/',
    log,
    onReset: (keys) => resets.push(keys),
    onChanges: (c) => changes.push(...c),
  });
  await until(() => resets.length === 1, 'the list');
  assert.deepEqual(
    resets[0]?.map((k) => [k.key, k.value]),
    [['/p/a', '1']],
  );
  await sleep(100);
  await client.put('/p/b').value('2');
  await client.delete().key('/p/a');
  await client.put('/q/other').value('x');
  await until(() => changes.length === 2, 'two changes');
  assert.deepEqual(
    changes.map((c) => (c.type === 'put' ? `put ${c.kv.key}=${c.kv.value}` : `delete ${c.key}`)),
    ['put /p/b=2', 'delete /p/a'],
  );
  const lastChange = changes[1];
  assert.equal(lastChange?.type, 'delete');
  assert.equal(watch.revision, lastChange?.type === 'delete' ? lastChange.modRevision : -1);
  await watch.stop();
});

test('resuming from a compacted revision lists the prefix again', async () => {
  const client = (await testbed.etcd()).client();
  clients.push(client);
  const first = Number((await client.put('/p/a').value('1').exec()).header.revision);
  await client.put('/p/a').value('2');
  const last = Number((await client.put('/p/b').value('3').exec()).header.revision);
  await client.kv.compact({ revision: last, physical: true });
  const resets: KeyState[][] = [];
  const watch = PrefixWatch.start({
    client,
    prefix: '/p/',
    log,
    fromRevision: first,
    onReset: (keys) => resets.push(keys),
    onChanges: () => {},
  });
  await until(() => resets.length === 1, 'a list after the compaction');
  assert.deepEqual(
    resets[0]?.map((k) => [k.key, k.value]),
    [
      ['/p/a', '2'],
      ['/p/b', '3'],
    ],
  );
  assert.ok(watch.revision >= last);
  await watch.stop();
});

test('resuming from a revision etcd has not reached (its data replaced) lists the prefix', async () => {
  const client = (await testbed.etcd()).client();
  clients.push(client);
  const head = Number((await client.put('/q/a').value('1').exec()).header.revision);
  const resets: KeyState[][] = [];
  const watch = PrefixWatch.start({
    client,
    prefix: '/q/',
    log,
    fromRevision: head + 1000,
    onReset: (keys) => resets.push(keys),
    onChanges: () => {},
  });
  await until(() => resets.length === 1, 'a list instead of a watch of the future');
  assert.deepEqual(
    resets[0]?.map((k) => [k.key, k.value]),
    [['/q/a', '1']],
  );
  await watch.stop();
});
