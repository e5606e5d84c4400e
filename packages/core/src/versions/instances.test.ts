import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '@leengine/common';
import { resolveInstances, spreadTotal, totalOf } from './instances.ts';

test('instances: one number per cell, or named cells (the rest 0); unknown cells are refused', () => {
  assert.deepEqual(resolveInstances(2, ['a', 'b']), { a: 2, b: 2 });
  assert.deepEqual(resolveInstances({ b: 3 }, ['a', 'b']), { a: 0, b: 3 });
  assert.throws(
    () => resolveInstances({ c: 1 }, ['a', 'b']),
    (e: unknown) => e instanceof InputError && e.fields[0]?.path === 'instances.c',
  );
});

test('a total is spread evenly, the first cells by name taking the remainder', () => {
  assert.deepEqual(spreadTotal(5, ['b', 'a']), { a: 3, b: 2 });
  assert.deepEqual(spreadTotal(2, ['a', 'b', 'c']), { a: 1, b: 1, c: 0 });
  assert.equal(totalOf(spreadTotal(7, ['a', 'b', 'c'])), 7);
});
