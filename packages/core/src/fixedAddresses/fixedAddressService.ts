import {
  ConflictError,
  DomainError,
  type FixedAddresses,
  type FixedAddressPool,
  type FixedAddressRequest,
  UnavailableError,
} from '@leengine/common';
import { ExhaustedError, type Ipam, type Pool } from '@leengine/ipam';
import type { Logger } from 'pino';
import type { ActivityService } from '../activity/activityService.ts';
import { loadApplication } from '../applications/loadApplication.ts';
import { placementsOf } from '../applications/placementStore.ts';
import type { Caller } from '../auth/caller.ts';
import type { Database } from '../db/database.ts';

export interface FixedAddressServiceDeps {
  db: Database;
  activity: ActivityService;
  /** The IPAM of a cell (in the region's etcd, where the cell's leengine-cni keeps it). */
  ipam: (cell: string) => Ipam;
  logger: Logger;
}

/**
 * Fixed container addresses (the seed's problem 1): an application's Masters ask for a
 * pool of N addresses per cell; it is reserved in each cell's IPAM as the pool of the
 * application's namespace, from which leengine-cni then gives every pod of the
 * application its address, and nothing else. A gray upgrade's new pods therefore take
 * addresses of the same range, and those the old pods free are there for the next one.
 */
export class FixedAddressService {
  readonly #deps: FixedAddressServiceDeps;

  private constructor(deps: FixedAddressServiceDeps) {
    this.#deps = deps;
  }

  static create(deps: FixedAddressServiceDeps): FixedAddressService {
    return new FixedAddressService(deps);
  }

  /** The application's pools, cell by cell, with the addresses in use. */
  async get(caller: Caller, application: string): Promise<FixedAddresses> {
    const { row } = await loadApplication(this.#deps.db, caller, application, 'read');
    const cells = (await placementsOf(this.#deps.db, row.id)).map((p) => p.cell);
    return this.#view(application, cells);
  }

  /**
   * Reserves a pool of `size` addresses in every active cell of the application (a cell
   * that already has one of that size keeps it) and records the size, so that a cell the
   * application is placed in later gets its pool from the cell reconciler. All or
   * nothing: if one cell has no room, the pools made by this call are removed again and
   * nothing is recorded but the refusal.
   */
  async reserve(caller: Caller, application: string, input: FixedAddressRequest): Promise<FixedAddresses> {
    const cells = await this.#deps.activity.change(
      caller,
      'reserve-fixed-addresses',
      input,
      async (tx, setTarget) => {
        const { row } = await loadApplication(tx, caller, application, 'manage-fixed-addresses', setTarget);
        const active = (await placementsOf(tx, row.id))
          .filter((p) => p.state === 'active')
          .map((p) => p.cell);
        await tx.query('update applications set fixed_addresses = $2 where id = $1', [row.id, input.size]);
        const made: string[] = [];
        try {
          for (const cell of active) {
            if (await this.#ensurePool(cell, application, input.size)) made.push(cell);
          }
        } catch (error) {
          await Promise.allSettled(made.map((cell) => this.#deps.ipam(cell).removePool(application)));
          throw domainError(error, `reserving ${input.size} fixed addresses for ${application}`);
        }
        this.#deps.logger.info(
          { application, size: input.size, cells: active, made },
          'fixed addresses reserved',
        );
        return active;
      },
    );
    return this.#view(application, cells);
  }

  /**
   * Releases the application's pools, in every cell or in none: refused (409) while a pod
   * holds one of their addresses.
   */
  async release(caller: Caller, application: string): Promise<void> {
    await this.#deps.activity.change(caller, 'release-fixed-addresses', {}, async (tx, setTarget) => {
      const { row } = await loadApplication(tx, caller, application, 'manage-fixed-addresses', setTarget);
      const cells = (await placementsOf(tx, row.id)).map((p) => p.cell);
      await tx.query('update applications set fixed_addresses = null where id = $1', [row.id]);
      const pools: string[] = [];
      const busy: string[] = [];
      for (const cell of cells) {
        try {
          const view = await this.#poolIn(cell, application);
          if (!view) continue;
          pools.push(cell);
          if (view.inUse.length > 0)
            busy.push(
              `${cell}: ${view.inUse.length} held, e.g. ${view.inUse[0]?.ip} by ${view.inUse[0]?.pod}`,
            );
        } catch (error) {
          throw domainError(error, `reading the fixed addresses of ${application} in cell ${cell}`);
        }
      }
      if (busy.length > 0) throw new ConflictError(`fixed addresses still in use (${busy.join('; ')})`);
      for (const cell of pools) {
        try {
          await this.#deps.ipam(cell).removePool(application);
        } catch (error) {
          throw domainError(error, `releasing the fixed addresses of ${application} in cell ${cell}`);
        }
      }
      this.#deps.logger.info({ application, cells: pools }, 'fixed addresses released');
    });
  }

  /**
   * Before the cell reconciler applies the application in `cell`: if the application has
   * fixed addresses, its pool must be there first (a cell it was placed in later, after
   * an evacuation say), or its pods would take other addresses. Throws when the cell has
   * no room (the reconciler records it as the placement's sync error and tries again).
   */
  async ensureInCell(cell: string, application: string): Promise<void> {
    const [row] = await this.#deps.db.query<{ size: number | null }>(
      'select fixed_addresses as size from applications where name = $1',
      [application],
    );
    if (!row?.size) return;
    try {
      if (await this.#ensurePool(cell, application, row.size)) {
        this.#deps.logger.info({ application, cell, size: row.size }, 'fixed addresses reserved in the cell');
      }
    } catch (error) {
      throw domainError(error, `reserving ${row.size} fixed addresses for ${application} in cell ${cell}`);
    }
  }

  /** Makes the application's pool in `cell` unless it has one of that size; true if made here. */
  async #ensurePool(cell: string, application: string, size: number): Promise<boolean> {
    const ipam = this.#deps.ipam(cell);
    for (let attempt = 0; ; attempt++) {
      const existing = (await ipam.listPools()).find((p) => p.namespace === application);
      if (existing) {
        if (existing.size === size) return false;
        throw new ConflictError(
          `${application} already has ${existing.size} fixed addresses in cell ${cell} (${existing.cidr}); release them first`,
        );
      }
      try {
        await ipam.createPool({ namespace: application, size });
        return true;
      } catch (error) {
        // Made meanwhile by someone else (the reconciler, or another request): look again.
        if (!(error instanceof ConflictError) || attempt > 0) throw error;
      }
    }
  }

  async #poolIn(cell: string, application: string): Promise<FixedAddressPool | undefined> {
    const ipam = this.#deps.ipam(cell);
    const pool = (await ipam.listPools()).find((p) => p.namespace === application);
    return pool ? poolView(ipam, cell, pool) : undefined;
  }

  /**
   * Refuses (409) when, in a cell where the application has a fixed pool, more instances
   * would run at once than the pool has addresses (pods take addresses only from it).
   */
  async assertRoom(application: string, instancesPerCell: Record<string, number>): Promise<void> {
    const short: string[] = [];
    for (const [cell, instances] of Object.entries(instancesPerCell)) {
      if (instances === 0) continue;
      const ipam = this.#deps.ipam(cell);
      try {
        const pool = (await ipam.listPools()).find((p) => p.namespace === application);
        if (!pool) continue;
        const capacity = (await ipam.usage()).blocks
          .filter((b) => pool.blocks.includes(b.cidr))
          .reduce((n, b) => n + b.usable, 0);
        if (instances > capacity)
          short.push(`${cell}: ${instances} instances at once, ${capacity} addresses in ${pool.cidr}`);
      } catch (error) {
        throw domainError(error, `checking the fixed addresses of ${application} in cell ${cell}`);
      }
    }
    if (short.length > 0) {
      throw new ConflictError(
        `the fixed addresses of ${application} are too few (${short.join('; ')}); during a gray upgrade the old and the new version run side by side`,
      );
    }
  }

  /**
   * The application's namespace is gone from `cell` (the application was deleted, or left
   * the cell): its pool there is released, so the addresses go back to the cell and a
   * later application of that name does not inherit them. Throws while an address is
   * still held (the runtime tries again).
   */
  async namespaceGone(cell: string, application: string): Promise<void> {
    const ipam = this.#deps.ipam(cell);
    try {
      if (!(await ipam.listPools()).some((p) => p.namespace === application)) return;
      await ipam.removePool(application);
    } catch (error) {
      throw domainError(error, `releasing the fixed addresses of ${application} in cell ${cell}`);
    }
    this.#deps.logger.info({ application, cell }, 'fixed addresses released: the namespace is gone');
  }

  async #view(application: string, cells: string[]): Promise<FixedAddresses> {
    const pools = await Promise.all(
      cells.map(async (cell): Promise<FixedAddressPool | undefined> => {
        try {
          return await this.#poolIn(cell, application);
        } catch (error) {
          throw domainError(error, `reading the fixed addresses of ${application} in cell ${cell}`);
        }
      }),
    );
    const [row] = await this.#deps.db.query<{ size: number | null }>(
      'select fixed_addresses as size from applications where name = $1',
      [application],
    );
    return { application, size: row?.size ?? null, pools: pools.filter((p) => p !== undefined) };
  }
}

async function poolView(ipam: Ipam, cell: string, pool: Pool): Promise<FixedAddressPool> {
  const [usage, allocations] = await Promise.all([ipam.usage(), ipam.listAllocations()]);
  const blocks = new Set(pool.blocks);
  return {
    cell,
    cidr: pool.cidr,
    size: pool.size,
    capacity: usage.blocks.filter((b) => blocks.has(b.cidr)).reduce((n, b) => n + b.usable, 0),
    inUse: allocations.items
      .map((a) => a.value)
      .filter((a) => blocks.has(a.block))
      .sort((a, b) => a.ip.localeCompare(b.ip, 'en', { numeric: true }))
      .map((a) => ({ ip: a.ip, pod: a.pod })),
    createdAt: pool.createdAt,
  };
}

/** IPAM refusals as the API's errors; etcd not answering is 503. */
function domainError(error: unknown, what: string): DomainError {
  if (error instanceof ExhaustedError)
    return new ConflictError(`${what}: ${error.message}`, { cause: error });
  if (error instanceof DomainError) return error;
  return new UnavailableError(`${what}: the IPAM (etcd) did not answer: ${(error as Error).message}`, {
    cause: error,
  });
}
