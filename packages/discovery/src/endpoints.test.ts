import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addressKey, cellUpstreams, type PodView, type SliceView, sortUpstreams } from './endpoints.ts';

const slice = (endpoints: SliceView['endpoints'], port: number | undefined): SliceView => ({
  application: 'shop',
  port,
  endpoints,
});
const ep = (ip: string, pod: string, ready = true, terminating = false) => ({ ip, pod, ready, terminating });

test('only ready, not terminating, not drained addresses, with the pod version', () => {
  const pods = new Map<string, PodView>([
    ['shop/v1-a', { version: 'v1', terminating: false }],
    ['shop/v1-b', { version: 'v1', terminating: true }],
    ['shop/v2-a', { version: 'v2', terminating: false }],
    ['shop/v2-b', { version: 'v2', terminating: false }],
  ]);
  const slices = [
    slice(
      [
        ep('10.88.0.2', 'v1-a'),
        ep('10.88.0.3', 'v1-b'),
        ep('10.88.0.4', 'v2-a'),
        ep('10.88.0.5', 'v2-b', false),
      ],
      8080,
    ),
    slice([ep('10.88.0.6', 'v2-c', true, true)], 8080),
    slice([ep('10.88.0.7', 'v2-d')], undefined),
  ];
  assert.deepEqual(
    cellUpstreams('a', 'shop', slices, pods, undefined).map((u) => [u.ip, u.version]),
    [
      ['10.88.0.2', 'v1'],
      ['10.88.0.4', 'v2'],
    ],
  );
  const drain = { versions: ['v1'], pods: [], addresses: [] };
  assert.deepEqual(
    cellUpstreams('a', 'shop', slices, pods, drain).map((u) => u.ip),
    ['10.88.0.4'],
  );
  const byAddress = { versions: [], pods: [], addresses: [addressKey('a', '10.88.0.4', 8080)] };
  assert.deepEqual(
    cellUpstreams('a', 'shop', slices, pods, byAddress).map((u) => u.ip),
    ['10.88.0.2'],
  );
  const byPod = { versions: [], pods: ['v1-a'], addresses: [] };
  assert.deepEqual(
    cellUpstreams('a', 'shop', slices, pods, byPod).map((u) => u.ip),
    ['10.88.0.4'],
  );
});

test('sorted by cell then numeric address, duplicates dropped', () => {
  const u = (cell: string, ip: string) => ({ ip, port: 80, weight: 1, cell, version: 'v1' });
  assert.deepEqual(
    sortUpstreams([u('b', '10.0.0.1'), u('a', '10.0.0.10'), u('a', '10.0.0.9'), u('a', '10.0.0.9')]).map(
      (x) => `${x.cell} ${x.ip}`,
    ),
    ['a 10.0.0.9', 'a 10.0.0.10', 'b 10.0.0.1'],
  );
});
