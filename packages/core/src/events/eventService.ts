import type { ApplicationEvent, FeedQuery, Page } from '@leengine/common';
import { loadApplication } from '../applications/loadApplication.ts';
import type { Caller } from '../auth/caller.ts';
import type { Database } from '../db/database.ts';
import { listEvents } from './eventStore.ts';

/** An application's event list: Kubernetes events from its cells and the platform's own. */
export class EventService {
  readonly #db: Database;

  private constructor(deps: { db: Database }) {
    this.#db = deps.db;
  }

  static create(deps: { db: Database }): EventService {
    return new EventService(deps);
  }

  /** Newest (last seen) first. */
  async list(caller: Caller, application: string, query: FeedQuery): Promise<Page<ApplicationEvent>> {
    const { row } = await loadApplication(this.#db, caller, application, 'read');
    return listEvents(this.#db, row.id, query);
  }
}
