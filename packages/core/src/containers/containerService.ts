import type { Readable } from 'node:stream';
import { type ContainerList, NotFoundError, UnavailableError } from '@leengine/common';
import { statusCode } from '@leengine/kube';
import { loadApplication } from '../applications/loadApplication.ts';
import { placementsOf } from '../applications/placementStore.ts';
import type { Caller } from '../auth/caller.ts';
import type { Database } from '../db/database.ts';
import type { CellAccess } from '../runtime/cellAccess.ts';

/** What runs of an application right now, read from its cells: containers and their logs. */
export class ContainerService {
  readonly #db: Database;
  readonly #cells: CellAccess;

  private constructor(deps: { db: Database; cells: CellAccess }) {
    this.#db = deps.db;
    this.#cells = deps.cells;
  }

  static create(deps: { db: Database; cells: CellAccess }): ContainerService {
    return new ContainerService(deps);
  }

  /** Every container in every cell (cell, node, pod IP, version, state); cells that do not answer are named. */
  async list(caller: Caller, application: string): Promise<ContainerList> {
    const { row } = await loadApplication(this.#db, caller, application, 'read');
    const placements = await placementsOf(this.#db, row.id);
    const result: ContainerList = { items: [], unreachableCells: [] };
    await Promise.all(
      placements.map(async (p) => {
        const client = this.#cells.client(p.cell);
        if (!client) {
          result.unreachableCells.push({ cell: p.cell, error: 'not connected' });
          return;
        }
        try {
          result.items.push(...(await client.containers(row.name)));
        } catch (error) {
          result.unreachableCells.push({ cell: p.cell, error: (error as Error).message });
        }
      }),
    );
    result.items.sort(
      (a, b) =>
        a.cell.localeCompare(b.cell) || a.version.localeCompare(b.version) || a.name.localeCompare(b.name),
    );
    return result;
  }

  /** The last `tail` lines of a container's log. */
  async tail(caller: Caller, application: string, cell: string, pod: string, tail: number): Promise<string> {
    const client = await this.#client(caller, application, cell);
    try {
      return await client.logs(application, pod, tail);
    } catch (error) {
      throw this.#error(error, application, cell, pod);
    }
  }

  /** A container's log from its last `tail` lines on, following it; destroy the stream to stop. */
  async follow(
    caller: Caller,
    application: string,
    cell: string,
    pod: string,
    tail: number,
  ): Promise<Readable> {
    const client = await this.#client(caller, application, cell);
    try {
      return await client.followLogs(application, pod, tail);
    } catch (error) {
      throw this.#error(error, application, cell, pod);
    }
  }

  async #client(caller: Caller, application: string, cell: string) {
    const { row } = await loadApplication(this.#db, caller, application, 'logs');
    const placed = (await placementsOf(this.#db, row.id)).some((p) => p.cell === cell);
    if (!placed) throw new NotFoundError(`${application} does not run in cell "${cell}"`);
    const client = this.#cells.client(cell);
    if (!client) throw new UnavailableError(`cell ${cell} is not connected`);
    return client;
  }

  #error(error: unknown, application: string, cell: string, pod: string): Error {
    const status = statusCode(error) ?? (error as { statusCode?: number }).statusCode;
    if (status === 404 || status === 400) {
      return new NotFoundError(
        `container ${pod} of ${application} not found in ${cell} (or it has no log yet)`,
      );
    }
    return new UnavailableError(`cell ${cell} did not answer: ${(error as Error).message}`, { cause: error });
  }
}
