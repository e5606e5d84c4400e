import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Clock, done, type ReconcileResult, Reconciler, requeueAfter, retry } from './reconciler.ts';

/** A clock whose time moves only when the test says so. */
class ManualClock implements Clock {
  time = 0;
  timers: { at: number; fn: () => void; id: number }[] = [];
  #id = 0;
  now(): number {
    return this.time;
  }
  setTimer(fn: () => void, ms: number): unknown {
    const id = ++this.#id;
    this.timers.push({ at: this.time + ms, fn, id });
    return id;
  }
  clearTimer(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }
  /** Delays of the pending timers, excluding run time-outs (the long ones). */
  pendingDelays(limit = 59_000): number[] {
    return this.timers.map((t) => t.at - this.time).filter((d) => d < limit);
  }
  advance(ms: number): void {
    this.time += ms;
    const due = this.timers.filter((t) => t.at <= this.time);
    this.timers = this.timers.filter((t) => t.at > this.time);
    for (const t of due) t.fn();
  }
}

function recorder(results: (key: string, n: number) => ReconcileResult | Promise<ReconcileResult>) {
  const runs: string[] = [];
  return {
    runs,
    reconcile: async (key: string) => {
      runs.push(key);
      return results(key, runs.filter((k) => k === key).length);
    },
  };
}

test('queued keys run once each, however often they were enqueued', async () => {
  const r = recorder(() => done);
  const reconciler = new Reconciler({ name: 't', reconcile: r.reconcile, clock: new ManualClock() });
  reconciler.enqueue('a');
  reconciler.enqueue('b');
  reconciler.enqueue('a');
  reconciler.start();
  await reconciler.idle();
  assert.deepEqual(r.runs.sort(), ['a', 'b']);
});

test('a key enqueued while it runs runs once more afterwards, never twice at once', async () => {
  let concurrent = 0;
  let maxConcurrent = 0;
  let release: () => void = () => {};
  const runs: number[] = [];
  const reconciler = new Reconciler({
    name: 't',
    clock: new ManualClock(),
    reconcile: async () => {
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      runs.push(runs.length + 1);
      if (runs.length === 1) await new Promise<void>((resolve) => (release = resolve));
      concurrent--;
      return done;
    },
  });
  reconciler.start();
  reconciler.enqueue('k');
  await new Promise((r) => setImmediate(r));
  reconciler.enqueue('k');
  reconciler.enqueue('k');
  release();
  await reconciler.idle();
  assert.deepEqual(runs, [1, 2]);
  assert.equal(maxConcurrent, 1);
});

test('failures retry with exponential backoff, capped, and a success resets it', async () => {
  const clock = new ManualClock();
  const r = recorder((_key, n) => (n <= 4 ? retry('cell unreachable') : done));
  const reconciler = new Reconciler({
    name: 't',
    reconcile: r.reconcile,
    clock,
    backoff: { baseMs: 100, maxMs: 500 },
  });
  reconciler.start();
  reconciler.enqueue('k');
  const delays: number[] = [];
  for (let i = 0; i < 4; i++) {
    await reconciler.idle();
    delays.push(...clock.pendingDelays());
    clock.advance(clock.pendingDelays()[0] ?? 0);
  }
  await reconciler.idle();
  assert.deepEqual(delays, [100, 200, 400, 500]);
  assert.equal(r.runs.length, 5);
  assert.equal(reconciler.metrics.failures, 4);
  assert.deepEqual(clock.pendingDelays(), [], 'nothing scheduled after success');
});

test('an exception is a failure like a retry, and a run that takes too long is aborted', async () => {
  const clock = new ManualClock();
  let signalSeen: AbortSignal | undefined;
  const reconciler = new Reconciler({
    name: 't',
    clock,
    timeoutMs: 1000,
    backoff: { baseMs: 50, maxMs: 50 },
    reconcile: async (key, context) => {
      if (key === 'throws') {
        if (context.failures === 0) throw new Error('boom');
        return done;
      }
      signalSeen = context.signal;
      return new Promise<ReconcileResult>(() => {}); // hangs
    },
  });
  reconciler.start();
  reconciler.enqueue('throws');
  await reconciler.idle();
  assert.equal(reconciler.metrics.failures, 1);

  reconciler.enqueue('hangs');
  await new Promise((r) => setImmediate(r));
  clock.advance(1000);
  await reconciler.idle();
  assert.equal(signalSeen?.aborted, true, 'the run was told to stop');
  assert.equal(reconciler.metrics.timeouts, 1);
  assert.equal(reconciler.metrics.failures, 2);
  await reconciler.stop();
});

test('requeueAfter runs the key again after the delay', async () => {
  const clock = new ManualClock();
  const r = recorder((_k, n) => (n === 1 ? requeueAfter(5000) : done));
  const reconciler = new Reconciler({ name: 't', reconcile: r.reconcile, clock });
  reconciler.start();
  reconciler.enqueue('k');
  await reconciler.idle();
  assert.deepEqual(clock.pendingDelays(), [5000]);
  clock.advance(4999);
  await reconciler.idle();
  assert.equal(r.runs.length, 1);
  clock.advance(1);
  await reconciler.idle();
  assert.equal(r.runs.length, 2);
});
