import { type ChildProcess, spawn } from 'node:child_process';

/**
 * A guardian process that kills every component's process group when this process
 * dies, however it dies (exit, exception, Ctrl-C, SIGKILL): it holds the read end of
 * a pipe, and a pipe's end-of-file is the one signal no death can skip. It also
 * removes the temp dirs that were not removed in order.
 */
const GUARDIAN = `
groups=" "
declare -A dirs=()
declare -A cgroups=()
while IFS= read -r line; do
  case "$line" in
    +*) groups="$groups\${line#+} " ;;
    -*) groups="\${groups/ \${line#-} / }" ;;
    d+*) dirs["\${line#d+}"]=1 ;;
    d-*) unset "dirs[\${line#d-}]" ;;
    c+*) cgroups["\${line#c+}"]=1 ;;
    c-*) unset "cgroups[\${line#c-}]" ;;
  esac
done
# Cgroups first: containerd's shims and the containers daemonize out of every group.
for round in 1 2 3 4 5; do
  for c in "\${!cgroups[@]}"; do
    find /sys/fs/cgroup -path "*/$c/*" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -KILL 2>/dev/null
    find /sys/fs/cgroup -path "*/$c" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -KILL 2>/dev/null
  done
  [ \${#cgroups[@]} -eq 0 ] && break
  sleep 0.2
done
for c in "\${!cgroups[@]}"; do
  find /sys/fs/cgroup -depth -type d -path "*/$c*" -exec rmdir {} + 2>/dev/null
done
for g in $groups; do kill -TERM -- "-$g" 2>/dev/null; done
[ "$groups" = " " ] || sleep 2
for g in $groups; do kill -KILL -- "-$g" 2>/dev/null; done
for d in "\${!dirs[@]}"; do
  # A kubelet's and containerd's mounts stay behind them; a mounted dir cannot be removed.
  for i in 1 2 3; do
    awk -v d="$d" '$5 == d || index($5, d "/") == 1 { print length($5), $5 }' /proc/self/mountinfo |
      sort -rn | cut -d' ' -f2- | xargs -r -n1 umount -l 2>/dev/null
  done
  rm -rf -- "$d"
done
`;

let guardian: ChildProcess | undefined;

function ensureGuardian(): ChildProcess {
  if (guardian) return guardian;
  // detached: its own session, so a terminal's Ctrl-C does not end it before it did its job.
  const child = spawn('bash', ['-c', GUARDIAN], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  child.unref();
  const stdin = child.stdin;
  if (!stdin) throw new Error('testbed: could not open the guardian pipe');
  // The pipe must not keep this process alive; it closes when the process goes.
  (stdin as unknown as { unref?: () => void }).unref?.();
  stdin.on('error', () => {});
  guardian = child;
  return child;
}

/** Puts a process group under the guardian's watch. */
export function watchProcessGroup(pgid: number): void {
  ensureGuardian().stdin?.write(`+${pgid}\n`);
}

/** Has the guardian remove a temp dir if this process dies before removing it. */
export function watchTempDir(path: string): void {
  if (path.includes('\n')) return;
  ensureGuardian().stdin?.write(`d+${path}\n`);
}

/** The temp dir was removed in order: the guardian can forget it. */
export function unwatchTempDir(path: string): void {
  guardian?.stdin?.write(`d-${path}\n`);
}

/**
 * Has the guardian kill every process of a cgroup (by name, in every hierarchy) and
 * remove it. Names are testbed-made (`leengine-<cell>-<hex>`): no glob characters.
 */
export function watchCgroup(name: string): void {
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`unsafe cgroup name: ${name}`);
  ensureGuardian().stdin?.write(`c+${name}\n`);
}

/** The cgroup was emptied and removed in order. */
export function unwatchCgroup(name: string): void {
  guardian?.stdin?.write(`c-${name}\n`);
}

/** Takes a process group off the guardian's watch once it is gone. */
export function unwatchProcessGroup(pgid: number): void {
  guardian?.stdin?.write(`-${pgid}\n`);
}
