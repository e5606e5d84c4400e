import {
  ConflictError,
  type CreatedRobot,
  type CreateRobot,
  NotFoundError,
  type Robot,
  type RobotAction,
} from '@leengine/common';
import { authorize } from '../access/authorize.ts';
import { notFound, type ResourceRef } from '../access/resourceRef.ts';
import type { ActivityService } from '../activity/activityService.ts';
import type { Caller } from '../auth/caller.ts';
import { hashSecret, newSecret } from '../auth/secrets.ts';
import { findBuildProject } from '../buildProjects/buildProjectStore.ts';
import type { Clock } from '../clock.ts';
import type { Database, Queryable } from '../db/database.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { findImageGroup } from '../imageGroups/imageGroupStore.ts';
import { deleteRobot, findRobot, insertRobot, listRobots, type RobotOwner, toRobot } from './robotStore.ts';

/** Robot secrets start with this, so secret scanners can find leaked ones. */
export const ROBOT_SECRET_PREFIX = 'lee_robot_';

/** Where a robot lives: an image group's or a build project's. */
export type RobotOwnerKind = RobotOwner['kind'];

export interface RobotServiceDeps {
  db: Database;
  clock: Clock;
  activity: ActivityService;
}

/** The login name of a robot: `robot$<group>+<name>`, `robot$build$<project>+<name>` (no user name has `$`). */
export function robotUsername(kind: RobotOwnerKind, owner: string, name: string): string {
  return kind === 'image-group' ? `robot$${owner}+${name}` : `robot$build$${owner}+${name}`;
}

const DEFAULT_ACTIONS: Record<RobotOwnerKind, RobotAction[]> = {
  'image-group': ['pull'],
  'build-project': ['pull', 'push'],
};

/**
 * Robot accounts: registry credentials of an image group (for its repositories) or of a
 * build project (for its one repository, used by build agents), with the actions they
 * were given and an expiry. Not users: they cannot sign in to the API. The secret is
 * shown once and stored as its sha256. Managed with `manage-robots` (Masters).
 */
export class RobotService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #activity: ActivityService;

  private constructor(deps: RobotServiceDeps) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#activity = deps.activity;
  }

  static create(deps: RobotServiceDeps): RobotService {
    return new RobotService(deps);
  }

  async create(
    caller: Caller,
    kind: RobotOwnerKind,
    ownerName: string,
    input: CreateRobot,
  ): Promise<CreatedRobot> {
    const actions = normalise(input.actions ?? DEFAULT_ACTIONS[kind]);
    const params = { robot: input.name, actions, expiresInDays: input.expiresInDays };
    return this.#activity.change(caller, 'create-robot', params, async (tx, setTarget) => {
      const owner = await this.#owner(tx, caller, kind, ownerName, setTarget);
      if (await findRobot(tx, owner, input.name)) throw taken(input.name);
      const secret = newSecret(ROBOT_SECRET_PREFIX);
      const at = this.#clock();
      try {
        const row = await insertRobot(tx, {
          owner,
          name: input.name,
          username: robotUsername(kind, ownerName, input.name),
          description: input.description,
          actions,
          secretHash: hashSecret(secret),
          createdById: caller.userId,
          at,
          expiresAt: new Date(at.getTime() + input.expiresInDays * 86_400_000),
        });
        return { ...toRobot(row), secret };
      } catch (error) {
        throw isUniqueViolation(error) ? taken(input.name) : error;
      }
    });
  }

  /** An owner's robots (needs `manage-robots`: a robot's scope is not for every member to read). */
  async list(caller: Caller, kind: RobotOwnerKind, ownerName: string): Promise<Robot[]> {
    const owner = await this.#owner(this.#db, caller, kind, ownerName);
    return (await listRobots(this.#db, owner)).map(toRobot);
  }

  /** Deletes a robot: its secret stops working at once (tokens it holds live out their minutes). */
  async delete(caller: Caller, kind: RobotOwnerKind, ownerName: string, name: string): Promise<void> {
    await this.#activity.change(caller, 'delete-robot', { robot: name }, async (tx, setTarget) => {
      const owner = await this.#owner(tx, caller, kind, ownerName, setTarget);
      const row = await findRobot(tx, owner, name);
      if (!row) throw new NotFoundError(`robot "${name}" not found`);
      await deleteRobot(tx, row.id);
    });
  }

  async #owner(
    q: Queryable,
    caller: Caller,
    kind: RobotOwnerKind,
    name: string,
    setTarget?: (ref: ResourceRef) => void,
  ): Promise<RobotOwner> {
    const lock = { forUpdate: setTarget !== undefined };
    const row =
      kind === 'image-group' ? await findImageGroup(q, name, lock) : await findBuildProject(q, name, lock);
    if (!row) throw notFound(kind, name);
    const ref: ResourceRef = { kind, id: row.id, name };
    setTarget?.(ref);
    await authorize(q, caller, ref, 'manage-robots');
    return { kind, id: row.id };
  }
}

function normalise(actions: RobotAction[]): RobotAction[] {
  const set = new Set(actions);
  // Pushing needs pulling (the client checks which layers exist).
  if (set.has('push')) set.add('pull');
  return (['pull', 'push', 'delete'] as const).filter((a) => set.has(a));
}

function taken(name: string): ConflictError {
  return new ConflictError(`a robot named "${name}" already exists here`);
}
