import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ComponentError } from '../componentError.ts';
import { useTestbed } from '../nodeTest.ts';
import { pidsMentioning } from '../procfs.ts';
import { KUBE_BINARIES } from './kubeBinaries.ts';

const testbed = useTestbed();
const base = mkdtempSync(join(tmpdir(), 'leengine-cellfail-'));
const fakeBin = join(base, 'bin');
const realBin = process.env.LEENGINE_KUBE_BIN;

before(() => {
  // Component dirs of this file go under `base`, so leftovers are easy to see.
  chmodSync(base, 0o711);
  process.env.LEENGINE_TESTBED_DIR = join(base, 'dirs');
});

after(() => {
  delete process.env.LEENGINE_TESTBED_DIR;
  if (realBin === undefined) delete process.env.LEENGINE_KUBE_BIN;
  else process.env.LEENGINE_KUBE_BIN = realBin;
  rmSync(base, { recursive: true, force: true });
});

function assertNothingLeft(): void {
  assert.deepEqual(
    readdirSync(join(base, 'dirs')).filter((d) => d.startsWith('leengine-cell-')),
    [],
  );
  assert.deepEqual(pidsMentioning(join(base, 'dirs', 'leengine-cell-')), [], 'no cell process is left');
}

test('missing Kubernetes binaries give a clear error naming the fix', async () => {
  const etcd = await testbed.etcd();
  process.env.LEENGINE_KUBE_BIN = join(base, 'nowhere');
  await assert.rejects(testbed.cell({ name: 'nobin', etcd, nodes: 0 }), (error: unknown) => {
    assert.ok(error instanceof ComponentError);
    assert.match(error.message, /kube-apiserver is missing: run tools\/kube\/build\.sh/);
    return true;
  });
  assertNothingLeft();
});

test('a control-plane component that exits during start is named with its log tail, and the partial cell is torn down', async () => {
  const etcd = await testbed.etcd();
  // The real binaries, except a controller-manager that dies on start.
  const { mkdirSync, symlinkSync } = await import('node:fs');
  const { kubeBinDir } = await import('./kubeBinaries.ts');
  if (realBin === undefined) delete process.env.LEENGINE_KUBE_BIN;
  else process.env.LEENGINE_KUBE_BIN = realBin;
  const real = kubeBinDir();
  mkdirSync(fakeBin, { recursive: true });
  for (const name of KUBE_BINARIES) {
    if (name !== 'kube-controller-manager') symlinkSync(join(real, name), join(fakeBin, name));
  }
  writeFileSync(
    join(fakeBin, 'kube-controller-manager'),
    '#!/bin/sh\necho "E1126 failed to load signing key: simulated" >&2\nexit 1\n',
    { mode: 0o755 },
  );
  process.env.LEENGINE_KUBE_BIN = fakeBin;
  await assert.rejects(
    testbed.cell({ name: 'broken', etcd, nodes: 0, timeoutMs: 30_000 }),
    (error: unknown) => {
      assert.ok(error instanceof ComponentError, String(error));
      assert.equal(error.component, 'broken/kube-controller-manager');
      assert.match(error.message, /exited while starting \(code 1/);
      assert.match(error.logTail, /simulated/);
      return true;
    },
  );
  assertNothingLeft();
});
