import type { Readable } from 'node:stream';
import {
  type ContainerList,
  type ExecRequest,
  type ExecResult,
  InputError,
  NotFoundError,
  UnavailableError,
} from '@leengine/common';
import { statusCode } from '@leengine/kube';
import type { ActivityService } from '../activity/activityService.ts';
import { loadApplication } from '../applications/loadApplication.ts';
import { placementsOf } from '../applications/placementStore.ts';
import type { Caller } from '../auth/caller.ts';
import type { Database, Queryable } from '../db/database.ts';
import type { CellAccess } from '../runtime/cellAccess.ts';

/** Output kept per stream of a command run in a container. */
const EXEC_MAX_BYTES = 1024 * 1024;

interface ContainerServiceDeps {
  db: Database;
  cells: CellAccess;
  activity: ActivityService;
}

/** What runs of an application right now, read from its cells: containers, logs, exec. */
export class ContainerService {
  readonly #db: Database;
  readonly #cells: CellAccess;
  readonly #activity: ActivityService;

  private constructor(deps: ContainerServiceDeps) {
    this.#db = deps.db;
    this.#cells = deps.cells;
    this.#activity = deps.activity;
  }

  static create(deps: ContainerServiceDeps): ContainerService {
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
        // A cell the health check found unreachable is not asked (it may hold the request
        // until the deadline): it is named at once, with why.
        const health = this.#cells.health(p.cell);
        if (health.state === 'unreachable') {
          result.unreachableCells.push({ cell: p.cell, error: `unreachable: ${health.message}` });
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

  /**
   * Runs a command in a container (role exec, Master and up), as `kubectl exec`. Who
   * ran what, where, is recorded in the activity feed before the command starts; the
   * run itself holds no transaction.
   */
  async exec(
    caller: Caller,
    application: string,
    cell: string,
    pod: string,
    input: ExecRequest,
  ): Promise<ExecResult> {
    const client = await this.#activity.change(
      caller,
      'exec',
      { cell, pod, command: input.command },
      async (tx, setTarget) => {
        const { row } = await loadApplication(tx, caller, application, 'exec', setTarget);
        return this.#placedClient(tx, row.id, application, cell);
      },
    );
    try {
      return await client.exec(application, pod, input.command, {
        timeoutMs: input.timeoutSeconds * 1000,
        maxBytes: EXEC_MAX_BYTES,
      });
    } catch (error) {
      const status = statusCode(error);
      if (status === 400) {
        throw new InputError(`the command could not run: ${(error as Error).message}`, [
          { in: 'body', path: 'command', message: `could not run: ${(error as Error).message}` },
        ]);
      }
      throw this.#error(error, application, cell, pod);
    }
  }

  async #client(caller: Caller, application: string, cell: string) {
    const { row } = await loadApplication(this.#db, caller, application, 'logs');
    return this.#placedClient(this.#db, row.id, application, cell);
  }

  async #placedClient(q: Queryable, applicationId: number, application: string, cell: string) {
    const placed = (await placementsOf(q, applicationId)).some((p) => p.cell === cell);
    if (!placed) throw new NotFoundError(`${application} does not run in cell "${cell}"`);
    const client = this.#cells.client(cell);
    if (!client) throw new UnavailableError(`cell ${cell} is not connected`);
    return client;
  }

  #error(error: unknown, application: string, cell: string, pod: string): Error {
    const status = statusCode(error);
    if (status === 404 || status === 400) {
      return new NotFoundError(
        `container ${pod} of ${application} not found in ${cell} (or it has no log yet)`,
      );
    }
    return new UnavailableError(`cell ${cell} did not answer: ${(error as Error).message}`, { cause: error });
  }
}
