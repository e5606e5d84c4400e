import { type CellHandle, type CellOptions, startCell } from './cell/cell.ts';
import type { ComponentHandle } from './component.ts';
import { type EtcdHandle, type EtcdOptions, startEtcd } from './etcd.ts';
import { type NginxHandle, type NginxOptions, startNginx } from './nginx.ts';
import { type PostgresHandle, type PostgresOptions, startPostgres } from './postgres.ts';
import { type RegistryHandle, type RegistryOptions, startRegistry } from './registry.ts';

/**
 * A set of started components that stop together (in reverse start order), also on
 * Ctrl-C or SIGTERM. A test asks for what it needs; `stop()` ends them all.
 */
export class Testbed implements AsyncDisposable {
  readonly #components: ComponentHandle[] = [];
  readonly #handleSignals: boolean;
  #stopping: Promise<void> | undefined;

  /**
   * `handleSignals: false` leaves Ctrl-C and SIGTERM to the caller (a program with its
   * own orderly shutdown); the guardian still ends every component if the process dies.
   */
  constructor(options: { handleSignals?: boolean } = {}) {
    this.#handleSignals = options.handleSignals ?? true;
  }

  etcd(options?: EtcdOptions): Promise<EtcdHandle> {
    return this.#track(startEtcd(options));
  }

  postgres(options?: PostgresOptions): Promise<PostgresHandle> {
    return this.#track(startPostgres(options));
  }

  nginx(options?: NginxOptions): Promise<NginxHandle> {
    return this.#track(startNginx(options));
  }

  registry(options?: RegistryOptions): Promise<RegistryHandle> {
    return this.#track(startRegistry(options));
  }

  /** A Kubernetes cell (see startCell) on this testbed's etcd and registry. */
  cell(options: CellOptions): Promise<CellHandle> {
    return this.#track(startCell(options));
  }

  /** Adds a handle started elsewhere so it stops with the rest. */
  async add<T extends ComponentHandle>(started: Promise<T>): Promise<T> {
    return this.#track(started);
  }

  /** Every component started so far. */
  get components(): readonly ComponentHandle[] {
    return this.#components;
  }

  /** Log tails of every component, for a failed test's output. */
  logs(lines = 30): string {
    return this.#components
      .map((c) => `--- ${c.component} (${c.dir}) ---\n${c.logTail(lines).trimEnd()}`)
      .join('\n');
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      untrackForSignals(this);
      const all = [...this.#components].reverse();
      const results = await Promise.allSettled(all.map((c) => c.stop()));
      const failed = results.flatMap((r, i) =>
        r.status === 'rejected' ? [`${all[i]?.component}: ${r.reason}`] : [],
      );
      // Every component was tried; a failed cleanup is still an error the caller must see.
      if (failed.length > 0) throw new Error(`testbed: stopping failed for ${failed.join('; ')}`);
    })();
    return this.#stopping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  async #track<T extends ComponentHandle>(started: Promise<T>): Promise<T> {
    if (this.#handleSignals) trackForSignals(this);
    const handle = await started;
    this.#components.push(handle);
    return handle;
  }
}

const live = new Set<Testbed>();
let signalsInstalled = false;

function trackForSignals(testbed: Testbed): void {
  live.add(testbed);
  if (signalsInstalled) return;
  signalsInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      const code = 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1);
      void Promise.allSettled([...live].map((t) => t.stop())).then(() => process.exit(code));
    });
  }
}

function untrackForSignals(testbed: Testbed): void {
  live.delete(testbed);
}
