import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { ComponentError } from './componentError.ts';
import { unwatchProcessGroup, watchProcessGroup } from './reaper.ts';

export interface ProcessOptions {
  /** Component name, used in errors and logs. */
  component: string;
  /** Executable path and arguments: never a shell string. */
  argv: [string, ...string[]];
  cwd: string;
  /** Both stdout and stderr are appended here. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  /** Run as this unprivileged user (when root); PostgreSQL refuses to run as root. */
  user?: string;
  /** Signal for an orderly stop (PostgreSQL: SIGINT = fast shutdown). */
  stopSignal?: NodeJS.Signals;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * One component's process, in its own process group so the whole tree (nginx workers,
 * PostgreSQL backends) stops together, watched by the reaper so none outlives us.
 */
export class ManagedProcess {
  readonly component: string;
  readonly logFile: string;
  readonly pid: number;
  /** Resolves when the process has exited, for whatever reason. */
  readonly exited: Promise<ExitStatus>;
  #child: ChildProcess;
  #exitStatus: ExitStatus | undefined;
  #stopSignal: NodeJS.Signals;

  private constructor(options: ProcessOptions, child: ChildProcess, pid: number) {
    this.component = options.component;
    this.logFile = options.logFile;
    this.pid = pid;
    this.#child = child;
    this.#stopSignal = options.stopSignal ?? 'SIGTERM';
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exitStatus = { code, signal };
        resolve(this.#exitStatus);
      });
    });
  }

  /** Starts the process; throws a ComponentError if it cannot be spawned at all. */
  static start(options: ProcessOptions): ManagedProcess {
    const [file, ...args] = wrapForUser(options.argv, options.user);
    const fd = openSync(options.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(file, args, {
        cwd: options.cwd,
        env: options.env ?? process.env,
        detached: true,
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    if (child.pid === undefined) {
      throw new ComponentError(options.component, `could not spawn ${options.argv[0]}`);
    }
    child.on('error', () => {});
    child.unref();
    watchProcessGroup(child.pid);
    const managed = new ManagedProcess(options, child, child.pid);
    void managed.exited.then(() => {
      // The group may still hold children; they go with the leader.
      killGroup(managed.pid, 'SIGKILL');
      unwatchProcessGroup(managed.pid);
    });
    return managed;
  }

  /** The exit status if the process has exited. */
  get exitStatus(): ExitStatus | undefined {
    return this.#exitStatus;
  }

  /** The last lines of the component's log. */
  tail(lines = 40): string {
    return tailFile(this.logFile, lines);
  }

  /** Orderly stop, then SIGKILL to the whole group after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.#exitStatus) return;
    // Keep the event loop alive until the exit is seen, however long the grace period.
    this.#child.ref();
    killGroup(this.pid, this.#stopSignal);
    const timer = setTimeout(() => killGroup(this.pid, 'SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Sends a signal to the process itself (e.g. SIGHUP for nginx's reload). */
  signal(signal: NodeJS.Signals): void {
    this.#child.kill(signal);
  }
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone
  }
}

function wrapForUser(argv: [string, ...string[]], user: string | undefined): [string, ...string[]] {
  if (!user || process.getuid?.() !== 0) return argv;
  return ['setpriv', `--reuid=${user}`, `--regid=${user}`, '--init-groups', '--', ...argv];
}

/** The last `lines` lines of a file (reads at most its last 64 KiB). */
export function tailFile(path: string, lines: number): string {
  let fd: number | undefined;
  try {
    const size = statSync(path).size;
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    fd = openSync(path, 'r');
    readSync(fd, buffer, 0, length, size - length);
    return buffer
      .toString('utf8')
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
