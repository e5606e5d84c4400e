import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UnavailableError } from '@leengine/common';
import { parseSecretKey, requireBox, SecretBox } from './secretBox.ts';

test('a sealed value opens with the same key and context only, and never shows the plaintext', () => {
  const box = SecretBox.fromKey(SecretBox.generateKey());
  const sealed = box.seal('apiVersion: v1\nclusters: []', 'cell:local-1');
  assert.match(sealed, /^v1\.[A-Za-z0-9_-]+$/);
  assert.ok(!sealed.includes('apiVersion'));
  assert.notEqual(box.seal('same', 'c'), box.seal('same', 'c'), 'a fresh IV each time');
  assert.equal(box.open(sealed, 'cell:local-1'), 'apiVersion: v1\nclusters: []');
  assert.throws(() => box.open(sealed, 'cell:local-2'), 'bound to its context');
  assert.throws(() => SecretBox.fromKey(SecretBox.generateKey()).open(sealed, 'cell:local-1'), 'another key');
  const tampered = `${sealed.slice(0, -2)}${sealed.endsWith('A') ? 'B' : 'A'}${sealed.slice(-1)}`;
  assert.throws(() => box.open(tampered, 'cell:local-1'), 'altered');
  assert.throws(() => box.open('plain text', 'cell:local-1'));
});

test('keys are 32 bytes in base64 or hex', () => {
  assert.equal(parseSecretKey(SecretBox.generateKey())?.length, 32);
  assert.equal(parseSecretKey('ab'.repeat(32))?.length, 32);
  assert.equal(parseSecretKey('short'), undefined);
  assert.equal(parseSecretKey(Buffer.alloc(16).toString('base64')), undefined);
  assert.throws(() => SecretBox.fromKey('nope'), /32 bytes/);
  assert.throws(() => requireBox(undefined), UnavailableError);
});
