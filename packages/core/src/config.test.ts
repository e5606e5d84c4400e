import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '@leengine/common';
import { loadConfig, redactConfig } from './config.ts';

test('an empty environment gives the local defaults', () => {
  const config = loadConfig({});
  assert.equal(config.LEENGINE_HOST, '127.0.0.1');
  assert.equal(config.LEENGINE_PORT, 7070);
  assert.equal(config.LEENGINE_DATA_DIR, '.leengine/data');
  assert.equal(config.DATABASE_URL, undefined);
});

test('every bad variable is named with its reason', () => {
  assert.throws(
    () =>
      loadConfig({
        LEENGINE_PORT: '70000',
        DATABASE_URL: 'mysql://x',
        ETCD_ENDPOINTS: 'http://127.0.0.1:2379,not a url',
        LOG_LEVEL: 'loud',
      }),
    (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.deepEqual(error.fields.map((f) => f.path).sort(), [
        'DATABASE_URL',
        'ETCD_ENDPOINTS.1',
        'LEENGINE_PORT',
        'LOG_LEVEL',
      ]);
      assert.ok(error.fields.every((f) => f.in === 'config' && f.message.length > 0));
      return true;
    },
  );
});

test('an empty variable counts as unset', () => {
  assert.equal(loadConfig({ DATABASE_URL: '', LEENGINE_PORT: '' }).DATABASE_URL, undefined);
  assert.equal(loadConfig({ LEENGINE_PORT: '' }).LEENGINE_PORT, 7070);
});

test('etcd endpoints are split on commas', () => {
  const config = loadConfig({ ETCD_ENDPOINTS: 'http://127.0.0.1:2379, http://127.0.0.1:2380' });
  assert.deepEqual(config.ETCD_ENDPOINTS, ['http://127.0.0.1:2379', 'http://127.0.0.1:2380']);
});

test('the database password is masked in what is logged', () => {
  const config = loadConfig({ DATABASE_URL: 'postgres://core:s3cret@db.internal:5432/leengine' });
  const logged = JSON.stringify(redactConfig(config));
  assert.ok(!logged.includes('s3cret'));
  assert.match(logged, /postgres:\/\/core:\*\*\*@db\.internal:5432\/leengine/);
});

test('trusted proxies are addresses or CIDRs, split on commas; anything else is refused', () => {
  assert.deepEqual(
    loadConfig({ LEENGINE_TRUSTED_PROXIES: '127.0.0.2, 10.0.0.0/8,::1' }).LEENGINE_TRUSTED_PROXIES,
    ['127.0.0.2', '10.0.0.0/8', '::1'],
  );
  assert.equal(loadConfig({}).LEENGINE_TRUSTED_PROXIES, undefined);
  for (const bad of ['loopback', '127.0.0.1,nginx', '300.1.1.1', '*', ',']) {
    assert.throws(
      () => loadConfig({ LEENGINE_TRUSTED_PROXIES: bad }),
      (error: unknown) =>
        error instanceof InputError &&
        error.fields.some((f) => f.path.startsWith('LEENGINE_TRUSTED_PROXIES')),
      bad,
    );
  }
});
