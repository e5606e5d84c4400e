import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { reservePodSubnet, subnetPickOrder } from './podNetwork.ts';

test('a wanted pod subnet is reserved exactly, refused while another cell holds it, and free again once released', () => {
  const any = reservePodSubnet();
  try {
    const again = () => reservePodSubnet(any.index);
    assert.throws(
      again,
      new RegExp(`pod subnet 10\\.88\\.${any.index}\\.0/24 is held by another running cell`),
    );
  } finally {
    any.release();
  }
  const wanted = reservePodSubnet(any.index);
  try {
    assert.deepEqual(
      [wanted.cidr, wanted.gateway, wanted.bridge],
      [`10.88.${any.index}.0/24`, `10.88.${any.index}.1`, `lecell${any.index}`],
    );
    assert.ok(existsSync(`/run/leengine/cell-subnets/${any.index}`));
  } finally {
    wanted.release();
  }
  assert.throws(() => reservePodSubnet(0), /must be 1\.\.250/);
  assert.throws(() => reservePodSubnet(251), /must be 1\.\.250/);
});

test('cells that take any free subnet try the ones released in the last 10 minutes last (their cell may want them back)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'subnets-'));
  try {
    const now = Date.now();
    writeFileSync(join(dir, '5.released'), String(now - 60_000));
    writeFileSync(join(dir, '9.released'), String(now - 1000));
    writeFileSync(join(dir, '7.released'), String(now - 11 * 60_000));
    writeFileSync(join(dir, '12'), '');
    for (let round = 0; round < 20; round++) {
      const order = subnetPickOrder(dir, now);
      assert.deepEqual(
        [...order].sort((a, b) => a - b),
        Array.from({ length: 250 }, (_, i) => i + 1),
      );
      assert.deepEqual(new Set(order.slice(-2)), new Set([5, 9]), 'the recently released ones come last');
    }
    const firsts = new Set(Array.from({ length: 20 }, () => subnetPickOrder(dir, now)[0]));
    assert.ok(firsts.size > 1, 'the rest is in random order');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
