import {
  ConflictError,
  type CreateImageRepository,
  type ImageRepository,
  type Page,
  type ResourceListQuery,
  type UpdateImageRepository,
} from '@leengine/common';
import { authorize } from '../access/authorize.ts';
import { assertMayListAll } from '../access/listScope.ts';
import { notFound, type ResourceRef } from '../access/resourceRef.ts';
import type { ActivityService } from '../activity/activityService.ts';
import type { Caller } from '../auth/caller.ts';
import type { Clock } from '../clock.ts';
import type { Database, Queryable } from '../db/database.ts';
import { isForeignKeyViolation, isUniqueViolation } from '../db/errors.ts';
import { type ImageGroupService, imageGroupRef } from '../imageGroups/imageGroupService.ts';
import { addMember } from '../members/memberStore.ts';
import {
  countBuildProjectsPushingTo,
  deleteImageRepository,
  findImageRepository,
  type ImageRepositoryRow,
  insertImageRepository,
  listImageRepositories,
  toImageRepository,
  updateImageRepository,
} from './imageRepositoryStore.ts';

/** A repository's images in the region registry. */
export interface RepositoryImages {
  /** Deletes every manifest of the repository (what its tags point at); how many went. */
  deleteAll(repository: string): Promise<number>;
}

export interface ImageRepositoryServiceDeps {
  db: Database;
  clock: Clock;
  activity: ActivityService;
  imageGroups: ImageGroupService;
  /** The registry's side of a repository; undefined when core has no registry (REGISTRY_URL). */
  images?: RepositoryImages | undefined;
}

export function imageRepositoryRef(row: ImageRepositoryRow): ResourceRef {
  return {
    kind: 'image-repository',
    id: row.id,
    name: row.fullName,
    groupId: row.groupId,
    public: row.public,
  };
}

/** Image repositories (`group/name`): public or private, members inherited from the group. */
export class ImageRepositoryService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #activity: ActivityService;
  readonly #imageGroups: ImageGroupService;
  readonly #images: RepositoryImages | undefined;

  private constructor(deps: ImageRepositoryServiceDeps) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#activity = deps.activity;
    this.#imageGroups = deps.imageGroups;
    this.#images = deps.images;
  }

  static create(deps: ImageRepositoryServiceDeps): ImageRepositoryService {
    return new ImageRepositoryService(deps);
  }

  /** Creates a repository in a group (group's `create-repository`); the caller becomes its Owner. */
  async create(caller: Caller, group: string, input: CreateImageRepository): Promise<ImageRepository> {
    const fullName = `${group}/${input.name}`;
    return this.#activity.change(caller, 'create', input, async (tx, setTarget) => {
      const { row: groupRow } = await this.#imageGroups.load(tx, caller, group, 'create-repository', (ref) =>
        setTarget({ kind: 'image-repository', id: null, name: fullName }, [ref]),
      );
      if (await findImageRepository(tx, group, input.name)) throw taken(fullName);
      const at = this.#clock();
      let row: ImageRepositoryRow;
      try {
        row = await insertImageRepository(tx, {
          ...input,
          groupId: groupRow.id,
          group,
          createdById: caller.userId,
          at,
        });
      } catch (error) {
        throw isUniqueViolation(error) ? taken(fullName) : error;
      }
      await addMember(tx, 'image-repository', row.id, caller.userId, 'owner', at);
      setTarget(imageRepositoryRef(row), [imageGroupRef(groupRow)]);
      return toImageRepository(row, 'owner');
    });
  }

  async get(caller: Caller, group: string, name: string): Promise<ImageRepository> {
    const { row, grant } = await this.load(this.#db, caller, group, name, 'read');
    return toImageRepository(row, grant.role);
  }

  /** Every repository the caller sees (member of it or of its group, or public). */
  async list(caller: Caller, query: ResourceListQuery): Promise<Page<ImageRepository>> {
    assertMayListAll(caller, query);
    return listImageRepositories(this.#db, caller.userId, query, { all: query.scope === 'all' });
  }

  /** The repositories of one group the caller sees; the group itself must be visible. */
  async listInGroup(caller: Caller, group: string, query: ResourceListQuery): Promise<Page<ImageRepository>> {
    assertMayListAll(caller, query);
    const { row } = await this.#imageGroups.load(this.#db, caller, group, 'read');
    return listImageRepositories(this.#db, caller.userId, query, {
      all: query.scope === 'all',
      groupId: row.id,
    });
  }

  async update(
    caller: Caller,
    group: string,
    name: string,
    input: UpdateImageRepository,
  ): Promise<ImageRepository> {
    return this.#activity.change(caller, 'update', input, async (tx, setTarget) => {
      const { row, grant } = await this.load(tx, caller, group, name, 'update', setTarget);
      await updateImageRepository(tx, row.id, input, this.#clock());
      return toImageRepository(
        (await findImageRepository(tx, group, name)) as ImageRepositoryRow,
        grant.role,
      );
    });
  }

  /**
   * Deletes a repository no build project pushes to, and its manifests in the registry
   * first (a repository made again under the name starts empty). Core's row stays locked
   * meanwhile; when the registry fails, the repository stays (with what was not deleted
   * yet) and the answer is 503. Blobs are reclaimed by the registry's garbage collection.
   */
  async delete(caller: Caller, group: string, name: string): Promise<void> {
    await this.#activity.change(caller, 'delete', {}, async (tx, setTarget) => {
      const { row } = await this.load(tx, caller, group, name, 'delete', (ref) =>
        setTarget(ref, [{ kind: 'image-group', id: ref.groupId ?? null, name: group }]),
      );
      const users = await countBuildProjectsPushingTo(tx, row.id);
      if (users > 0) throw inUse(row.fullName, users);
      await this.#images?.deleteAll(row.fullName);
      try {
        await deleteImageRepository(tx, row.id);
      } catch (error) {
        throw isForeignKeyViolation(error) ? inUse(row.fullName, 1) : error;
      }
    });
  }

  /** The repository and the caller's grant on it, checked for `action`; locked when `setTarget` is given. */
  async load(
    q: Queryable,
    caller: Caller,
    group: string,
    name: string,
    action: string,
    setTarget?: (ref: ResourceRef) => void,
  ) {
    const row = await findImageRepository(q, group, name, { forUpdate: setTarget !== undefined });
    if (!row) throw notFound('image-repository', `${group}/${name}`);
    setTarget?.(imageRepositoryRef(row));
    const grant = await authorize(q, caller, imageRepositoryRef(row), action);
    return { row, grant };
  }
}

function taken(fullName: string): ConflictError {
  return new ConflictError(`image repository "${fullName}" already exists`);
}

function inUse(fullName: string, projects: number): ConflictError {
  return new ConflictError(
    `image repository "${fullName}" is the target of ${projects} build project${projects === 1 ? '' : 's'}; change or delete ${projects === 1 ? 'it' : 'them'} first`,
  );
}
