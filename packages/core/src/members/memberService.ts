import {
  type AddMember,
  ConflictError,
  type Grant,
  InputError,
  type Member,
  NotAllowedError,
  NotFoundError,
  type ResourceKind,
  type Role,
  roleAtLeast,
  type UpdateMember,
} from '@leengine/common';
import { authorize } from '../access/authorize.ts';
import { findResource, notFound, type ResourceRef } from '../access/resourceRef.ts';
import type { ActivityService } from '../activity/activityService.ts';
import type { Caller } from '../auth/caller.ts';
import type { Clock } from '../clock.ts';
import type { Database, Queryable } from '../db/database.ts';
import { findUserByName } from '../users/userStore.ts';
import {
  addMember,
  countOwners,
  directRole,
  findMember,
  listMembers,
  type MemberRow,
  removeMember,
  setMemberRole,
} from './memberStore.ts';

export interface MemberServiceDeps {
  db: Database;
  clock: Clock;
  activity: ActivityService;
}

function toMember(row: MemberRow, source: Member['source']): Member {
  return {
    username: row.username,
    displayName: row.displayName,
    role: row.role,
    source,
    since: row.since.toISOString(),
  };
}

/**
 * Members and roles of the four resources (GitLab-style). Owners and Masters manage
 * members, never above their own role; anyone may leave; the last Owner stays. An image
 * repository's members include its group's, and its own grants only add to them.
 */
export class MemberService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #activity: ActivityService;

  private constructor(deps: MemberServiceDeps) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#activity = deps.activity;
  }

  static create(deps: MemberServiceDeps): MemberService {
    return new MemberService(deps);
  }

  /** Direct members, then (image repositories) those inherited from the group. */
  async list(caller: Caller, kind: ResourceKind, name: string): Promise<Member[]> {
    const ref = await this.#find(this.#db, kind, name);
    await authorize(this.#db, caller, ref, 'read');
    const direct = (await listMembers(this.#db, kind, ref.id)).map((r) => toMember(r, 'direct'));
    if (ref.kind !== 'image-repository' || ref.groupId === undefined) return direct;
    const inherited = (await listMembers(this.#db, 'image-group', ref.groupId)).map((r) =>
      toMember(r, 'image-group'),
    );
    return [...direct, ...inherited];
  }

  async add(caller: Caller, kind: ResourceKind, name: string, input: AddMember): Promise<Member> {
    return this.#activity.change(caller, 'add-member', input, async (tx, setTarget) => {
      const ref = await this.#find(tx, kind, name, true);
      setTarget(ref);
      const grant = await authorize(tx, caller, ref, 'manage-members');
      assertMayGrant(caller, grant, input.role);
      const user = await findUserByName(tx, input.username);
      if (!user) {
        throw new InputError(`no user "${input.username}"`, [
          { in: 'body', path: 'username', message: 'no such user' },
        ]);
      }
      if (user.disabled) {
        throw new InputError(`user "${input.username}" is disabled`, [
          { in: 'body', path: 'username', message: 'is disabled' },
        ]);
      }
      if ((await directRole(tx, kind, ref.id, user.id)) !== null) {
        throw new ConflictError(`"${input.username}" is already a member of ${kind} "${name}"`);
      }
      const at = this.#clock();
      await addMember(tx, kind, ref.id, user.id, input.role, at);
      return {
        username: user.username,
        displayName: user.displayName,
        role: input.role,
        source: 'direct' as const,
        since: at.toISOString(),
      };
    });
  }

  async update(
    caller: Caller,
    kind: ResourceKind,
    name: string,
    username: string,
    input: UpdateMember,
  ): Promise<Member> {
    return this.#activity.change(caller, 'update-member', { username, ...input }, async (tx, setTarget) => {
      const ref = await this.#find(tx, kind, name, true);
      setTarget(ref);
      const grant = await authorize(tx, caller, ref, 'manage-members');
      const member = await this.#member(tx, ref, username);
      assertMayGrant(caller, grant, member.role);
      assertMayGrant(caller, grant, input.role);
      if (member.role === 'owner' && input.role !== 'owner') await this.#assertNotLastOwner(tx, ref);
      await setMemberRole(tx, kind, ref.id, member.userId, input.role);
      return toMember({ ...member, role: input.role }, 'direct');
    });
  }

  /** Removes a member; removing yourself is leaving, which needs no manage right. */
  async remove(caller: Caller, kind: ResourceKind, name: string, username: string): Promise<void> {
    const leaving = username === caller.username;
    await this.#activity.change(
      caller,
      leaving ? 'leave' : 'remove-member',
      { username },
      async (tx, setTarget) => {
        const ref = await this.#find(tx, kind, name, true);
        setTarget(ref);
        const grant = await authorize(tx, caller, ref, leaving ? 'read' : 'manage-members');
        const member = await this.#member(tx, ref, username);
        if (!leaving) assertMayGrant(caller, grant, member.role);
        if (member.role === 'owner') await this.#assertNotLastOwner(tx, ref);
        await removeMember(tx, kind, ref.id, member.userId);
      },
    );
  }

  async #find(q: Queryable, kind: ResourceKind, name: string, forUpdate = false): Promise<ResourceRef> {
    const ref = await findResource(q, kind, name, { forUpdate });
    if (!ref) throw notFound(kind, name);
    return ref;
  }

  /** A direct member; call only after authorize (the message names the resource). */
  async #member(q: Queryable, ref: ResourceRef, username: string): Promise<MemberRow> {
    const user = await findUserByName(q, username);
    const member = user ? await findMember(q, ref.kind, ref.id, user.id) : undefined;
    if (!member) throw new NotFoundError(`"${username}" is not a direct member of ${ref.kind} "${ref.name}"`);
    return member;
  }

  // An image repository always has Owners through its group (whose own last Owner is
  // kept), so its direct Owners may all go.
  async #assertNotLastOwner(q: Queryable, ref: ResourceRef): Promise<void> {
    if (ref.kind === 'image-repository') return;
    if ((await countOwners(q, ref.kind, ref.id)) <= 1) {
      throw new ConflictError(`the last Owner of ${ref.kind} "${ref.name}" cannot leave or be demoted`);
    }
  }
}

/** Nobody but an admin grants, or touches a member holding, a role above their own. */
function assertMayGrant(caller: Caller, grant: Grant, role: Role): void {
  if (caller.admin) return;
  if (!grant.role || !roleAtLeast(grant.role, role)) {
    throw new NotAllowedError(`role ${grant.role ?? 'none'} may not grant or change role ${role}`);
  }
}
