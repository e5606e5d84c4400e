import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { reservePodSubnet } from './podNetwork.ts';

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
