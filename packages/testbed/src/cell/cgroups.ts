import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

const CGROUP_ROOT = '/sys/fs/cgroup';

function isV2(): boolean {
  return existsSync(join(CGROUP_ROOT, 'cgroup.controllers'));
}

/** The cgroup hierarchies (v1: one per controller; v2: the unified one). */
function hierarchies(): string[] {
  if (isV2()) return [CGROUP_ROOT];
  return readdirSync(CGROUP_ROOT)
    .map((d) => join(CGROUP_ROOT, d))
    .filter((d) => !d.endsWith('/unified') && statSync(d).isDirectory());
}

/**
 * Creates a cgroup (in every hierarchy) to be a kubelet's `cgroupRoot`, so two kubelets
 * on one machine never share `kubepods`. cpuset's cpus/mems are copied from the parent,
 * since a v1 cpuset cgroup accepts no task until they are set.
 */
export function createCgroup(name: string): void {
  for (const hierarchy of hierarchies()) {
    const dir = join(hierarchy, name);
    mkdirSync(dir, { recursive: true });
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      const parent = join(hierarchy, file);
      if (!isV2() && existsSync(parent) && readFileSync(join(dir, file), 'utf8').trim() === '') {
        writeFileSync(join(dir, file), readFileSync(parent, 'utf8'));
      }
    }
  }
}

/**
 * Removes a cgroup tree bottom-up (empty cgroups only: processes must be gone), in every
 * hierarchy, and in hybrid mode also in the unified one: testbed does not create it
 * there, but the kubelet and runc do (`<name>/kubepods/...`).
 */
export function removeCgroup(name: string): void {
  for (const dir of cgroupDirs(name)) removeTree(dir);
}

/** Where a cgroup of this name may exist: every hierarchy, the hybrid unified one too. */
export function cgroupDirs(name: string): string[] {
  const unified = join(CGROUP_ROOT, 'unified');
  const extra = !isV2() && existsSync(join(unified, 'cgroup.controllers')) ? [unified] : [];
  return [...hierarchies(), ...extra].map((h) => join(h, name)).filter((d) => existsSync(d));
}

function removeTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) removeTree(join(dir, entry.name));
  }
  try {
    rmdirSync(dir);
  } catch {
    // still busy: a process lingers; the next cell start with this name reuses it
  }
}

/** Moves a process into a cgroup (every hierarchy); its later children are born there. */
export function moveToCgroup(pid: number, name: string): void {
  for (const hierarchy of hierarchies()) {
    const procs = join(hierarchy, name, 'cgroup.procs');
    if (existsSync(procs)) writeFileSync(procs, String(pid));
  }
}

/** The directory whose `cgroup.procs` files list every process of a cgroup tree. */
export function cgroupKillDir(name: string): string {
  return isV2() ? join(CGROUP_ROOT, name) : join(CGROUP_ROOT, 'pids', name);
}

/**
 * SIGKILLs every process in a cgroup tree (containers, containerd's shims, which
 * daemonize out of any process group) until it is empty.
 */
export async function killCgroup(name: string): Promise<void> {
  const dir = cgroupKillDir(name);
  for (let round = 0; round < 100; round++) {
    const pids = procsIn(dir);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

function procsIn(dir: string): number[] {
  if (!existsSync(dir)) return [];
  const pids: number[] = [];
  const procs = join(dir, 'cgroup.procs');
  if (existsSync(procs)) {
    pids.push(...readFileSync(procs, 'utf8').split('\n').filter(Boolean).map(Number));
  }
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) pids.push(...procsIn(join(dir, entry.name)));
  }
  return pids;
}
