import { createHash } from 'node:crypto';
import { type FSWatcher, readdirSync, readFileSync, watch } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { DiscoveryCell } from './discovery.ts';

/** A cell's name: a DNS label, as core names cells. */
export const CELL_NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const SUFFIX = '.kubeconfig';

/**
 * Reads a directory of `<cell>.kubeconfig` files: one cell per file. Other names are
 * ignored (editors' and writers' temp files among them: write a new file beside it and
 * rename it over the old one). A file that is not a usable kubeconfig is skipped and
 * named in `errors`.
 */
export function readCellsDir(dir: string): {
  cells: DiscoveryCell[];
  errors: { cell: string; error: string }[];
} {
  const cells: DiscoveryCell[] = [];
  const errors: { cell: string; error: string }[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith(SUFFIX)) continue;
    const name = file.slice(0, -SUFFIX.length);
    if (!CELL_NAME.test(name)) {
      errors.push({ cell: name, error: `${file}: the cell name must be a DNS label` });
      continue;
    }
    try {
      const text = readFileSync(join(dir, file), 'utf8');
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromString(text);
      if (!kubeConfig.getCurrentCluster()) throw new Error('no current cluster');
      cells.push({ name, kubeConfig, fingerprint: createHash('sha256').update(text).digest('hex') });
    } catch (error) {
      errors.push({ cell: name, error: `${file}: ${(error as Error).message}` });
    }
  }
  return { cells, errors };
}

/**
 * Follows a cells directory: calls `apply` with the whole set at start and after every
 * change (file events, and a rescan every `rescanMs` in case an event was missed), one
 * call at a time. A cell whose file became unreadable keeps its last good kubeconfig.
 */
export class CellsDirWatch {
  readonly #dir: string;
  readonly #apply: (cells: DiscoveryCell[]) => Promise<void>;
  readonly #log: Logger;
  readonly #watcher: FSWatcher;
  readonly #timer: NodeJS.Timeout;
  #last = new Map<string, DiscoveryCell>();
  #running: Promise<void> = Promise.resolve();
  #debounce: NodeJS.Timeout | undefined;
  #stopped = false;

  private constructor(
    dir: string,
    apply: (cells: DiscoveryCell[]) => Promise<void>,
    log: Logger,
    rescanMs: number,
  ) {
    this.#dir = dir;
    this.#apply = apply;
    this.#log = log;
    this.#watcher = watch(dir, () => {
      clearTimeout(this.#debounce);
      this.#debounce = setTimeout(() => void this.rescan(), 100);
    });
    this.#watcher.on('error', (error) =>
      this.#log.warn({ err: error, dir }, 'watching the cells dir failed'),
    );
    this.#timer = setInterval(() => void this.rescan(), rescanMs);
    this.#timer.unref();
  }

  static async start(options: {
    dir: string;
    apply: (cells: DiscoveryCell[]) => Promise<void>;
    log: Logger;
    rescanMs?: number;
  }): Promise<CellsDirWatch> {
    const watcher = new CellsDirWatch(options.dir, options.apply, options.log, options.rescanMs ?? 10_000);
    await watcher.rescan();
    return watcher;
  }

  /** Reads the directory again and applies it if anything changed. */
  rescan(): Promise<void> {
    this.#running = this.#running.then(async () => {
      if (this.#stopped) return;
      let read: ReturnType<typeof readCellsDir>;
      try {
        read = readCellsDir(this.#dir);
      } catch (error) {
        this.#log.error({ err: error, dir: this.#dir }, 'cannot read the cells dir; cells unchanged');
        return;
      }
      const next = new Map(read.cells.map((c) => [c.name, c]));
      for (const { cell, error } of read.errors) {
        this.#log.warn({ dir: this.#dir, error }, 'cell file skipped');
        const kept = this.#last.get(cell);
        if (kept && !next.has(cell)) next.set(cell, kept);
      }
      const same =
        next.size === this.#last.size &&
        [...next].every(([name, c]) => this.#last.get(name)?.fingerprint === c.fingerprint);
      if (same) return;
      this.#last = next;
      try {
        await this.#apply([...next.values()]);
      } catch (error) {
        this.#log.error({ err: error }, 'applying the cells failed');
      }
    });
    return this.#running;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#debounce);
    clearInterval(this.#timer);
    this.#watcher.close();
    await this.#running;
  }
}
