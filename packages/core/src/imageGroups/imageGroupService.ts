import {
  ConflictError,
  type CreateImageGroup,
  type ImageGroup,
  type Page,
  type ResourceListQuery,
  type UpdateImageGroup,
} from '@leengine/common';
import { authorize } from '../access/authorize.ts';
import { assertMayListAll } from '../access/listScope.ts';
import { notFound, type ResourceRef } from '../access/resourceRef.ts';
import type { ActivityService } from '../activity/activityService.ts';
import type { Caller } from '../auth/caller.ts';
import type { Clock } from '../clock.ts';
import type { Database, Queryable } from '../db/database.ts';
import { isForeignKeyViolation, isUniqueViolation } from '../db/errors.ts';
import { addMember } from '../members/memberStore.ts';
import {
  countRepositoriesIn,
  deleteImageGroup,
  findImageGroup,
  type ImageGroupRow,
  insertImageGroup,
  listImageGroups,
  toImageGroup,
  updateImageGroup,
} from './imageGroupStore.ts';

export interface ImageGroupServiceDeps {
  db: Database;
  clock: Clock;
  activity: ActivityService;
}

export function imageGroupRef(row: { id: number; name: string }): ResourceRef {
  return { kind: 'image-group', id: row.id, name: row.name };
}

/** Image groups: registry namespaces that own image repositories and lend them members. */
export class ImageGroupService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #activity: ActivityService;

  private constructor(deps: ImageGroupServiceDeps) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#activity = deps.activity;
  }

  static create(deps: ImageGroupServiceDeps): ImageGroupService {
    return new ImageGroupService(deps);
  }

  async create(caller: Caller, input: CreateImageGroup): Promise<ImageGroup> {
    return this.#activity.change(caller, 'create', input, async (tx, setTarget) => {
      setTarget({ kind: 'image-group', id: null, name: input.name });
      if (await findImageGroup(tx, input.name)) throw taken(input.name);
      const at = this.#clock();
      let row: ImageGroupRow;
      try {
        row = await insertImageGroup(tx, { ...input, createdById: caller.userId, at });
      } catch (error) {
        throw isUniqueViolation(error) ? taken(input.name) : error;
      }
      await addMember(tx, 'image-group', row.id, caller.userId, 'owner', at);
      setTarget(imageGroupRef(row));
      return toImageGroup(row, 'owner');
    });
  }

  async get(caller: Caller, name: string): Promise<ImageGroup> {
    const { row, grant } = await this.load(this.#db, caller, name, 'read');
    return toImageGroup(row, grant.role);
  }

  async list(caller: Caller, query: ResourceListQuery): Promise<Page<ImageGroup>> {
    assertMayListAll(caller, query);
    return listImageGroups(this.#db, caller.userId, query, query.scope === 'all');
  }

  async update(caller: Caller, name: string, input: UpdateImageGroup): Promise<ImageGroup> {
    return this.#activity.change(caller, 'update', input, async (tx, setTarget) => {
      const { row, grant } = await this.load(tx, caller, name, 'update', setTarget);
      await updateImageGroup(tx, row.id, input, this.#clock());
      return toImageGroup((await findImageGroup(tx, name)) as ImageGroupRow, grant.role);
    });
  }

  /** Deletes an empty group; one that still holds repositories is a conflict. */
  async delete(caller: Caller, name: string): Promise<void> {
    await this.#activity.change(caller, 'delete', {}, async (tx, setTarget) => {
      const { row } = await this.load(tx, caller, name, 'delete', setTarget);
      const repositories = await countRepositoriesIn(tx, row.id);
      if (repositories > 0) throw notEmpty(name, repositories);
      try {
        await deleteImageGroup(tx, row.id);
      } catch (error) {
        throw isForeignKeyViolation(error) ? notEmpty(name, 1) : error;
      }
    });
  }

  /** The group and the caller's grant on it, checked for `action`; locked when `setTarget` is given. */
  async load(
    q: Queryable,
    caller: Caller,
    name: string,
    action: string,
    setTarget?: (ref: ResourceRef) => void,
  ) {
    const row = await findImageGroup(q, name, { forUpdate: setTarget !== undefined });
    if (!row) throw notFound('image-group', name);
    setTarget?.(imageGroupRef(row));
    const grant = await authorize(q, caller, imageGroupRef(row), action);
    return { row, grant };
  }
}

function taken(name: string): ConflictError {
  return new ConflictError(`image group "${name}" already exists`);
}

function notEmpty(name: string, repositories: number): ConflictError {
  return new ConflictError(
    `image group "${name}" still holds ${repositories} image repositor${repositories === 1 ? 'y' : 'ies'}; delete them first`,
  );
}
