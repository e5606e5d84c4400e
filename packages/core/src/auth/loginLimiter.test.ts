import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimitedError } from '@leengine/common';
import { TestClock } from '../testing/testClock.ts';
import { LoginLimiter } from './loginLimiter.ts';

test('after maxFailures the pair is refused until the window ends; a success clears it', () => {
  const time = new TestClock();
  const limiter = new LoginLimiter({ clock: time.clock, maxFailures: 2, windowMs: 60_000 });
  limiter.failed('alice', '10.0.0.1');
  limiter.check('alice', '10.0.0.1');
  limiter.failed('alice', '10.0.0.1');
  assert.throws(
    () => limiter.check('alice', '10.0.0.1'),
    (e: unknown) => e instanceof RateLimitedError && e.retryAfterSeconds === 60,
  );
  limiter.check('alice', '10.0.0.2');
  limiter.check('ALICE', '10.0.0.2');
  time.advance(30_000);
  assert.throws(
    () => limiter.check('Alice', '10.0.0.1'),
    (e: unknown) => e instanceof RateLimitedError && e.retryAfterSeconds === 30,
  );
  time.advance(30_000);
  limiter.check('alice', '10.0.0.1');
  limiter.failed('bob', '10.0.0.1');
  limiter.succeeded('bob', '10.0.0.1');
  limiter.failed('bob', '10.0.0.1');
  limiter.check('bob', '10.0.0.1');
});

test('memory stays bounded: the oldest pairs are dropped first', () => {
  const time = new TestClock();
  const limiter = new LoginLimiter({ clock: time.clock, maxFailures: 1, maxEntries: 3 });
  for (const user of ['a', 'b', 'c', 'd']) limiter.failed(user, 'ip');
  limiter.check('a', 'ip');
  assert.throws(() => limiter.check('d', 'ip'), RateLimitedError);
});

test('an address is limited across usernames too, and a success does not clear that', () => {
  const time = new TestClock();
  const limiter = new LoginLimiter({
    clock: time.clock,
    maxFailures: 5,
    maxFailuresPerAddress: 3,
    windowMs: 60_000,
  });
  for (const user of ['a', 'b']) limiter.failed(user, '10.0.0.9');
  limiter.succeeded('c', '10.0.0.9');
  limiter.check('c', '10.0.0.9');
  limiter.failed('c', '10.0.0.9');
  for (const user of ['d', 'e', 'a']) {
    assert.throws(
      () => limiter.check(user, '10.0.0.9'),
      (e: unknown) => e instanceof RateLimitedError && e.retryAfterSeconds === 60,
      user,
    );
  }
  limiter.check('d', '10.0.0.10');
  time.advance(60_000);
  limiter.check('d', '10.0.0.9');
});
