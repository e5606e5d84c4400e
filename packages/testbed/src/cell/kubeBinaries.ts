import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ComponentError } from '../componentError.ts';

const BUILD_SCRIPT = new URL('../../../../tools/kube/build.sh', import.meta.url).pathname;

export const KUBE_BINARIES = [
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kubelet',
  'kwok',
] as const;
export type KubeBinary = (typeof KUBE_BINARIES)[number];

let cached: string | undefined;

/**
 * The directory of the Kubernetes binaries built from Go modules by tools/kube/build.sh
 * (`LEENGINE_KUBE_BIN` overrides it). Building takes minutes, so a test never starts it:
 * it fails with the command to run instead (`./dev setup` runs it too).
 */
export function kubeBinDir(): string {
  const override = process.env.LEENGINE_KUBE_BIN;
  if (override) return override;
  if (cached) return cached;
  const check = spawnSync('bash', [BUILD_SCRIPT, '--check'], { encoding: 'utf8' });
  if (check.status !== 0) {
    throw new ComponentError(
      'cell',
      `the Kubernetes binaries are not built (or are stale): run tools/kube/build.sh or ./dev setup (${check.stderr.trim() || 'cache incomplete'})`,
    );
  }
  const dir = spawnSync('bash', [BUILD_SCRIPT, '--print-dir'], { encoding: 'utf8' }).stdout.trim();
  cached = dir;
  return dir;
}

/** Absolute path of one Kubernetes binary. */
export function kubeBinary(name: KubeBinary): string {
  const path = join(kubeBinDir(), name);
  if (!existsSync(path)) throw new ComponentError('cell', `${path} is missing: run tools/kube/build.sh`);
  return path;
}
