import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ComponentError } from './componentError.ts';
import { startEtcd } from './etcd.ts';
import { startNginx } from './nginx.ts';
import { startPostgres } from './postgres.ts';
import { pidsMentioning } from './procfs.ts';
import { startRegistry } from './registry.ts';

// Every component dir of this file goes under one base, so leftovers are easy to see.
const base = mkdtempSync(join(tmpdir(), 'leengine-failures-'));
// PostgreSQL runs as its own user, who must traverse the base.
chmodSync(base, 0o711);
let taken: Server;
let takenPort = 0;

before(async () => {
  process.env.LEENGINE_TESTBED_DIR = base;
  taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const address = taken.address();
  takenPort = typeof address === 'object' && address ? address.port : 0;
});

after(() => {
  taken.close();
  delete process.env.LEENGINE_TESTBED_DIR;
  rmSync(base, { recursive: true, force: true });
});

function assertNothingLeft(): void {
  assert.deepEqual(readdirSync(base), [], 'a failed start removes its temp dir');
  assert.deepEqual(pidsMentioning(base), [], 'a failed start leaves no process behind');
}

function failure(component: string, message: RegExp, tail?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof ComponentError, `expected a ComponentError, got ${String(error)}`);
    assert.equal(error.component, component);
    assert.match(error.message, message);
    assert.ok(error.message.startsWith(`${component}: `), 'the message names the component');
    if (tail) assert.match(error.logTail, tail);
    return true;
  };
}

for (const [component, start, tail] of [
  ['etcd', (port: number) => startEtcd({ port, timeoutMs: 10_000 }), /address already in use/],
  [
    'postgres',
    (port: number) => startPostgres({ port, timeoutMs: 10_000 }),
    /could not bind|already in use/i,
  ],
  ['registry', (port: number) => startRegistry({ port, timeoutMs: 10_000 }), /address already in use/],
] as const) {
  test(`${component} on a taken port fails with its name and log tail`, async () => {
    await assert.rejects(start(takenPort), failure(component, /exited while starting/, tail));
    assertNothingLeft();
  });
}

test('a missing binary is named in the error', async () => {
  await assert.rejects(
    startEtcd({ binary: '/nonexistent/etcd' }),
    failure('etcd', /binary '\/nonexistent\/etcd' not found.*scripts\/setup\.sh/),
  );
  assertNothingLeft();
});

test('a bad nginx config fails before start with the nginx -t output', async () => {
  await assert.rejects(
    startNginx({ http: '  no_such_directive on;' }),
    failure('nginx', /configuration test failed/, /unknown directive "no_such_directive"/),
  );
  assertNothingLeft();
});

test('a registry config the registry rejects fails with its log tail', async () => {
  const bundle = join(base, 'no-such-bundle.pem');
  await assert.rejects(
    startRegistry({
      auth: {
        realm: 'http://127.0.0.1:1/token',
        service: 'registry',
        issuer: 'core',
        rootCertBundle: bundle,
      },
      timeoutMs: 10_000,
    }),
    failure('registry', /exited while starting/, /no-such-bundle\.pem/),
  );
  assertNothingLeft();
});

test('a private temp base is named as the reason PostgreSQL cannot start', async () => {
  chmodSync(base, 0o700);
  try {
    await assert.rejects(startPostgres(), failure('postgres', /cannot reach .*chmod o\+x/));
  } finally {
    chmodSync(base, 0o711);
  }
  assertNothingLeft();
});

test('a broken executable is reported as a failed start, not a hang', async () => {
  const fake = join(base, 'etcd-that-exits');
  writeFileSync(fake, '#!/bin/sh\necho "simulated crash on start" >&2\nexit 3\n', { mode: 0o755 });
  try {
    await assert.rejects(
      startEtcd({ binary: fake, timeoutMs: 10_000 }),
      failure('etcd', /exited while starting \(code 3/, /simulated crash on start/),
    );
  } finally {
    rmSync(fake);
  }
  assertNothingLeft();
});
