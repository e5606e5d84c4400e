import { type CoreV1Event, toCellEvent } from '@leengine/kube';
import type { Logger } from 'pino';
import type { Database } from '../db/database.ts';
import { pruneEvents, upsertEvent } from '../events/eventStore.ts';

/** Events kept per application; older ones are pruned now and then. */
const KEEP = 2000;
const ID_TTL_MS = 10_000;

/**
 * Writes the Kubernetes events of application namespaces, from every cell's event watch,
 * into the applications' event lists. Writes are serialized; a namespace that is no
 * application is remembered briefly and skipped.
 */
export class EventCollector {
  readonly #db: Database;
  readonly #logger: Logger;
  readonly #ids = new Map<string, { id: number | null; until: number }>();
  readonly #writes = new Map<number, number>();
  #queue: Promise<void> = Promise.resolve();

  constructor(deps: { db: Database; logger: Logger }) {
    this.#db = deps.db;
    this.#logger = deps.logger;
  }

  add(cell: string, event: CoreV1Event): void {
    const namespace = event.metadata?.namespace ?? event.involvedObject.namespace;
    if (!namespace || !event.metadata?.uid) return;
    this.#queue = this.#queue.then(() => this.#write(cell, namespace, event));
  }

  /** Resolves once everything added so far is written. */
  flushed(): Promise<void> {
    return this.#queue;
  }

  async #write(cell: string, namespace: string, event: CoreV1Event): Promise<void> {
    try {
      const applicationId = await this.#applicationId(namespace);
      if (applicationId === null) return;
      const e = toCellEvent(cell, event);
      await upsertEvent(this.#db, applicationId, {
        cell,
        uid: e.uid,
        type: e.type,
        reason: e.reason,
        message: e.message,
        object: e.object,
        count: e.count,
        at: e.lastSeen ? new Date(e.lastSeen) : new Date(),
      });
      const n = (this.#writes.get(applicationId) ?? 0) + 1;
      this.#writes.set(applicationId, n % 500);
      if (n % 500 === 0) await pruneEvents(this.#db, applicationId, KEEP);
    } catch (error) {
      this.#logger.warn({ err: error, cell, namespace }, 'could not record an event');
    }
  }

  async #applicationId(name: string): Promise<number | null> {
    const cached = this.#ids.get(name);
    if (cached && cached.until > Date.now()) return cached.id;
    const [row] = await this.#db.query<{ id: number }>('select id from applications where name = $1', [name]);
    const id = row?.id ?? null;
    this.#ids.set(name, { id, until: Date.now() + ID_TTL_MS });
    return id;
  }
}
