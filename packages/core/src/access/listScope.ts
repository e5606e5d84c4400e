import { NotAllowedError, type ResourceListQuery } from '@leengine/common';
import type { Caller } from '../auth/caller.ts';

/** `scope=all` lists every resource, not only the caller's: admins only. */
export function assertMayListAll(caller: Caller, query: ResourceListQuery): void {
  if (query.scope === 'all' && !caller.admin) {
    throw new NotAllowedError('only admins may list every resource (scope=all)');
  }
}
