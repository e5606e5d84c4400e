import {
  type BuildProject,
  ConflictError,
  type CreateBuildProject,
  InputError,
  NotFoundError,
  type Page,
  type ResourceListQuery,
  type UpdateBuildProject,
} from '@leengine/common';
import { authorize } from '../access/authorize.ts';
import { assertMayListAll } from '../access/listScope.ts';
import { notFound, type ResourceRef } from '../access/resourceRef.ts';
import type { ActivityService } from '../activity/activityService.ts';
import type { Caller } from '../auth/caller.ts';
import type { Clock } from '../clock.ts';
import type { Database, Queryable } from '../db/database.ts';
import { isUniqueViolation } from '../db/errors.ts';
import type { ImageRepositoryService } from '../imageRepositories/imageRepositoryService.ts';
import { addMember } from '../members/memberStore.ts';
import {
  type BuildProjectRow,
  deleteBuildProject,
  findBuildProject,
  insertBuildProject,
  listBuildProjects,
  toBuildProject,
  updateBuildProject,
} from './buildProjectStore.ts';

export interface BuildProjectServiceDeps {
  db: Database;
  clock: Clock;
  activity: ActivityService;
  imageRepositories: ImageRepositoryService;
  /** Accept file:// git URLs (LEENGINE_BUILD_ALLOW_LOCAL_GIT: tests and the local region only). */
  allowLocalGit?: boolean;
}

function refOf(row: BuildProjectRow): ResourceRef {
  return { kind: 'build-project', id: row.id, name: row.name };
}

/**
 * Build projects: a git repository and branch, a Dockerfile, and the image repository
 * their builds push to. Pointing a project at a repository needs `push` there: a build
 * project must not become a way to push where its members could not.
 */
export class BuildProjectService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #activity: ActivityService;
  readonly #imageRepositories: ImageRepositoryService;
  readonly #allowLocalGit: boolean;

  private constructor(deps: BuildProjectServiceDeps) {
    this.#allowLocalGit = deps.allowLocalGit ?? false;
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#activity = deps.activity;
    this.#imageRepositories = deps.imageRepositories;
  }

  static create(deps: BuildProjectServiceDeps): BuildProjectService {
    return new BuildProjectService(deps);
  }

  async create(caller: Caller, input: CreateBuildProject): Promise<BuildProject> {
    return this.#activity.change(caller, 'create', input, async (tx, setTarget) => {
      setTarget({ kind: 'build-project', id: null, name: input.name });
      this.#checkGitUrl(input.gitUrl);
      const imageRepositoryId = await this.#pushTarget(tx, caller, input.imageRepository);
      if (await findBuildProject(tx, input.name)) throw taken(input.name);
      const at = this.#clock();
      let row: BuildProjectRow;
      try {
        row = await insertBuildProject(tx, { ...input, imageRepositoryId, createdById: caller.userId, at });
      } catch (error) {
        throw isUniqueViolation(error) ? taken(input.name) : error;
      }
      await addMember(tx, 'build-project', row.id, caller.userId, 'owner', at);
      setTarget(refOf(row));
      return toBuildProject(row, 'owner');
    });
  }

  async get(caller: Caller, name: string): Promise<BuildProject> {
    const { row, grant } = await this.#load(this.#db, caller, name, 'read');
    return toBuildProject(row, grant.role);
  }

  async list(caller: Caller, query: ResourceListQuery): Promise<Page<BuildProject>> {
    assertMayListAll(caller, query);
    return listBuildProjects(this.#db, caller.userId, query, query.scope === 'all');
  }

  async update(caller: Caller, name: string, input: UpdateBuildProject): Promise<BuildProject> {
    return this.#activity.change(caller, 'update', input, async (tx, setTarget) => {
      const { row, grant } = await this.#load(tx, caller, name, 'update', setTarget);
      if (input.gitUrl !== undefined) this.#checkGitUrl(input.gitUrl);
      const imageRepositoryId = input.imageRepository
        ? await this.#pushTarget(tx, caller, input.imageRepository)
        : undefined;
      await updateBuildProject(tx, row.id, { ...input, imageRepositoryId }, this.#clock());
      return toBuildProject((await findBuildProject(tx, name)) as BuildProjectRow, grant.role);
    });
  }

  async delete(caller: Caller, name: string): Promise<void> {
    await this.#activity.change(caller, 'delete', {}, async (tx, setTarget) => {
      const { row } = await this.#load(tx, caller, name, 'delete', setTarget);
      await deleteBuildProject(tx, row.id);
    });
  }

  /** The image repository's id, if the caller may push to it (404/403 otherwise). */
  async #pushTarget(q: Queryable, caller: Caller, path: string): Promise<number> {
    const [group = '', name = ''] = path.split('/');
    try {
      const { row } = await this.#imageRepositories.load(q, caller, group, name, 'push');
      return row.id;
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      throw new InputError(`no image repository "${path}"`, [
        { in: 'body', path: 'imageRepository', message: 'no such image repository' },
      ]);
    }
  }

  /**
   * A build agent clones a local repository from its own disk, so on a real region a
   * file:// URL would read whatever the build host holds: refused unless core is told
   * this region's build hosts are for tests (LEENGINE_BUILD_ALLOW_LOCAL_GIT).
   */
  #checkGitUrl(gitUrl: string): void {
    if (this.#allowLocalGit || !isLocalGitUrl(gitUrl)) return;
    throw new InputError('local git repositories are not allowed in this region', [
      {
        in: 'body',
        path: 'gitUrl',
        message: 'local repositories (file:// or a path) are refused here: use an http(s) or ssh URL',
      },
    ]);
  }

  async #load(
    q: Queryable,
    caller: Caller,
    name: string,
    action: string,
    setTarget?: (ref: ResourceRef) => void,
  ) {
    const row = await findBuildProject(q, name, { forUpdate: setTarget !== undefined });
    if (!row) throw notFound('build-project', name);
    setTarget?.(refOf(row));
    const grant = await authorize(q, caller, refOf(row), action);
    return { row, grant };
  }
}

/** file:// URLs and plain paths: what a build agent would read from its own disk. */
export function isLocalGitUrl(gitUrl: string): boolean {
  return /^file:/i.test(gitUrl) || gitUrl.startsWith('/') || gitUrl.startsWith('.');
}

function taken(name: string): ConflictError {
  return new ConflictError(`build project "${name}" already exists`);
}
