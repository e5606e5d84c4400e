import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ComponentError } from '../componentError.ts';
import { mountsUnder } from '../mounts.ts';
import { useTestbed } from '../nodeTest.ts';
import { pidsMentioning } from '../procfs.ts';
import { KUBE_BINARIES, kubeBinDir } from './kubeBinaries.ts';
import { reservePodSubnet } from './podNetwork.ts';

const testbed = useTestbed();
const base = mkdtempSync(join(tmpdir(), 'leengine-cellfail-'));
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
  assert.deepEqual(mountsUnder(join(base, 'dirs')), [], 'no mount is left');
}

/**
 * A bin dir with the real Kubernetes binaries except `replaced`, which is the given
 * shell script (`$REAL` in it is the real binary).
 */
function binDirReplacing(replaced: (typeof KUBE_BINARIES)[number], script: string): string {
  if (realBin === undefined) delete process.env.LEENGINE_KUBE_BIN;
  else process.env.LEENGINE_KUBE_BIN = realBin;
  const real = kubeBinDir();
  const dir = mkdtempSync(join(base, 'bin-'));
  for (const name of KUBE_BINARIES) {
    if (name !== replaced) symlinkSync(join(real, name), join(dir, name));
  }
  writeFileSync(join(dir, replaced), `#!/bin/sh\nREAL=${join(real, replaced)}\n${script}`, { mode: 0o755 });
  return dir;
}

/** The cell's cgroups (named `leengine-<cell>-<suffix>[-node]`) in any hierarchy. */
function cgroupsOf(cell: string): string[] {
  const root = '/sys/fs/cgroup';
  const hierarchies = existsSync(join(root, 'cgroup.controllers'))
    ? [root]
    : readdirSync(root).map((d) => join(root, d));
  return hierarchies.flatMap((h) =>
    (existsSync(h) ? readdirSync(h) : [])
      .filter((d) => d.startsWith(`leengine-${cell}-`))
      .map((d) => join(h, d)),
  );
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
  process.env.LEENGINE_KUBE_BIN = binDirReplacing(
    'kube-controller-manager',
    'echo "E1126 failed to load signing key: simulated" >&2\nexit 1\n',
  );
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

test('a real node whose kubelet exits during start is named with its log tail, and nothing of the partial cell is left', async () => {
  const [etcd, registry] = await Promise.all([testbed.etcd(), testbed.registry()]);
  // The real kubelet, given one flag it does not know: it exits on start, after the
  // cell's control plane, containerd, pod bridge and cgroups are up.
  process.env.LEENGINE_KUBE_BIN = binDirReplacing('kubelet', 'exec "$REAL" "$@" --no-such-kubelet-flag\n');
  // A subnet that is free now, so its bridge, route and reservation can be checked after.
  const probe = reservePodSubnet();
  probe.release();
  const { index } = probe;
  await assert.rejects(
    testbed.cell({ name: 'badkubelet', etcd, registry, podSubnetIndex: index, timeoutMs: 60_000 }),
    (error: unknown) => {
      assert.ok(error instanceof ComponentError, String(error));
      assert.equal(error.component, 'badkubelet/kubelet');
      assert.match(error.message, /exited while starting \(code 1/);
      assert.match(error.logTail, /unknown flag: --no-such-kubelet-flag/);
      return true;
    },
  );
  assertNothingLeft();
  assert.deepEqual(cgroupsOf('badkubelet'), [], 'no cgroup of the cell is left');
  assert.equal(existsSync(`/sys/class/net/lecell${index}`), false, 'the bridge is deleted');
  const route = spawnSync('ip', ['route', 'show', 'exact', `10.88.${index}.0/24`], { encoding: 'utf8' });
  assert.equal(
    route.stdout.trim(),
    '',
    'no route to the pod subnet is left (only the covering unreachable one)',
  );
  assert.equal(existsSync(`/run/leengine/cell-subnets/${index}`), false, 'the pod subnet is released');
  reservePodSubnet(index).release();
});
