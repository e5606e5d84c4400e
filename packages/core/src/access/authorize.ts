import { can, canSee, type Grant, higherRole, NotAllowedError, RESOURCE_TITLES } from '@leengine/common';
import type { Caller } from '../auth/caller.ts';
import type { Queryable } from '../db/database.ts';
import { directRole, repositoryRoles } from '../members/memberStore.ts';
import { notFound, type ResourceRef } from './resourceRef.ts';

/** The caller's standing on a resource: effective role (group role included), admin, public. */
export async function grantOf(q: Queryable, caller: Caller, ref: ResourceRef): Promise<Grant> {
  let role: Grant['role'];
  if (ref.kind === 'image-repository' && ref.groupId !== undefined) {
    const roles = await repositoryRoles(q, ref.id, ref.groupId, caller.userId);
    role = higherRole(roles.own, roles.group);
  } else {
    role = await directRole(q, ref.kind, ref.id, caller.userId);
  }
  return { role, admin: caller.admin, public: ref.public === true };
}

/**
 * Checks `action` against the permission table: a caller who may not see the resource
 * gets NotFoundError (existence does not leak), one who sees it but lacks the role gets
 * NotAllowedError. Returns the grant for further rules (e.g. "not above your own role").
 */
export async function authorize(
  q: Queryable,
  caller: Caller,
  ref: ResourceRef,
  action: string,
): Promise<Grant> {
  const grant = await grantOf(q, caller, ref);
  if (!canSee(grant, ref.kind)) throw notFound(ref.kind, ref.name);
  if (!can(grant, ref.kind, action)) {
    throw new NotAllowedError(
      `${grant.role ? `role ${grant.role}` : 'a non-member'} may not ${action} on ${RESOURCE_TITLES[ref.kind].toLowerCase()} "${ref.name}"`,
    );
  }
  return grant;
}
