import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RegistryAccessCache } from './registryAccessCache.ts';

function cacheAt(start: number) {
  let now = start;
  const cache = new RegistryAccessCache<string, string>({ clock: () => new Date(now), ttlMs: 5000 });
  return { cache, move: (ms: number) => (now += ms) };
}

test('an entry lives its TTL on core’s clock, and a clock moved back does not stretch it', () => {
  const { cache, move } = cacheAt(1_000_000);
  const key = cache.credentialKey('alice', 'lee_pat_x');
  cache.rememberCredential(key, 'alice', cache.generation);
  move(4999);
  assert.equal(cache.credential(key), 'alice');
  move(1);
  assert.equal(cache.credential(key), undefined, 'expired');
  cache.rememberRepository(7, 'team/app', 'roles', cache.generation);
  move(-1);
  assert.equal(cache.repository(7, 'team/app'), undefined, 'stored in the future: not trusted');
});

test('credential keys depend on username and secret, and never contain the secret', () => {
  const { cache } = cacheAt(0);
  const key = cache.credentialKey('alice', 'lee_pat_secret');
  assert.notEqual(key, cache.credentialKey('alice', 'lee_pat_secre'));
  assert.notEqual(key, cache.credentialKey('alicf', 'lee_pat_secret'));
  assert.notEqual(cache.credentialKey('a', 'b\0c'), cache.credentialKey('a\0b', 'c'));
  assert.ok(!key.includes('secret'));
  assert.notEqual(
    key,
    new RegistryAccessCache({ clock: () => new Date(0) }).credentialKey('alice', 'lee_pat_secret'),
  );
});

test('invalidate drops everything, and a lookup that started before it is not cached', () => {
  const { cache } = cacheAt(0);
  cache.rememberCredential('k', 'alice', cache.generation);
  cache.rememberRepository(1, 'team/app', 'roles', cache.generation);
  const started = cache.generation;
  cache.invalidate();
  assert.equal(cache.credential('k'), undefined);
  assert.equal(cache.repository(1, 'team/app'), undefined);
  cache.rememberCredential('k', 'stale', started);
  assert.equal(cache.credential('k'), undefined, 'read before the change: not kept');
  cache.rememberCredential('k', 'fresh', cache.generation);
  assert.equal(cache.credential('k'), 'fresh');
});
