import { spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NginxControl } from './nginxControl.ts';

/** The Lua modules shipped with this package (copied into every generation). */
export const LUA_DIR = join(import.meta.dirname, '..', '..', 'lua');

export interface NginxRuntimeOptions {
  /** nginx's prefix: generations, live symlink, pid file, control socket, temp dirs, logs. */
  root: string;
  binary: string;
}

/** One staged generation: the whole config tree nginx -t checks and `live` points to. */
export interface Generation {
  id: string;
  dir: string;
}

/** The outcome of `nginx -t`. */
export interface TestResult {
  ok: boolean;
  output: string;
}

/**
 * The files and process of one SLB host's nginx, laid out as
 *
 *   <root>/live -> gens/<id>      the live generation (nginx runs `-c <root>/live/nginx.conf`)
 *   <root>/gens/<id>/             nginx.conf, lua/, domains/<domain>.conf
 *   <root>/nginx.pid, control.sock, logs/, tmp/
 *
 * A generation is written once and never changed; the swap is one rename of a symlink,
 * so nginx (on reload or a restart) reads either the old tree or the new, never a mix.
 */
export class NginxRuntime {
  readonly root: string;
  readonly binary: string;
  readonly control: NginxControl;

  private constructor(options: NginxRuntimeOptions) {
    this.root = options.root;
    this.binary = options.binary;
    this.control = NginxControl.create(this.controlSocket);
  }

  static create(options: NginxRuntimeOptions): NginxRuntime {
    return new NginxRuntime(options);
  }

  /**
   * nginx makes unix sockets world-writable (0666); the socket sits in a dir only root
   * may enter, so only root (the agent) reaches it. Workers use the inherited fd.
   */
  get controlSocket(): string {
    return join(this.root, 'control', 'control.sock');
  }

  get liveConfig(): string {
    return join(this.root, 'live', 'nginx.conf');
  }

  get pidFile(): string {
    return join(this.root, 'nginx.pid');
  }

  /** Creates the dirs nginx needs (temp dirs writable by the workers' user). */
  ensureLayout(dropPrivileges: boolean): void {
    mkdirSync(this.root, { recursive: true });
    // Workers (nobody) must reach their temp dirs: traverse only, no listing.
    if (dropPrivileges) chmodSync(this.root, 0o711);
    for (const d of ['gens', 'logs']) mkdirSync(join(this.root, d), { recursive: true });
    mkdirSync(join(this.root, 'control'), { recursive: true, mode: 0o700 });
    chmodSync(join(this.root, 'control'), 0o700);
    for (const d of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
      const dir = join(this.root, 'tmp', d);
      mkdirSync(dir, { recursive: true });
      if (dropPrivileges) chownSync(dir, 65534, 65534);
    }
  }

  /** The live generation's id, if there is one. */
  liveGeneration(): Generation | undefined {
    try {
      const target = readlinkSync(join(this.root, 'live'));
      const id = target.split('/').pop() ?? '';
      return { id, dir: join(this.root, 'gens', id) };
    } catch {
      return undefined;
    }
  }

  /** The live generation's domain files: domain -> text. */
  liveDomains(): Map<string, string> {
    const live = this.liveGeneration();
    const files = new Map<string, string>();
    if (!live) return files;
    const dir = join(live.dir, 'domains');
    for (const name of existsSync(dir) ? readdirSync(dir) : []) {
      if (name.endsWith('.conf'))
        files.set(name.slice(0, -'.conf'.length), readFileSync(join(dir, name), 'utf8'));
    }
    return files;
  }

  /** The live generation's nginx.conf text ('' when none). */
  liveMain(): string {
    const live = this.liveGeneration();
    if (!live) return '';
    try {
      return readFileSync(join(live.dir, 'nginx.conf'), 'utf8');
    } catch {
      return '';
    }
  }

  genDir(id: string): string {
    return join(this.root, 'gens', id);
  }

  /**
   * Writes a generation. Domain files equal to the live ones are hard-linked instead of
   * written (a generation is immutable, so sharing inodes is safe); 5,000 domains with
   * one change cost one write.
   */
  stage(
    id: string,
    main: string,
    domains: ReadonlyMap<string, string>,
    live: ReadonlyMap<string, string>,
  ): Generation {
    const dir = this.genDir(id);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, 'domains'), { recursive: true });
    cpSync(LUA_DIR, join(dir, 'lua'), { recursive: true });
    const liveGen = this.liveGeneration();
    for (const [domain, text] of domains) {
      const target = join(dir, 'domains', `${domain}.conf`);
      if (liveGen && live.get(domain) === text) {
        try {
          linkSync(join(liveGen.dir, 'domains', `${domain}.conf`), target);
          continue;
        } catch {
          // fall through: write it
        }
      }
      writeFileSync(target, text);
    }
    writeFileSync(join(dir, 'nginx.conf'), main);
    return { id, dir };
  }

  /** `nginx -t` on a staged generation's full config (argv, never a shell). */
  test(generation: Generation): Promise<TestResult> {
    return new Promise((resolve) => {
      const child = spawn(
        this.binary,
        ['-t', '-q', '-p', this.root, '-c', join(generation.dir, 'nginx.conf')],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
      child.on('error', (error) => resolve({ ok: false, output: String(error) }));
      child.on('close', (code) => resolve({ ok: code === 0, output: output.trim() }));
    });
  }

  /** Points `live` at the generation: one atomic rename. */
  swap(generation: Generation): void {
    const tmp = join(this.root, `live.${process.pid}.tmp`);
    rmSync(tmp, { force: true });
    symlinkSync(join('gens', generation.id), tmp);
    renameSync(tmp, join(this.root, 'live'));
  }

  /** The master's PID from its pid file, if it runs. */
  masterPid(): number | undefined {
    try {
      const pid = Number(readFileSync(this.pidFile, 'utf8').trim());
      if (!Number.isInteger(pid) || pid <= 0) return undefined;
      process.kill(pid, 0);
      return pid;
    } catch {
      return undefined;
    }
  }

  /**
   * Reloads the master (SIGHUP) and waits until workers of the new generation answer on
   * the control socket (each probe on a new connection, so it reaches a new worker) and
   * every old worker has stopped accepting (it is gone or "shutting down": until then it
   * may still take a new connection and answer with the old config).
   */
  async reload(generation: Generation, timeoutMs = 10_000): Promise<void> {
    const pid = this.masterPid();
    if (pid === undefined) throw new Error(`nginx is not running (no live pid in ${this.pidFile})`);
    const oldWorkers = workerPids(pid);
    process.kill(pid, 'SIGHUP');
    await this.waitForGeneration(generation.id, timeoutMs);
    const deadline = Date.now() + timeoutMs;
    while (oldWorkers.some(acceptsConnections)) {
      if (Date.now() > deadline) throw new Error(`old nginx workers still accept after ${timeoutMs} ms`);
      await sleep(2);
    }
  }

  /** The master's current worker processes (none when nginx is not running). */
  workerPids(): number[] {
    const pid = this.masterPid();
    return pid === undefined ? [] : workerPids(pid);
  }

  async waitForGeneration(id: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      last = await this.control.generation().catch((error: unknown) => String(error));
      if (last === id) return;
      await sleep(5);
    }
    throw new Error(`nginx did not serve generation ${id} within ${timeoutMs} ms (last answer: ${last})`);
  }

  /** Removes generations other than the live one and the `keep` newest. */
  prune(keep = 2): void {
    const live = this.liveGeneration()?.id;
    const ids = readdirSync(join(this.root, 'gens')).sort(byGenerationNumber);
    const old = ids.slice(0, Math.max(0, ids.length - keep)).filter((id) => id !== live);
    for (const id of old) rmSync(this.genDir(id), { recursive: true, force: true });
  }

  /** The highest generation number on disk (generations are `g<number>`). */
  lastGenerationNumber(): number {
    const ids = existsSync(join(this.root, 'gens')) ? readdirSync(join(this.root, 'gens')) : [];
    return Math.max(0, ...ids.map(generationNumber));
  }
}

function workerPids(master: number): number[] {
  try {
    return readFileSync(`/proc/${master}/task/${master}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** A worker accepts until it exits or nginx retitles it "worker process is shutting down". */
function acceptsConnections(pid: number): boolean {
  try {
    const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return title.includes('worker process') && !title.includes('shutting down');
  } catch {
    return false;
  }
}

function generationNumber(id: string): number {
  const n = Number(id.replace(/^g/, ''));
  return Number.isFinite(n) ? n : 0;
}

function byGenerationNumber(a: string, b: string): number {
  return generationNumber(a) - generationNumber(b);
}

/** Domain files named in `nginx -t` output (`.../domains/<domain>.conf:<line>`). */
export function domainsInTestOutput(output: string): string[] {
  const found = new Set<string>();
  for (const match of output.matchAll(/\/domains\/([^/\s:]+)\.conf:\d+/g)) if (match[1]) found.add(match[1]);
  return [...found];
}
