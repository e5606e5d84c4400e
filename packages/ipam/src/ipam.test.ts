import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ConflictError, InputError, NotFoundError } from '@leengine/common';
import { useTestbed } from '@leengine/testbed';
import type { Etcd3 } from 'etcd3';
import { ExhaustedError } from './errors.ts';
import { Ipam } from './ipam.ts';

const testbed = useTestbed();
let client: Etcd3;
let cells = 0;

before(async () => {
  client = (await testbed.etcd()).client();
});
after(() => client.close());

/** A fresh cell per test, so tests share one etcd without seeing each other's keys. */
function newIpam(): Ipam {
  return Ipam.create({ client, cell: `t${++cells}` });
}

const pod = (n: number, node = 'node-a', namespace = 'default') => ({
  attachment: { containerId: `c${n}`, ifname: 'eth0' },
  pod: { namespace, name: `pod-${n}`, uid: `uid-${n}` },
  node,
});

test('a segment is validated, defaults its gateway, and overlapping segments are refused', async () => {
  const ipam = newIpam();
  const segment = await ipam.addSegment({
    cidr: '10.244.0.0/22',
    vlan: 100,
    exclude: ['10.244.0.2-10.244.0.9'],
  });
  assert.equal(segment.gateway, '10.244.0.1');
  assert.equal(segment.state, 'active');
  await assert.rejects(ipam.addSegment({ cidr: '10.244.2.0/24' }), ConflictError);
  await assert.rejects(ipam.addSegment({ cidr: '10.244.4.1/22' }), InputError);
  await assert.rejects(ipam.addSegment({ cidr: '10.244.4.0/22', gateway: '10.244.8.1' }), InputError);
  await assert.rejects(ipam.addSegment({ cidr: '10.244.4.0/22', exclude: ['10.9.0.0'] }), InputError);
  await assert.rejects(ipam.addSegment({ cidr: '10.244.4.0/29' }), InputError);
  await ipam.addSegment({ cidr: '10.244.4.0/22' });
  assert.deepEqual(
    (await ipam.listSegments()).map((s) => s.cidr),
    ['10.244.0.0/22', '10.244.4.0/22'],
  );
});

test('a node claims a 16-address block and hands out its free addresses in order, skipping reserved ones', async () => {
  const ipam = newIpam();
  await ipam.addSegment({ cidr: '10.244.0.0/28', exclude: ['10.244.0.2-10.244.0.4'] });
  const first = await ipam.allocate(pod(1));
  const second = await ipam.allocate(pod(2));
  // .0 network, .1 gateway, .2-.4 excluded
  assert.equal(first.allocation.value.ip, '10.244.0.5');
  assert.equal(second.allocation.value.ip, '10.244.0.6');
  assert.equal(first.allocation.value.block, '10.244.0.0/28');
  assert.equal(first.segment.cidr, '10.244.0.0/28');
  assert.deepEqual(
    (await ipam.listBlocks()).map((b) => [b.cidr, b.node]),
    [['10.244.0.0/28', 'node-a']],
  );
});

test('a retried ADD for the same attachment gets the same address; DEL frees it and is idempotent', async () => {
  const ipam = newIpam();
  await ipam.addSegment({ cidr: '10.244.0.0/24' });
  const first = await ipam.allocate(pod(1));
  const again = await ipam.allocate(pod(1));
  assert.equal(again.allocation.value.ip, first.allocation.value.ip);
  assert.equal(again.reused, true);
  const released = await ipam.releaseAttachment({ containerId: 'c1', ifname: 'eth0' });
  assert.equal(released?.ip, first.allocation.value.ip);
  assert.equal(await ipam.releaseAttachment({ containerId: 'c1', ifname: 'eth0' }), undefined);
  assert.equal(await ipam.getAllocation(first.allocation.value.ip), undefined);
  // another interface of the same container is another attachment
  const eth1 = await ipam.allocate({ ...pod(1), attachment: { containerId: 'c1', ifname: 'eth1' } });
  assert.equal(eth1.reused, false);
});

test('a node whose blocks are full claims another block; other nodes get their own blocks', async () => {
  const ipam = newIpam();
  await ipam.addSegment({ cidr: '10.244.0.0/24' });
  const a = [];
  for (let i = 0; i < 20; i++) a.push(await ipam.allocate(pod(i, 'node-a')));
  const b = await ipam.allocate(pod(100, 'node-b'));
  const blocks = await ipam.listBlocks();
  const ofA = blocks.filter((x) => x.node === 'node-a');
  assert.equal(ofA.length, 2, 'the first block has 15 usable addresses (gateway .1), so 20 need two');
  assert.ok(a.every((x) => ofA.some((blk) => blk.cidr === x.allocation.value.block)));
  assert.equal(blocks.find((x) => x.cidr === b.allocation.value.block)?.node, 'node-b');
  assert.equal(new Set(a.map((x) => x.allocation.value.ip)).size, 20);
  const usage = await ipam.usage();
  assert.deepEqual(
    usage.nodes.map((n) => [n.node, n.blocks, n.allocated]),
    [
      ['node-a', 2, 20],
      ['node-b', 1, 1],
    ],
  );
  assert.equal(usage.segments[0]?.allocated, 21);
  assert.equal(usage.segments[0]?.usable, 253);
});

test('when the first segment is full the next one is used, then borrowing, then a clear exhausted error', async () => {
  const ipam = newIpam();
  await ipam.addSegment({ cidr: '10.244.0.0/27' }); // 2 blocks: 14 + 15 usable
  await ipam.addSegment({ cidr: '10.244.1.0/28' }); // 1 block: 13 usable
  const ips: string[] = [];
  for (let i = 0; i < 29; i++) ips.push((await ipam.allocate(pod(i, 'node-a'))).allocation.value.ip);
  assert.ok(
    ips.every((ip) => ip.startsWith('10.244.0.')),
    'the first segment is used up first',
  );
  const next = await ipam.allocate(pod(29, 'node-a'));
  assert.equal(next.allocation.value.block, '10.244.1.0/28');
  // node-b finds no block left: it borrows node-a's free addresses
  const borrowed = await ipam.allocate(pod(30, 'node-b'));
  assert.equal(borrowed.allocation.value.block, '10.244.1.0/28');
  assert.equal(borrowed.allocation.value.node, 'node-b');
  for (let i = 31; i < 42; i++) await ipam.allocate(pod(i, i % 2 ? 'node-a' : 'node-b'));
  await assert.rejects(ipam.allocate(pod(99, 'node-c')), (error: unknown) => {
    assert.ok(error instanceof ExhaustedError);
    assert.match(error.message, /segment exhausted: no free address left in cell .* add a segment/);
    return true;
  });
  const all = await ipam.listAllocations();
  assert.equal(all.items.length, 42);
  assert.equal(new Set(all.items.map((a) => a.value.ip)).size, 42);
});

test('a cell without segments says so', async () => {
  await assert.rejects(newIpam().allocate(pod(1)), /has no active segment/);
});

test('releasing by address refuses a re-allocated address and frees the handle with it', async () => {
  const ipam = newIpam();
  await ipam.addSegment({ cidr: '10.244.0.0/24' });
  const first = await ipam.allocate(pod(1));
  const ip = first.allocation.value.ip;
  await assert.rejects(ipam.releaseAddress(ip, { expectedRevision: '1' }), ConflictError);
  await ipam.releaseAddress(ip, { expectedRevision: first.allocation.modRevision });
  await assert.rejects(ipam.releaseAddress(ip), NotFoundError);
  // the attachment's handle went with it: a new ADD for it is a fresh allocation
  const again = await ipam.allocate(pod(1));
  assert.equal(again.reused, false);
});

test('a segment with allocations cannot be removed; an empty one can, releasing its blocks', async () => {
  const ipam = newIpam();
  await ipam.addSegment({ cidr: '10.244.0.0/24' });
  const a = await ipam.allocate(pod(1));
  await assert.rejects(ipam.removeSegment('10.244.0.0/24'), /still has 1 allocated/);
  assert.equal((await ipam.listSegments())[0]?.state, 'active');
  await ipam.releaseAttachment(a.allocation.value);
  await ipam.removeSegment('10.244.0.0/24');
  assert.deepEqual(await ipam.listSegments(), []);
  assert.deepEqual(await ipam.listBlocks(), []);
  await assert.rejects(ipam.removeSegment('10.244.0.0/24'), NotFoundError);
});

test('a fixed pool reserves an aligned range; its namespace allocates only from it, across nodes', async () => {
  const ipam = newIpam();
  await ipam.addSegment({ cidr: '10.244.0.0/24' });
  await ipam.allocate(pod(1, 'node-a')); // node-a takes some block first
  const pool = await ipam.createPool({ namespace: 'billing', size: 20 });
  assert.equal(pool.blocks.length, 2);
  assert.match(pool.cidr, /\/27$/);
  await assert.rejects(ipam.createPool({ namespace: 'billing', size: 4 }), ConflictError);
  const inPool = [];
  for (let i = 0; i < 20; i++)
    inPool.push(await ipam.allocate(pod(10 + i, i % 2 ? 'node-a' : 'node-b', 'billing')));
  assert.ok(inPool.every((x) => pool.blocks.includes(x.allocation.value.block)));
  // the pool's blocks belong to no node, and other namespaces never get its addresses
  const other = await ipam.allocate(pod(50, 'node-b', 'web'));
  assert.ok(!pool.blocks.includes(other.allocation.value.block));
  // an upgrade: new pods take the addresses the old ones free
  const total = pool.blocks.length * 16 - (pool.cidr.startsWith('10.244.0.0/') ? 2 : 0);
  for (let i = 20; i < total; i++) await ipam.allocate(pod(10 + i, 'node-a', 'billing'));
  await assert.rejects(ipam.allocate(pod(90, 'node-a', 'billing')), /fixed pool of billing .* is full/);
  const freed = inPool[0]?.allocation.value;
  assert.ok(freed);
  await ipam.releaseAttachment(freed);
  const replacement = await ipam.allocate(pod(91, 'node-b', 'billing'));
  assert.equal(replacement.allocation.value.ip, freed.ip);
  await assert.rejects(ipam.removePool('billing'), /still has .* addresses in use/);
  assert.ok((await ipam.listBlocks()).filter((b) => b.pool === 'billing').every((b) => b.state === 'active'));
});

test('a pool is removed once empty and its blocks become claimable', async () => {
  const ipam = newIpam();
  await ipam.addSegment({ cidr: '10.244.0.0/28' });
  await ipam.createPool({ namespace: 'billing', size: 3 });
  await assert.rejects(ipam.allocate(pod(1, 'node-a', 'web')), ExhaustedError);
  await assert.rejects(ipam.removeSegment('10.244.0.0/28'), /holds the fixed pool of billing/);
  const a = await ipam.allocate(pod(2, 'node-a', 'billing'));
  await ipam.releaseAttachment(a.allocation.value);
  await ipam.removePool('billing');
  assert.deepEqual(await ipam.listPools(), []);
  const b = await ipam.allocate(pod(3, 'node-a', 'web'));
  assert.equal(b.allocation.value.block, '10.244.0.0/28');
});

test('empty blocks of a node are released; a block with an allocation stays', async () => {
  const ipam = newIpam();
  await ipam.addSegment({ cidr: '10.244.0.0/24' });
  const kept = await ipam.allocate(pod(1, 'node-a'));
  const gone = await ipam.allocate(pod(2, 'node-b'));
  await ipam.releaseAttachment(gone.allocation.value);
  const released = await ipam.releaseEmptyBlocks(() => true);
  assert.deepEqual(released, [gone.allocation.value.block]);
  const blocks = await ipam.listBlocks();
  assert.deepEqual(
    blocks.map((b) => [b.cidr, b.node, b.state]),
    [[kept.allocation.value.block, 'node-a', 'active']],
  );
  // node-b's block list went with the block: its next ADD claims afresh
  const again = await ipam.allocate(pod(3, 'node-b'));
  assert.equal(
    (await ipam.listBlocks()).find((b) => b.cidr === again.allocation.value.block)?.node,
    'node-b',
  );
});

test('concurrent ADDs on one node from separate processes claim one block between them, not one each', async () => {
  const ipam = newIpam();
  await ipam.addSegment({ cidr: '10.244.0.0/22' });
  // one allocator per ADD, as with one plugin process per ADD: nothing is shared but etcd
  const separate = () => Ipam.create({ client, cell: ipam.cell });
  const results = await Promise.all(
    Array.from({ length: 12 }, (_, i) => separate().allocate(pod(i, 'node-a'))),
  );
  assert.equal(new Set(results.map((r) => r.allocation.value.ip)).size, 12);
  assert.equal((await ipam.listBlocks()).length, 1);
});
