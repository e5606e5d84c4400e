import { setTimeout as sleep } from 'node:timers/promises';
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import type { Logger } from 'pino';

/** One key as read from etcd. */
export interface KeyState {
  key: string;
  value: string;
  modRevision: number;
}

/** A change seen by the watch: a put with its value, or a delete. */
export type KeyChange = { type: 'put'; kv: KeyState } | { type: 'delete'; key: string; modRevision: number };

export interface PrefixWatchOptions {
  client: Etcd3;
  prefix: string;
  log: Logger;
  /** The whole prefix as of `revision` (on start and after every re-list). */
  onReset(keys: KeyState[], revision: number): void;
  /** Changes of one etcd revision batch, in order; `revision` is the newest seen. */
  onChanges(changes: KeyChange[], revision: number): void;
  /** Delay before retrying after an error (default 200 ms, doubling up to 5 s). */
  backoffMs?: number;
  /**
   * The caller already holds the prefix as of this revision (kept from an earlier run):
   * watch from the next one instead of listing first. If etcd compacted it, or has not
   * reached it (another cluster), list.
   */
  fromRevision?: number;
}

/**
 * Lists a prefix, then watches it from the revision after the list. When the watch
 * breaks (etcd restarts, the connection drops) it resumes from the last revision it
 * delivered; when that revision was compacted away, or anything else goes wrong, it
 * lists again. The caller is level-based: `onReset` replaces its whole view.
 */
export class PrefixWatch {
  readonly #options: PrefixWatchOptions;
  #revision = 0;
  #stopped = false;
  #watcher: Watcher | undefined;
  #wake: (() => void) | undefined;
  readonly #done: Promise<void>;

  private constructor(options: PrefixWatchOptions) {
    this.#options = options;
    this.#done = this.#run();
  }

  static start(options: PrefixWatchOptions): PrefixWatch {
    return new PrefixWatch(options);
  }

  /** The newest revision delivered to the callbacks (0 before the first list). */
  get revision(): number {
    return this.#revision;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#watcher?.cancel().catch(() => {});
    await this.#done;
  }

  async #run(): Promise<void> {
    const { log, prefix } = this.#options;
    const initialBackoff = this.#options.backoffMs ?? 200;
    let backoff = initialBackoff;
    let needList = this.#options.fromRevision === undefined;
    let checkHead = !needList;
    if (!needList) this.#revision = this.#options.fromRevision ?? 0;
    while (!this.#stopped) {
      try {
        if (checkHead) {
          // A revision etcd has not reached yet means another cluster (its data replaced):
          // a watch would wait for it in vain.
          const head = Number((await this.#options.client.get(prefix).exec()).header.revision);
          if (head < this.#revision) needList = true;
          checkHead = false;
        }
        if (needList) {
          const response = await this.#options.client.getAll().prefix(prefix).exec();
          const revision = Number(response.header.revision);
          this.#revision = revision;
          this.#options.onReset(response.kvs.map(toKeyState), revision);
          needList = false;
        }
        const outcome = await this.#watchOnce();
        if (outcome === 'relist') needList = true;
        backoff = initialBackoff;
      } catch (error) {
        if (this.#stopped) break;
        log.warn({ prefix, err: error, backoffMs: backoff }, 'etcd list/watch failed; retrying');
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 5000);
        needList = true;
      }
    }
  }

  /**
   * One watcher from the revision after the last delivered one. The etcd3 client
   * reconnects a broken stream by itself; we keep its resume point at our own revision
   * (it would otherwise take the stream's header revision, which can run ahead of the
   * events delivered so far). Resolves 'relist' when etcd cancels the watch.
   */
  #watchOnce(): Promise<'relist' | 'stopped'> {
    const { client, prefix, log } = this.#options;
    const watcher = client
      .watch()
      .prefix(prefix)
      .startRevision(String(this.#revision + 1))
      .watcher();
    this.#watcher = watcher;
    const keepResumePoint = () => {
      watcher.request.start_revision = String(this.#revision + 1);
    };
    watcher.on('connected', keepResumePoint);
    watcher.on('data', (response) => {
      const changes: KeyChange[] = [];
      let newest = this.#revision;
      for (const event of response.events) {
        const modRevision = Number(event.kv.mod_revision);
        newest = Math.max(newest, modRevision);
        if (event.type === 'Put') changes.push({ type: 'put', kv: toKeyState(event.kv) });
        else changes.push({ type: 'delete', key: event.kv.key.toString(), modRevision });
      }
      // A progress notification (no events) says everything up to its header revision was sent.
      if (response.events.length === 0) newest = Math.max(newest, Number(response.header.revision));
      this.#revision = newest;
      keepResumePoint();
      if (changes.length > 0) this.#options.onChanges(changes, newest);
    });
    watcher.on('disconnected', (error: unknown) => {
      log.warn({ prefix, err: error, resumeFrom: this.#revision + 1 }, 'etcd watch disconnected; resuming');
    });
    return new Promise((resolve) => {
      this.#wake = () => resolve('stopped');
      watcher.once('error', (error: unknown) => {
        log.warn({ prefix, err: error }, 'etcd watch canceled; listing again');
        void watcher.cancel().catch(() => {});
        resolve('relist');
      });
    });
  }
}

function toKeyState(kv: IKeyValue): KeyState {
  return { key: kv.key.toString(), value: kv.value.toString(), modRevision: Number(kv.mod_revision) };
}
