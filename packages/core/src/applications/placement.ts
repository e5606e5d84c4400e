import { ConflictError, InputError } from '@leengine/common';
import { type CellRow, listCells } from '../cells/cellStore.ts';
import type { Queryable } from '../db/database.ts';
import { findRegion, listRegions, type RegionRow } from '../regions/regionStore.ts';

export interface Placement {
  region: RegionRow | null;
  cells: CellRow[];
}

/**
 * Where a new application runs. The region: the one asked for, else the only one there
 * is (none: no region, the application cannot deploy until it has one). The cells: the
 * ones asked for, else every cell of the region that is not cordoned; at least two when
 * the region has two or more, so one machine room can fail.
 */
export async function choosePlacement(
  q: Queryable,
  input: { region?: string | undefined; cells?: string[] | undefined },
): Promise<Placement> {
  let region: RegionRow | null;
  if (input.region) {
    region = (await findRegion(q, input.region)) ?? null;
    if (!region) {
      throw new InputError(`no region "${input.region}"`, [
        { in: 'body', path: 'region', message: 'is not a region' },
      ]);
    }
  } else {
    const regions = await listRegions(q);
    if (regions.length > 1) {
      throw new InputError('the platform has several regions: name one', [
        {
          in: 'body',
          path: 'region',
          message: `is required (one of ${regions.map((r) => r.name).join(', ')})`,
        },
      ]);
    }
    region = regions[0] ?? null;
  }
  if (!region) {
    if (input.cells?.length) {
      throw new InputError('cells need a region', [
        { in: 'body', path: 'cells', message: 'no region has cells' },
      ]);
    }
    return { region: null, cells: [] };
  }
  const regionCells = await listCells(q, region.id);
  const minimum = Math.min(2, regionCells.length);
  let cells: CellRow[];
  if (input.cells) {
    const names = [...new Set(input.cells)];
    cells = names.map((name, i) => {
      const cell = regionCells.find((c) => c.name === name);
      if (!cell) {
        throw new InputError(`"${name}" is not a cell of region ${region.name}`, [
          { in: 'body', path: `cells.${i}`, message: `is not a cell of region ${region.name}` },
        ]);
      }
      if (cell.cordoned) {
        throw new InputError(`cell ${name} is cordoned`, [
          { in: 'body', path: `cells.${i}`, message: 'is cordoned (no new applications)' },
        ]);
      }
      return cell;
    });
    if (cells.length < minimum) {
      throw new InputError(
        `region ${region.name} has ${regionCells.length} cells: choose at least ${minimum}`,
        [{ in: 'body', path: 'cells', message: `must name at least ${minimum} cells` }],
      );
    }
  } else {
    cells = regionCells.filter((c) => !c.cordoned);
    if (cells.length < minimum) {
      throw new ConflictError(
        `region ${region.name} has fewer than ${minimum} cells that are not cordoned: an application needs ${minimum}`,
      );
    }
  }
  return { region, cells };
}
