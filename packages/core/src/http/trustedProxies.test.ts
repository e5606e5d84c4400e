import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type NginxHandle, useTestbed } from '@leengine/testbed';
import { FRONT_DOOR_SOURCE, frontDoorConfig } from '../localRegion/traffic.ts';
import { signInFrom } from '../testing/signInFrom.ts';
import { startTestCore, TEST_PASSWORD, type TestCore } from '../testing/testCore.ts';

// Real nginx in front of a real core, configured as the local region's front door
// (proxy_bind FRONT_DOOR_SOURCE); the clients are distinct loopback source addresses.
const testbed = useTestbed();
let nginx: NginxHandle;
let trusting: TestCore;
let trustingNobody: TestCore;
const proxied = () => `http://127.0.0.1:${nginx.port}`;
const bad = { username: 'alice', password: 'not the password' };
const good = { username: 'alice', password: TEST_PASSWORD };

before(async () => {
  [nginx, trusting, trustingNobody] = await Promise.all([
    testbed.nginx(),
    startTestCore({ maxFailedLogins: 2, trustedProxies: FRONT_DOOR_SOURCE }),
    startTestCore({ maxFailedLogins: 2 }),
  ]);
  await Promise.all([trusting.user('alice'), trustingNobody.user('alice')]);
});
after(() => Promise.all([trusting?.close(), trustingNobody?.close()]));

test('behind the trusted proxy, two clients are limited separately, and a client cannot pose as another', async () => {
  await nginx.configure({ 'core.conf': frontDoorConfig(nginx.port, trusting.url) });
  for (let i = 0; i < 2; i++) assert.equal(await signInFrom(proxied(), '127.0.0.11', bad), 401);
  assert.equal(await signInFrom(proxied(), '127.0.0.11', good), 429, 'client 1 is limited');
  assert.equal(await signInFrom(proxied(), '127.0.0.12', good), 200, 'client 2 is not');
  // Client 1 naming another address: nginx appends its real one, which core reads.
  const spoofed = await signInFrom(proxied(), '127.0.0.11', good, { 'x-forwarded-for': '127.0.0.77' });
  assert.equal(spoofed, 429);
  assert.equal(await signInFrom(proxied(), '127.0.0.77', good), 200, 'the named address was never charged');
});

test('a client talking to core directly cannot choose its address with X-Forwarded-For', async () => {
  for (let i = 0; i < 2; i++) {
    const status = await signInFrom(trusting.url, '127.0.0.13', bad, { 'x-forwarded-for': `10.0.0.${i}` });
    assert.equal(status, 401);
  }
  const again = await signInFrom(trusting.url, '127.0.0.13', good, { 'x-forwarded-for': '10.0.0.99' });
  assert.equal(again, 429, 'every attempt was charged to 127.0.0.13');
  // Naming the limited address does not make a direct client it: the header is ignored.
  assert.equal(await signInFrom(trusting.url, '127.0.0.1', good, { 'x-forwarded-for': '127.0.0.13' }), 200);
});

test('without trusted proxies, every client behind nginx shares its address (why the setting exists)', async () => {
  await nginx.configure({ 'core.conf': frontDoorConfig(nginx.port, trustingNobody.url) });
  for (let i = 0; i < 2; i++) assert.equal(await signInFrom(proxied(), '127.0.0.11', bad), 401);
  assert.equal(await signInFrom(proxied(), '127.0.0.12', good), 429, 'client 2 pays for client 1');
});
