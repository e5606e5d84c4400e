import { InputError } from '@leengine/common';
import type { Replicas } from './versionStore.ts';

/** Instances per cell from the API's form: one number for every cell, or `{cell: n}` (others 0). */
export function resolveInstances(
  instances: number | Record<string, number>,
  cells: string[],
  path = 'instances',
): Replicas {
  if (typeof instances === 'number') return Object.fromEntries(cells.map((c) => [c, instances]));
  for (const cell of Object.keys(instances)) {
    if (!cells.includes(cell)) {
      throw new InputError(`"${cell}" is not a cell of the application`, [
        {
          in: 'body',
          path: `${path}.${cell}`,
          message: `is not one of the application's cells (${cells.join(', ')})`,
        },
      ]);
    }
  }
  return Object.fromEntries(cells.map((c) => [c, instances[c] ?? 0]));
}

/** A total spread evenly over the cells (the first cells, by name, take the remainder). */
export function spreadTotal(total: number, cells: string[]): Replicas {
  const sorted = [...cells].sort();
  return Object.fromEntries(
    sorted.map((c, i) => [c, Math.floor(total / sorted.length) + (i < total % sorted.length ? 1 : 0)]),
  );
}

export function totalOf(replicas: Replicas): number {
  return Object.values(replicas).reduce((a, b) => a + b, 0);
}
