import { randomBytes } from 'node:crypto';
import {
  can,
  type Grant,
  higherRole,
  ImageRepositoryNameSchema,
  InputError,
  NotAuthenticatedError,
  type RobotAction,
  type Role,
} from '@leengine/common';
import type { Logger } from 'pino';
import { grantOf } from '../access/authorize.ts';
import { findResource, type ResourceRef } from '../access/resourceRef.ts';
import { insertActivity } from '../activity/activityStore.ts';
import type { AuthService } from '../auth/authService.ts';
import type { Caller } from '../auth/caller.ts';
import type { LoginLimiter } from '../auth/loginLimiter.ts';
import { hashSecret, TOKEN_PREFIX } from '../auth/secrets.ts';
import type { Clock } from '../clock.ts';
import type { Database, Queryable } from '../db/database.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { findImageGroup } from '../imageGroups/imageGroupStore.ts';
import { insertImageRepository } from '../imageRepositories/imageRepositoryStore.ts';
import { addMember } from '../members/memberStore.ts';
import { findPullCredentialBySecret } from '../pullSecrets/pullCredentialStore.ts';
import { PULL_SECRET_PREFIX } from '../pullSecrets/pullCredentials.ts';
import { ROBOT_SECRET_PREFIX } from '../robots/robotService.ts';
import { findRobotBySecret, type RobotRow, touchRobot } from '../robots/robotStore.ts';
import type { RegistryAccessCache } from './registryAccessCache.ts';
import type { RequestedScope } from './scope.ts';
import type { AccessEntry, TokenClaims, TokenSigner } from './tokenSigner.ts';

/** Who asks for a registry token. */
export type Principal =
  | { kind: 'anonymous' }
  | { kind: 'user'; caller: Caller }
  | { kind: 'robot'; robot: RobotRow; repositoryId: number | null }
  /** An application's pull credential (the cells' `leengine-pull` Secret): pulls what its deploys were granted. */
  | { kind: 'application'; applicationId: number; username: string; repositoryIds: number[] };

/** A repository (`group/name`) with a user's direct and group roles on it. */
export interface RepositoryWithRoles {
  ref: ResourceRef;
  own: Role | null;
  group: Role | null;
}

/** What the token endpoint reuses for a few seconds (see RegistryAccessCache). */
export type TokenAccessCache = RegistryAccessCache<Principal, RepositoryWithRoles>;

/** The subject of the tokens core mints for itself (no user name holds `$`). */
export const CORE_SUBJECT = '$leengine-core';

export interface RegistryTokenServiceDeps {
  db: Database;
  clock: Clock;
  logger: Logger;
  auth: AuthService;
  limiter: LoginLimiter;
  signer: TokenSigner;
  /** `service` of the registry: the tokens' audience. */
  service: string;
  issuer: string;
  /** Token lifetime. */
  ttlSeconds: number;
  /** A push into a missing repository of a group where the pusher may create one creates it. */
  createOnPush: boolean;
  /** Credentials verified and repositories looked up in the last seconds. */
  cache: TokenAccessCache;
}

export interface IssuedToken {
  token: string;
  /** Whom it was issued to (`sub`): a user's or robot's name, empty for anonymous. */
  subject: string;
  expiresIn: number;
  issuedAt: string;
  access: AccessEntry[];
}

const REGISTRY_ACTIONS = ['pull', 'push', 'delete'] as const;
// Registry action -> the permission table's image-repository action.
const TABLE_ACTION: Record<(typeof REGISTRY_ACTIONS)[number], string> = {
  pull: 'pull',
  push: 'push',
  delete: 'delete-tag',
};
const TOUCH_AFTER_MS = 60_000;

/**
 * The registry's token service (Docker distribution token authentication): turns Basic
 * credentials (password, personal access token or robot secret; none for anonymous) into
 * a Principal, and a request for scopes into a signed JWT granting the intersection of
 * what was asked and what the permission table allows. Asking for more is not an error:
 * the token holds less, and the registry refuses what it lacks.
 */
export class RegistryTokenService {
  readonly #deps: RegistryTokenServiceDeps;

  private constructor(deps: RegistryTokenServiceDeps) {
    this.#deps = deps;
  }

  static create(deps: RegistryTokenServiceDeps): RegistryTokenService {
    return new RegistryTokenService(deps);
  }

  /** The certificate the registry must trust (`auth.token.rootcertbundle`). */
  get certificatePem(): string {
    return this.#deps.signer.certificatePem;
  }

  get service(): string {
    return this.#deps.service;
  }

  /**
   * Who the credentials belong to. Every failure is NotAuthenticatedError with the same
   * words; failures count towards the login limit of (username, address), as logins do.
   */
  async authenticate(
    credentials: { username: string; password: string } | undefined,
    address: string,
  ): Promise<Principal> {
    if (!credentials) return { kind: 'anonymous' };
    const { username, password } = credentials;
    const { limiter, cache } = this.#deps;
    // Locked out stays locked out, even with credentials that worked a moment ago.
    limiter.check(username, address);
    const key = cache.credentialKey(username, password);
    const cached = cache.credential(key);
    if (cached) return cached;
    const generation = cache.generation;
    let principal: Principal | undefined;
    if (
      password.startsWith(ROBOT_SECRET_PREFIX) ||
      password.startsWith(TOKEN_PREFIX) ||
      password.startsWith(PULL_SECRET_PREFIX)
    ) {
      principal = await this.#bySecret(username, password).catch(() => undefined);
      if (!principal) {
        limiter.failed(username, address);
        throw new NotAuthenticatedError('wrong username or password');
      }
    } else {
      principal = { kind: 'user', caller: await this.#deps.auth.verifyPassword(username, password, address) };
    }
    cache.rememberCredential(key, principal, generation);
    return principal;
  }

  /**
   * Signs a token for `scopes` as far as the principal may hold them. `service` must be
   * this registry's. A push scope on a repository that does not exist yet creates it
   * (private, the pusher its Owner) when creation on push is on and the pusher may create
   * repositories in its group.
   */
  async issue(
    principal: Principal,
    service: string | undefined,
    scopes: RequestedScope[],
  ): Promise<IssuedToken> {
    if (service !== undefined && service !== this.#deps.service) {
      throw new InputError(`unknown service "${service}"`, [
        { in: 'query', path: 'service', message: `must be "${this.#deps.service}"` },
      ]);
    }
    const access: AccessEntry[] = [];
    for (const scope of scopes) {
      const actions = await this.#grant(principal, scope);
      const existing = access.find((a) => a.type === scope.type && a.name === scope.name);
      if (existing) existing.actions = [...new Set([...existing.actions, ...actions])];
      else access.push({ type: scope.type, name: scope.name, actions });
    }
    const subject = subjectOf(principal);
    const now = this.#deps.clock();
    const token = await this.#deps.signer.signAsync(this.#claims(subject, access, now));
    return { token, subject, expiresIn: this.#deps.ttlSeconds, issuedAt: now.toISOString(), access };
  }

  /** A token for core's own calls to the registry (tag lists, manifest deletes). */
  sign(subject: string, access: AccessEntry[]): IssuedToken {
    const now = this.#deps.clock();
    const token = this.#deps.signer.sign(this.#claims(subject, access, now));
    return { token, subject, expiresIn: this.#deps.ttlSeconds, issuedAt: now.toISOString(), access };
  }

  #claims(subject: string, access: AccessEntry[], now: Date): TokenClaims {
    const iat = Math.floor(now.getTime() / 1000);
    return {
      iss: this.#deps.issuer,
      sub: subject,
      aud: this.#deps.service,
      exp: iat + this.#deps.ttlSeconds,
      // The registry allows a minute of clock skew either way.
      nbf: iat,
      iat,
      jti: this.#jti(),
      access,
    };
  }

  #random = Buffer.alloc(0);
  #randomAt = 0;

  /** 128 random bits, hex, from a pool refilled 4 KiB at a time (one syscall per 256 tokens). */
  #jti(): string {
    if (this.#randomAt + 16 > this.#random.length) {
      this.#random = randomBytes(4096);
      this.#randomAt = 0;
    }
    const id = this.#random.toString('hex', this.#randomAt, this.#randomAt + 16);
    this.#randomAt += 16;
    return id;
  }

  async #bySecret(username: string, secret: string): Promise<Principal | undefined> {
    const { db, clock, auth } = this.#deps;
    if (secret.startsWith(TOKEN_PREFIX)) {
      const caller = await auth.authenticate({ bearer: secret });
      return caller && caller.username === username ? { kind: 'user', caller } : undefined;
    }
    if (secret.startsWith(PULL_SECRET_PREFIX)) {
      const found = await findPullCredentialBySecret(db, hashSecret(secret));
      return found && found.username === username ? { kind: 'application', ...found } : undefined;
    }
    const robot = await findRobotBySecret(db, hashSecret(secret));
    const now = clock();
    if (!robot || robot.username !== username || robot.expiresAt.getTime() <= now.getTime()) return undefined;
    if (!robot.lastUsedAt || now.getTime() - robot.lastUsedAt.getTime() > TOUCH_AFTER_MS) {
      await touchRobot(db, robot.id, now);
    }
    let repositoryId: number | null = null;
    if (robot.buildProjectId !== null) {
      const [row] = await db.query<{ id: number }>(
        'select image_repository_id as id from build_projects where id = $1',
        [robot.buildProjectId],
      );
      repositoryId = row?.id ?? null;
    }
    return { kind: 'robot', robot, repositoryId };
  }

  async #grant(principal: Principal, scope: RequestedScope): Promise<string[]> {
    if (scope.type === 'registry') {
      // The catalog names every repository: admins only.
      const admin = principal.kind === 'user' && principal.caller.admin;
      return admin && scope.name === 'catalog' ? scope.actions.filter((a) => a === '*') : [];
    }
    if (scope.type !== 'repository' || scope.class !== undefined) return [];
    const requested = scope.actions.flatMap((a) => (a === '*' ? [...REGISTRY_ACTIONS] : [a]));
    // One round trip for the repository and the caller's roles on it and its group.
    const found = await this.#findWithRoles(
      scope.name,
      principal.kind === 'user' ? principal.caller.userId : 0,
    );
    let ref: ResourceRef | undefined = found?.ref;
    let grant: Grant | undefined =
      found && principal.kind === 'user'
        ? {
            role: higherRole(found.own, found.group),
            admin: principal.caller.admin,
            public: found.ref.public === true,
          }
        : undefined;
    if (!ref && requested.includes('push') && this.#deps.createOnPush) {
      ref = await this.#createOnPush(principal, scope.name);
      grant = undefined;
    }
    if (!ref) return [];
    const allowed = await this.#allowed(principal, ref, grant);
    const granted = REGISTRY_ACTIONS.filter((a) => requested.includes(a) && allowed.has(a));
    // `*` is granted as asked only when everything it stands for is.
    const star = scope.actions.includes('*') && granted.length === REGISTRY_ACTIONS.length ? ['*'] : [];
    return [...granted, ...star];
  }

  /** The repository and the user's roles on it, from the cache when looked up a moment ago. */
  async #findWithRoles(name: string, userId: number): Promise<RepositoryWithRoles | undefined> {
    const cache = this.#deps.cache;
    const cached = cache.repository(userId, name);
    if (cached) return cached;
    const generation = cache.generation;
    const found = await findWithRoles(this.#deps.db, name, userId);
    // Only found ones: a repository created by a first push must be seen at once.
    if (found) cache.rememberRepository(userId, name, found, generation);
    return found;
  }

  async #allowed(principal: Principal, ref: ResourceRef, known?: Grant): Promise<Set<RobotAction>> {
    const allowed = new Set<RobotAction>();
    if (ref.public) allowed.add('pull');
    if (principal.kind === 'user') {
      const grant = known ?? (await grantOf(this.#deps.db, principal.caller, ref));
      for (const a of REGISTRY_ACTIONS) if (can(grant, 'image-repository', TABLE_ACTION[a])) allowed.add(a);
    } else if (principal.kind === 'robot') {
      const { robot, repositoryId } = principal;
      const mine = robot.imageGroupId !== null ? ref.groupId === robot.imageGroupId : ref.id === repositoryId;
      if (mine) for (const a of robot.actions) allowed.add(a);
    } else if (principal.kind === 'application' && principal.repositoryIds.includes(ref.id)) {
      allowed.add('pull');
    }
    return allowed;
  }

  /** Creates `group/name` for a first push, if the principal may; the ref, or undefined. */
  async #createOnPush(principal: Principal, fullName: string): Promise<ResourceRef | undefined> {
    const [groupName, name, ...rest] = fullName.split('/');
    if (!groupName || !name || rest.length > 0 || !ImageRepositoryNameSchema.safeParse(name).success) {
      return undefined;
    }
    const { db, clock } = this.#deps;
    try {
      return await db.transaction(async (tx) => {
        const group = await findImageGroup(tx, groupName, { forUpdate: true });
        if (!group) return undefined;
        const creator = await this.#creator(tx, principal, group.id);
        if (!creator) return undefined;
        const existing = await findResource(tx, 'image-repository', fullName);
        if (existing) return existing;
        const at = clock();
        const row = await insertImageRepository(tx, {
          groupId: group.id,
          group: groupName,
          name,
          description: '',
          public: false,
          createdById: creator.userId,
          at,
        });
        await addMember(tx, 'image-repository', row.id, creator.userId, 'owner', at);
        const params = {
          name,
          public: false,
          firstPush: true,
          ...(creator.robot ? { robot: creator.robot } : {}),
        };
        for (const target of [
          { kind: 'image-repository' as const, id: row.id, name: fullName },
          { kind: 'image-group' as const, id: group.id, name: groupName },
        ]) {
          await insertActivity(tx, {
            at,
            actorId: creator.userId,
            target,
            action: 'create',
            params,
            result: 'succeeded',
          });
        }
        this.#deps.logger.info(
          { repository: fullName, by: creator.robot ?? creator.userId },
          'image repository created on first push',
        );
        return { kind: 'image-repository', id: row.id, name: fullName, groupId: group.id, public: false };
      });
    } catch (error) {
      // Two first pushes at once: the other one created it.
      if (isUniqueViolation(error)) return findResource(db, 'image-repository', fullName);
      throw error;
    }
  }

  /** Who becomes the new repository's Owner: the user, or a pushing robot's creator. */
  async #creator(
    q: Queryable,
    principal: Principal,
    groupId: number,
  ): Promise<{ userId: number; robot?: string } | undefined> {
    if (principal.kind === 'user') {
      const grant: Grant = await grantOf(q, principal.caller, { kind: 'image-group', id: groupId, name: '' });
      return can(grant, 'image-group', 'create-repository') ? { userId: principal.caller.userId } : undefined;
    }
    if (
      principal.kind === 'robot' &&
      principal.robot.imageGroupId === groupId &&
      principal.robot.actions.includes('push')
    ) {
      return { userId: principal.robot.createdById, robot: principal.robot.username };
    }
    return undefined;
  }
}

/** `group/name` with the user's direct and group roles on it; undefined when there is no such repository. */
async function findWithRoles(
  q: Queryable,
  fullName: string,
  userId: number,
): Promise<RepositoryWithRoles | undefined> {
  const [group, name, ...rest] = fullName.split('/');
  if (!group || !name || rest.length > 0) return undefined;
  const [row] = await q.query<{
    id: number;
    groupId: number;
    public: boolean;
    own: Role | null;
    group: Role | null;
  }>(
    `select r.id, r.group_id as "groupId", r.public,
            (select role from image_repository_members where image_repository_id = r.id and user_id = $3) as own,
            (select role from image_group_members where image_group_id = r.group_id and user_id = $3) as "group"
     from image_repositories r join image_groups g on g.id = r.group_id where g.name = $1 and r.name = $2`,
    [group, name, userId],
  );
  if (!row) return undefined;
  return {
    ref: { kind: 'image-repository', id: row.id, name: fullName, groupId: row.groupId, public: row.public },
    own: row.own,
    group: row.group,
  };
}

function subjectOf(principal: Principal): string {
  switch (principal.kind) {
    case 'anonymous':
      return '';
    case 'user':
      return principal.caller.username;
    case 'robot':
      return principal.robot.username;
    case 'application':
      return principal.username;
  }
}
