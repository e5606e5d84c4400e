import type { Logger } from 'pino';
import { hashSecret, newSecret } from '../auth/secrets.ts';
import type { Clock } from '../clock.ts';
import type { Queryable } from '../db/database.ts';
import { ROBOT_SECRET_PREFIX, robotUsername } from '../robots/robotService.ts';
import { deleteRobot, findRobot, insertRobot } from '../robots/robotStore.ts';

/** A registry credential for one build attempt. */
export interface PushCredential {
  username: string;
  password: string;
  expiresAt: Date;
}

/** What a build attempt's credential is made for. */
export interface CredentialRequest {
  buildId: number;
  buildNumber: number;
  attempt: number;
  projectId: number;
  project: string;
  /** The user the robot's pushes are recorded under (the build's trigger, else the project's creator). */
  userId: number;
  /** The build's timeout: the credential does not outlive it. */
  timeoutSeconds: number;
}

/** Issues and revokes short-lived push credentials for builds (core's `PushCredentials` hook). */
export interface PushCredentials {
  issue(q: Queryable, request: CredentialRequest): Promise<PushCredential | null>;
  /** Ends every credential of the build (all attempts) at once: their secrets stop working. */
  revoke(
    q: Queryable,
    build: { id: number; number: number; projectId: number; attempts: number },
  ): Promise<void>;
  /** Deletes build credentials that ended more than a day ago. */
  sweep(q: Queryable): Promise<number>;
}

/**
 * How long an ended build credential stays (unusable) before it is deleted: the registry
 * reports a push asynchronously, retrying until core answers, and names the robot that
 * pushed; the robot's row tells which user answers for it.
 */
const KEEP_ENDED_MS = 24 * 3_600_000;

/** Robot names users cannot pick (the API allows no "."): `build.<number>.<attempt>`. */
export function buildRobotName(buildNumber: number, attempt: number): string {
  return `build.${buildNumber}.${attempt}`;
}

/**
 * Push credentials as robots of the build project: `robot$build$<project>+build.<n>.<attempt>`,
 * holding pull and push on the project's image repository only (the token service's rule
 * for build-project robots), expiring with the build's timeout and ended when the build
 * ends (kept a day, unusable, so late push notifications still name who pushed). Each
 * request makes a new secret (the previous one stops working); core keeps only its sha256.
 */
export interface BuildRobotsDeps {
  clock: Clock;
  logger: Logger;
  /** A credential stopped working (replaced or ended): caches of verified credentials must forget it. */
  ended?: () => void;
}

export class BuildRobots implements PushCredentials {
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #ended: () => void;

  private constructor(deps: BuildRobotsDeps) {
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#ended = deps.ended ?? (() => {});
  }

  static create(deps: BuildRobotsDeps): BuildRobots {
    return new BuildRobots(deps);
  }

  async issue(q: Queryable, request: CredentialRequest): Promise<PushCredential> {
    const owner = { kind: 'build-project', id: request.projectId } as const;
    const name = buildRobotName(request.buildNumber, request.attempt);
    const now = this.#clock();
    const existing = await findRobot(q, owner, name);
    // The attempt's first credential sets the expiry; a later one replaces the secret only.
    const expiresAt = existing?.expiresAt ?? new Date(now.getTime() + request.timeoutSeconds * 1000);
    if (existing) {
      await deleteRobot(q, existing.id);
      this.#ended();
    }
    const secret = newSecret(ROBOT_SECRET_PREFIX);
    const username = robotUsername('build-project', request.project, name);
    await insertRobot(q, {
      owner,
      name,
      username,
      description: `push credential of build #${request.buildNumber} (attempt ${request.attempt}); deleted when it ends`,
      actions: ['pull', 'push'],
      secretHash: hashSecret(secret),
      createdById: request.userId,
      at: now,
      expiresAt,
    });
    this.#logger.info(
      { buildId: request.buildId, project: request.project, robot: username, expiresAt },
      'build push credential issued',
    );
    return { username, password: secret, expiresAt };
  }

  async revoke(
    q: Queryable,
    build: { id: number; number: number; projectId: number; attempts: number },
  ): Promise<void> {
    const names = Array.from({ length: Math.max(build.attempts, 1) }, (_, i) =>
      buildRobotName(build.number, i + 1),
    );
    const ended = await q.query<{ username: string }>(
      `update robot_accounts set expires_at = $3
       where build_project_id = $1 and name = any($2) and expires_at > $3 returning username`,
      [build.projectId, names, this.#clock()],
    );
    if (ended.length > 0) {
      this.#ended();
      this.#logger.info(
        { buildId: build.id, robots: ended.map((r) => r.username) },
        'build push credentials revoked',
      );
    }
  }

  async sweep(q: Queryable): Promise<number> {
    const deleted = await q.query<{ id: number }>(
      `delete from robot_accounts where build_project_id is not null and name like 'build.%' and expires_at <= $1
       returning id`,
      [new Date(this.#clock().getTime() - KEEP_ENDED_MS)],
    );
    return deleted.length;
  }
}
