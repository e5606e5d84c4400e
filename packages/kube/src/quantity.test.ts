import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cpuMillicores, memoryMib, parseQuantity } from './quantity.ts';

test('CPU quantities become millicores', () => {
  assert.equal(cpuMillicores('250m'), 250);
  assert.equal(cpuMillicores('2'), 2000);
  assert.equal(cpuMillicores('1.5'), 1500);
  assert.equal(cpuMillicores('0.0001'), 1, 'rounded up, as Kubernetes does');
  assert.equal(cpuMillicores('100000n'), 1);
  assert.equal(cpuMillicores(undefined), 0);
  assert.equal(cpuMillicores('lots'), 0);
});

test('memory quantities become MiB', () => {
  assert.equal(memoryMib('512Mi'), 512);
  assert.equal(memoryMib('2Gi'), 2048);
  assert.equal(memoryMib('1G'), 953);
  assert.equal(memoryMib('1048576'), 1);
  assert.equal(memoryMib('16329088Ki'), 15946);
  assert.equal(memoryMib('1e9'), 953);
  assert.equal(memoryMib(undefined), 0);
  assert.ok(Number.isNaN(parseQuantity('12 Mi')));
  assert.ok(Number.isNaN(parseQuantity('Mi')));
});
