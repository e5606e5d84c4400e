import { setTimeout as sleep } from 'node:timers/promises';
import { type KubeConfig, Watch } from '@kubernetes/client-node';
import type { Logger } from 'pino';

/** One page of a list call. */
export interface ListPage<O> {
  items: O[];
  metadata?: { resourceVersion?: string; _continue?: string };
}

export interface ReflectorOptions<O, T> {
  kubeConfig: KubeConfig;
  /** The watch path, e.g. `/api/v1/pods` (all namespaces). */
  path: string;
  labelSelector: string;
  /** One page of the list (the typed client's list call). */
  list(params: { labelSelector: string; limit: number; _continue?: string }): Promise<ListPage<O>>;
  /** What to keep of an object (small: thousands are held), keyed by `namespace/name`. */
  project(object: O): T;
  /** Called after every change the reflector records, and after each (re-)list. */
  onChange(key: string, before: T | undefined, after: T | undefined): void;
  onSynced?(): void;
  log: Logger;
  pageSize?: number;
}

interface Meta {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

/**
 * List, then watch from the list's resourceVersion, keeping a small projection of each
 * object. A broken watch resumes from the last resourceVersion seen (bookmarks keep it
 * fresh); "410 Gone" (too old) lists again and reports the differences.
 */
export class Reflector<O extends Meta, T> {
  readonly items = new Map<string, T>();
  readonly #options: ReflectorOptions<O, T>;
  #resourceVersion = '';
  #abort: AbortController | undefined;
  #stopped = false;
  #synced = false;
  readonly #done: Promise<void>;

  private constructor(options: ReflectorOptions<O, T>) {
    this.#options = options;
    this.#done = this.#run();
  }

  static start<O extends Meta, T>(options: ReflectorOptions<O, T>): Reflector<O, T> {
    return new Reflector(options);
  }

  get synced(): boolean {
    return this.#synced;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort?.abort();
    await this.#done;
  }

  async #run(): Promise<void> {
    const { log, path } = this.#options;
    let needList = true;
    let backoff = 200;
    while (!this.#stopped) {
      try {
        if (needList) {
          await this.#list();
          needList = false;
        }
        const outcome = await this.#watch();
        if (outcome === 'gone') needList = true;
        backoff = 200;
      } catch (error) {
        if (this.#stopped) break;
        log.warn({ path, err: error, backoffMs: backoff }, 'list/watch failed; retrying');
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }

  async #list(): Promise<void> {
    const { list, labelSelector, project, onChange } = this.#options;
    const seen = new Map<string, T>();
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const page = await list({
        labelSelector,
        limit: this.#options.pageSize ?? 500,
        ...(cont ? { _continue: cont } : {}),
      });
      for (const item of page.items) seen.set(keyOf(item), project(item));
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      cont = page.metadata?._continue || undefined;
    } while (cont);
    for (const [key, before] of this.items) {
      if (!seen.has(key)) {
        this.items.delete(key);
        onChange(key, before, undefined);
      }
    }
    for (const [key, after] of seen) {
      const before = this.items.get(key);
      this.items.set(key, after);
      onChange(key, before, after);
    }
    this.#resourceVersion = resourceVersion;
    if (!this.#synced) {
      this.#synced = true;
      this.#options.onSynced?.();
    }
  }

  #watch(): Promise<'gone' | 'ended'> {
    const { kubeConfig, path, labelSelector, project, onChange } = this.#options;
    return new Promise((resolve, reject) => {
      let gone = false;
      const watch = new Watch(kubeConfig);
      watch
        .watch(
          path,
          { labelSelector, resourceVersion: this.#resourceVersion, allowWatchBookmarks: true },
          (phase: string, object: O & { code?: number }) => {
            if (phase === 'ERROR') {
              if (object.code === 410) gone = true;
              this.#abort?.abort();
              return;
            }
            const rv = object.metadata?.resourceVersion;
            if (rv) this.#resourceVersion = rv;
            if (phase === 'BOOKMARK') return;
            const key = keyOf(object);
            const before = this.items.get(key);
            if (phase === 'DELETED') {
              this.items.delete(key);
              onChange(key, before, undefined);
            } else {
              const after = project(object);
              this.items.set(key, after);
              onChange(key, before, after);
            }
          },
          (error: unknown) => {
            if (gone || isGone(error)) resolve('gone');
            else if (error && !this.#stopped && !isAbort(error)) reject(error);
            else resolve('ended');
          },
        )
        .then((abort) => {
          this.#abort = abort;
          if (this.#stopped) abort.abort();
        }, reject);
    });
  }
}

function keyOf(object: Meta): string {
  return `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}

function isGone(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { statusCode?: number }).statusCode === 410;
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || /aborted/i.test(error.message));
}
