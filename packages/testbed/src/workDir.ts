import { accessSync, constants, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unmountUnder } from './mounts.ts';
import { unwatchTempDir, watchTempDir } from './reaper.ts';

export interface WorkDir {
  path: string;
  /** A persistent directory (given by the caller) is kept on stop. */
  persistent: boolean;
  remove(): void;
}

export interface WorkDirOptions {
  /** Use this directory (created if missing, kept on stop) instead of a temp dir. */
  dir?: string | undefined;
  /** Prefer a tmpfs (/dev/shm) for data that only needs to be fast. */
  tmpfs?: boolean;
}

function tmpfsBase(): string | undefined {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return undefined;
  }
}

/** A component's own directory: its config, data and log live here. */
export function makeWorkDir(component: string, options: WorkDirOptions = {}): WorkDir {
  if (options.dir) {
    mkdirSync(options.dir, { recursive: true });
    return { path: options.dir, persistent: true, remove: () => {} };
  }
  const base = process.env.LEENGINE_TESTBED_DIR ?? (options.tmpfs ? (tmpfsBase() ?? tmpdir()) : tmpdir());
  mkdirSync(base, { recursive: true });
  const path = mkdtempSync(join(base, `leengine-${component}-`));
  if (process.env.LEENGINE_TESTBED_KEEP !== '1') watchTempDir(path);
  return {
    path,
    persistent: false,
    remove: () => {
      if (process.env.LEENGINE_TESTBED_KEEP === '1') return;
      unmountUnder(path);
      rmSync(path, { recursive: true, force: true });
      unwatchTempDir(path);
    },
  };
}
