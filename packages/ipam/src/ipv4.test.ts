import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cidrOf, formatCidr, formatIp, overlaps, parseCidr, parseIp, parseRange, subnets } from './ipv4.ts';

test('IPv4 addresses round-trip and bad ones are refused', () => {
  assert.equal(formatIp(parseIp('10.244.3.255')), '10.244.3.255');
  assert.equal(parseIp('255.255.255.255'), 2 ** 32 - 1);
  for (const bad of ['10.244.3', '10.244.3.256', '01.2.3.4', '1.2.3.4.5', '', 'a.b.c.d', '1.2.3.-1']) {
    assert.throws(() => parseIp(bad), /not an IPv4 address/, bad);
  }
});

test('CIDRs must have no host bits and a prefix of 0..32', () => {
  assert.deepEqual(parseCidr('10.244.0.0/22'), { base: parseIp('10.244.0.0'), prefix: 22 });
  assert.throws(() => parseCidr('10.244.1.0/22'), /did you mean 10\.244\.0\.0\/22/);
  assert.throws(() => parseCidr('10.244.0.0/33'), /out of range/);
  assert.throws(() => parseCidr('10.244.0.0'), /not an IPv4 CIDR/);
  assert.equal(formatCidr(cidrOf(parseIp('10.244.2.77'), 28)), '10.244.2.64/28');
});

test('a /22 has 64 blocks of 16 and overlap is detected both ways', () => {
  const blocks = subnets(parseCidr('10.244.0.0/22'), 28);
  assert.equal(blocks.length, 64);
  assert.equal(formatCidr(blocks[1] as never), '10.244.0.16/28');
  assert.ok(overlaps(parseCidr('10.244.0.0/22'), parseCidr('10.244.3.0/24')));
  assert.ok(overlaps(parseCidr('10.244.3.0/24'), parseCidr('10.244.0.0/22')));
  assert.ok(!overlaps(parseCidr('10.244.0.0/22'), parseCidr('10.244.4.0/22')));
});

test('ranges are an address, a dash range or a CIDR', () => {
  assert.deepEqual(parseRange('10.0.0.5'), { first: parseIp('10.0.0.5'), last: parseIp('10.0.0.5') });
  assert.deepEqual(parseRange('10.0.0.5-10.0.0.9'), {
    first: parseIp('10.0.0.5'),
    last: parseIp('10.0.0.9'),
  });
  assert.deepEqual(parseRange('10.0.0.8/30'), { first: parseIp('10.0.0.8'), last: parseIp('10.0.0.11') });
  assert.throws(() => parseRange('10.0.0.9-10.0.0.5'), /ends before it starts/);
});
