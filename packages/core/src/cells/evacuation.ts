import type { Evacuation } from '@leengine/common';
import {
  insertPlacement,
  placementsOf,
  placementsOnCell,
  setPlacementState,
} from '../applications/placementStore.ts';
import type { Queryable } from '../db/database.ts';
import { activeVersions, recomputeAllocation, setReplicas } from '../versions/versionStore.ts';
import { type CellRow, listCells, updateCell } from './cellStore.ts';

/**
 * Cordons `cell` and gives each application on it somewhere else to run: a free cell of
 * the region (fewest applications first) takes over its instances there; when there is
 * none, its other cells share them. The cell's own placement turns `leaving`: the cell
 * reconciler removes it once every version runs fully elsewhere, so capacity never dips.
 */
export async function evacuateCell(tx: Queryable, cell: CellRow, at: Date): Promise<Evacuation> {
  await updateCell(tx, cell.id, { cordoned: true }, at);
  const regionCells = await listCells(tx, cell.regionId);
  const moves: Evacuation['moves'] = [];
  for (const placement of await placementsOnCell(tx, cell.id)) {
    if (placement.state !== 'active') continue;
    const appId = placement.applicationId;
    const placements = await placementsOf(tx, appId);
    const free = regionCells
      .filter((c) => !c.cordoned && c.id !== cell.id && !placements.some((p) => p.cellId === c.id))
      .sort((a, b) => a.applications - b.applications || a.name.localeCompare(b.name));
    const others = placements.filter((p) => p.state === 'active' && p.cellId !== cell.id).map((p) => p.cell);
    const target = free[0];
    const to = target ? [target.name] : others;
    if (to.length === 0) {
      moves.push({ application: placement.application, to: [] });
      continue;
    }
    if (target) {
      await insertPlacement(tx, appId, target.id, 'active', at);
      target.applications++;
    }
    for (const version of await activeVersions(tx, appId)) {
      const moving = version.replicas[cell.name] ?? 0;
      const replicas = { ...version.replicas };
      if (target) replicas[target.name] = moving;
      else
        to.forEach((name, i) => {
          const share = Math.floor(moving / to.length) + (i < moving % to.length ? 1 : 0);
          replicas[name] = (replicas[name] ?? 0) + share;
        });
      await setReplicas(tx, version.id, replicas, at);
    }
    await setPlacementState(tx, appId, cell.id, 'leaving');
    await recomputeAllocation(tx, appId);
    moves.push({ application: placement.application, to });
  }
  return { cell: cell.name, moves };
}
