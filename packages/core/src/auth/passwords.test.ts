import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashPassword, verifyPassword } from './passwords.ts';

test('scrypt hashes are salted, self-describing and verify only the right password', async () => {
  const a = await hashPassword('correct horse battery staple');
  const b = await hashPassword('correct horse battery staple');
  assert.match(a, /^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{86}$/);
  assert.notEqual(a, b, 'a fresh salt each time');
  assert.ok(await verifyPassword('correct horse battery staple', a));
  assert.ok(await verifyPassword('correct horse battery staple', b));
  assert.ok(!(await verifyPassword('correct horse battery stapler', a)));
  assert.ok(!(await verifyPassword('', a)));
});

test('a malformed stored hash never verifies', async () => {
  for (const stored of ['', 'plain', 'bcrypt$x', 'scrypt$1$2$3', 'scrypt$16384$8$1$salt$']) {
    assert.ok(!(await verifyPassword('anything', stored)), stored);
  }
});
