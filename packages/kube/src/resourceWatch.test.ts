import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubernetesObject } from '@kubernetes/client-node';
import { ResourceWatch, type WatchEventType, type WatchSource } from './resourceWatch.ts';

type Obj = KubernetesObject;
const obj = (name: string, rv: string): Obj => ({ metadata: { name, resourceVersion: rv } });

/** A scripted source: each watch call plays the next script entry. */
function scripted(
  lists: { items: Obj[]; resourceVersion: string }[],
  watches: ((rv: string, emit: (type: string, o: unknown) => void) => Promise<void>)[],
) {
  const calls: string[] = [];
  const source: WatchSource<Obj> = {
    list: async () => {
      calls.push('list');
      const next = lists.shift();
      if (!next) throw new Error('no more lists');
      return next;
    },
    watch: async (rv, onEvent, signal) => {
      calls.push(`watch@${rv}`);
      const next = watches.shift();
      if (!next) {
        // Nothing scripted: hang until stopped.
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        return;
      }
      await next(rv, onEvent);
    },
  };
  return { source, calls };
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await sleep(5);
  }
  assert.fail(`timed out: ${what}`);
}

test('lists, watches from the list version, resumes from the last version seen, re-lists only on 410', async () => {
  const { source, calls } = scripted(
    [
      { items: [obj('a', '5')], resourceVersion: '10' },
      { items: [obj('b', '30')], resourceVersion: '31' },
    ],
    [
      async (_rv, emit) => {
        emit('ADDED', obj('b', '11'));
        emit('BOOKMARK', obj('', '15'));
        // the server ends the stream (timeoutSeconds): resume, no re-list
      },
      async () => {
        throw Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });
      },
      async (_rv, emit) => {
        emit('MODIFIED', obj('b', '16'));
        emit('ERROR', { kind: 'Status', code: 410, message: 'too old resource version: 16 (20)' });
        emit('MODIFIED', obj('b', '17')); // after the error: ignored
      },
    ],
  );
  const seen: [WatchEventType, string, string][] = [];
  let lists = 0;
  const errors: unknown[] = [];
  const watch = new ResourceWatch<Obj>({
    name: 't',
    source,
    onEvent: (type, o) => seen.push([type, o.metadata?.name ?? '', o.metadata?.resourceVersion ?? '']),
    onList: () => lists++,
    onError: (e) => errors.push(e),
    backoff: { baseMs: 1, maxMs: 1 },
  });
  watch.start();
  await until('the second list and its watch', () => calls.includes('watch@31'));
  await watch.stop();
  assert.deepEqual(calls, ['list', 'watch@10', 'watch@15', 'watch@15', 'list', 'watch@31']);
  assert.deepEqual(seen, [
    ['SYNC', 'a', '5'],
    ['ADDED', 'b', '11'],
    ['MODIFIED', 'b', '16'],
    ['SYNC', 'b', '30'],
  ]);
  assert.equal(lists, 2);
  assert.equal(errors.length, 1, 'the refused connection was reported; the 410 was not an error');
  assert.deepEqual(
    { gone: watch.metrics.gone, lists: watch.metrics.lists, errors: watch.metrics.errors },
    { gone: 1, lists: 2, errors: 1 },
  );
  assert.equal(watch.resourceVersion, '31');
});

test('a watch resumed from a persisted version does not list first; HTTP 410 on connect re-lists', async () => {
  const { source, calls } = scripted(
    [{ items: [], resourceVersion: '50' }],
    [
      async () => {
        throw Object.assign(new Error('Gone'), { statusCode: 410 });
      },
    ],
  );
  const watch = new ResourceWatch<Obj>({ name: 't', source, onEvent: () => {}, resourceVersion: '7' });
  watch.start();
  await until('re-listed and watching', () => calls.includes('watch@50'));
  await watch.stop();
  assert.deepEqual(calls, ['watch@7', 'list', 'watch@50']);
});
