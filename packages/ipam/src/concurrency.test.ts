import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { type EtcdHandle, useTestbed } from '@leengine/testbed';
import type { Etcd3 } from 'etcd3';
import { Ipam } from './ipam.ts';
import { parseCidr, parseIp } from './ipv4.ts';

const testbed = useTestbed();
const WORKER = resolve(import.meta.dirname, 'testing/allocWorker.ts');
const NODES = Array.from({ length: 100 }, (_, i) => `node-${String(i).padStart(3, '0')}`);
const PROCESSES = 4;
const SEGMENTS = ['10.244.128.0/22', '10.244.132.0/22', '10.244.136.0/22', '10.244.140.0/22'];

let etcd: EtcdHandle;
let client: Etcd3;
before(async () => {
  etcd = await testbed.etcd();
  client = etcd.client();
  const ipam = Ipam.create({ client, cell: 'load' });
  for (const cidr of SEGMENTS) await ipam.addSegment({ cidr });
});
after(() => client?.close());

interface Outcome {
  node: string;
  containerId: string;
  ip?: string;
  error?: string;
  message?: string;
}

/** Runs `perNode` ADDs on every node at once, the nodes spread over a few processes. */
async function storm(phase: string, perNode: number): Promise<Outcome[]> {
  const runs = Array.from({ length: PROCESSES }, (_, p) => {
    const mine = NODES.filter((_, i) => i % PROCESSES === p);
    return new Promise<Outcome[]>((done, fail) => {
      const child = spawn(
        process.execPath,
        [WORKER, etcd.url, 'load', phase, String(perNode), '2', ...mine],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
      });
      child.on('error', fail);
      child.on('close', (code) => {
        if (code !== 0) fail(new Error(`worker ${p} exited ${code}`));
        else
          done(
            out
              .trim()
              .split('\n')
              .filter((l) => l.startsWith('{'))
              .map((l) => JSON.parse(l) as Outcome),
          );
      });
    });
  });
  return (await Promise.all(runs)).flat();
}

const segmentOf = (ip: string) =>
  SEGMENTS.find((s) => {
    const c = parseCidr(s);
    const n = parseIp(ip);
    return n >= c.base && n < c.base + 1024;
  });

test('2,000 concurrent ADDs from 100 nodes: unique addresses, two blocks of 16 per node, segments filled in order', async () => {
  const outcomes = await storm('a', 20);
  assert.equal(outcomes.length, 2000);
  const failed = outcomes.filter((o) => o.error);
  assert.deepEqual(failed.slice(0, 3), [], `${failed.length} ADDs failed`);
  const ips = outcomes.map((o) => o.ip as string);
  assert.equal(new Set(ips).size, 2000, 'no address handed out twice');

  const ipam = Ipam.create({ client, cell: 'load' });
  const stored = await ipam.listAllocations();
  assert.equal(stored.items.length, 2000);
  assert.deepEqual(
    new Set(stored.items.map((a) => a.value.ip)),
    new Set(ips),
    'etcd holds exactly what was handed out',
  );

  const blocks = await ipam.listBlocks();
  const blockOf = new Map(blocks.map((b) => [b.cidr, b]));
  for (const node of NODES) {
    const mine = blocks.filter((b) => b.node === node);
    assert.equal(mine.length, 2, `${node} has ${mine.length} blocks: 20 addresses fit in two blocks of 16`);
    assert.ok(mine.every((b) => b.cidr.endsWith('/28')));
  }
  for (const a of stored.items) {
    assert.equal(
      blockOf.get(a.value.block)?.node,
      a.value.node,
      `${a.value.ip} comes from its own node's block`,
    );
  }
  // 200 blocks: the first three segments (64 blocks each) are full before the fourth is used
  const perSegment = SEGMENTS.map((s) => blocks.filter((b) => b.segment === s).length);
  assert.deepEqual(perSegment, [64, 64, 64, 8]);
  assert.ok(ips.every((ip) => segmentOf(ip)));
});

test('when every segment is full the extra ADDs fail with "segment exhausted" and still no address is shared', async () => {
  const ipam = Ipam.create({ client, cell: 'load' });
  const before = await ipam.usage();
  const free = before.segments.reduce((n, s) => n + s.usable - s.allocated, 0);
  assert.equal(free, 4 * 1021 - 2000, 'each /22 has 1021 usable addresses (no network, broadcast, gateway)');
  const outcomes = await storm('b', 22); // 2,200 for the 2,084 left
  const ok = outcomes.filter((o) => o.ip);
  const failed = outcomes.filter((o) => o.error);
  assert.equal(ok.length, free, 'every free address was handed out, borrowing from other nodes at the end');
  assert.equal(failed.length, 2200 - free);
  assert.ok(
    failed.every((f) => f.error === 'ExhaustedError' && /segment exhausted/.test(f.message ?? '')),
    `unexpected failures: ${JSON.stringify(failed.filter((f) => f.error !== 'ExhaustedError').slice(0, 3))}`,
  );
  const all = await ipam.listAllocations();
  assert.equal(all.items.length, 4 * 1021);
  assert.equal(new Set(all.items.map((a) => a.value.ip)).size, 4 * 1021);
});
