import type { Grant } from '@leengine/common';
import { authorize } from '../access/authorize.ts';
import { notFound, type ResourceRef } from '../access/resourceRef.ts';
import type { SetTarget } from '../activity/activityService.ts';
import type { Caller } from '../auth/caller.ts';
import type { Queryable } from '../db/database.ts';
import { type ApplicationRow, findApplication } from './applicationStore.ts';

export function applicationRef(row: ApplicationRow): ResourceRef {
  return { kind: 'application', id: row.id, name: row.name };
}

/**
 * Finds an application and checks `action` on it against the permission table (404 for
 * those who may not see it, 403 for those who may not do this). With `setTarget` (inside
 * an activity change) the row is locked and named as the activity's target.
 */
export async function loadApplication(
  q: Queryable,
  caller: Caller,
  name: string,
  action: string,
  setTarget?: SetTarget,
): Promise<{ row: ApplicationRow; grant: Grant }> {
  const row = await findApplication(q, name, { forUpdate: setTarget !== undefined });
  if (!row) throw notFound('application', name);
  setTarget?.(applicationRef(row));
  const grant = await authorize(q, caller, applicationRef(row), action);
  return { row, grant };
}
