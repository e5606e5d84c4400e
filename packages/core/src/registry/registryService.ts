import { createHash, timingSafeEqual } from 'node:crypto';
import {
  ConflictError,
  NotFoundError,
  type RegistryTag,
  type RegistryTagList,
  UnavailableError,
} from '@leengine/common';
import type { Logger } from 'pino';
import { findResource } from '../access/resourceRef.ts';
import type { ActivityService } from '../activity/activityService.ts';
import { type ActivityTarget, insertActivity } from '../activity/activityStore.ts';
import type { Caller } from '../auth/caller.ts';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import type { ImageRepositoryService } from '../imageRepositories/imageRepositoryService.ts';
import { findRobotByUsername } from '../robots/robotStore.ts';
import { findUserByName } from '../users/userStore.ts';
import { claimRegistryEvent, insertImagePush, latestPushes } from './imagePushStore.ts';
import { MANIFEST_TYPES, type RegistryClient } from './registryClient.ts';
import { CORE_SUBJECT } from './registryTokenService.ts';

/** One event of the registry's notification envelope (distribution's `notifications.Event`). */
export interface RegistryEvent {
  id: string;
  timestamp: string;
  action: string;
  target?: { mediaType?: string; digest?: string; repository?: string; tag?: string; size?: number };
  actor?: { name?: string };
}

export interface RegistryServiceDeps {
  db: Database;
  clock: Clock;
  logger: Logger;
  activity: ActivityService;
  imageRepositories: ImageRepositoryService;
  /** Undefined when core has no registry (REGISTRY_URL unset): tag reads answer 503. */
  client: RegistryClient | undefined;
  /** What the registry's notification endpoint sends as `Authorization: Bearer <secret>`. */
  notificationSecret?: string | undefined;
}

/** What the registry holds, as core shows and changes it: tags, pushes, tag deletion. */
export class RegistryService {
  readonly #deps: RegistryServiceDeps;

  private constructor(deps: RegistryServiceDeps) {
    this.#deps = deps;
  }

  static create(deps: RegistryServiceDeps): RegistryService {
    return new RegistryService(deps);
  }

  /** Where clients reach the region registry (`host:port`), for pull commands; null without one. */
  host(): string | null {
    return this.#deps.client?.host ?? null;
  }

  /** Is this the Authorization header the registry's notifications carry? (Constant time.) */
  acceptsNotification(authorization: string | undefined): boolean {
    const secret = this.#deps.notificationSecret;
    if (!secret) return false;
    const given = createHash('sha256')
      .update(authorization ?? '')
      .digest();
    return timingSafeEqual(given, createHash('sha256').update(`Bearer ${secret}`).digest());
  }

  /** The repository's tags as the registry holds them now, with who pushed each and when (`read`). */
  async tags(caller: Caller, group: string, name: string): Promise<RegistryTagList> {
    const { row } = await this.#deps.imageRepositories.load(this.#deps.db, caller, group, name, 'read');
    const client = this.#client();
    const tags = await client.tags(row.fullName);
    const pushes = await latestPushes(this.#deps.db, row.id);
    const items: RegistryTag[] = [];
    // A handful of manifests at a time: enough to be quick, not a flood on the registry.
    for (let i = 0; i < tags.length; i += 8) {
      const batch = await Promise.all(
        tags
          .slice(i, i + 8)
          .map(async (tag) => ({ tag, manifest: await client.manifest(row.fullName, tag) })),
      );
      for (const { tag, manifest } of batch) {
        if (!manifest) continue; // deleted between the list and the read
        const push = pushes.get(tag);
        const known = push && push.digest === manifest.digest;
        items.push({
          tag,
          digest: manifest.digest,
          mediaType: manifest.mediaType,
          size: manifest.size,
          pushedAt: known ? push.pushedAt.toISOString() : null,
          pushedBy: known ? push.pushedBy : null,
        });
      }
    }
    return { items };
  }

  /**
   * Deletes a tag (`delete-tag`). The registry (2.8) deletes manifests, not tags: the
   * manifest the tag points at goes, so a tag sharing it with other tags is a conflict
   * naming them, rather than a silent loss of the others.
   */
  async deleteTag(caller: Caller, group: string, name: string, tag: string): Promise<void> {
    await this.#deps.activity.change(caller, 'delete-tag', { tag }, async (tx, setTarget) => {
      const { row } = await this.#deps.imageRepositories.load(
        tx,
        caller,
        group,
        name,
        'delete-tag',
        setTarget,
      );
      const client = this.#client();
      const manifest = await client.manifest(row.fullName, tag);
      if (!manifest) throw new NotFoundError(`tag "${tag}" not found in ${row.fullName}`);
      const others: string[] = [];
      for (const other of await client.tags(row.fullName)) {
        if (other !== tag && (await client.manifest(row.fullName, other))?.digest === manifest.digest) {
          others.push(other);
        }
      }
      if (others.length > 0) {
        throw new ConflictError(
          `tag "${tag}" shares its manifest ${manifest.digest} with ${others.map((t) => `"${t}"`).join(', ')}; the registry deletes manifests, so delete those tags together or re-push them first`,
        );
      }
      if (!(await client.deleteManifest(row.fullName, manifest.digest))) {
        throw new NotFoundError(`tag "${tag}" not found in ${row.fullName}`);
      }
      return { digest: manifest.digest };
    });
  }

  /**
   * Records what the registry reports: a manifest pushed under a tag becomes a push (the
   * repository's activity, the push statistics, the tag's pusher); a manifest deleted
   * through the registry API becomes a `delete-tag`. Blob events, pulls and core's own
   * deletes are not recorded. Redelivered events are recorded once.
   */
  async recordEvents(events: RegistryEvent[]): Promise<{ recorded: number }> {
    let recorded = 0;
    for (const event of events) {
      try {
        if (await this.#record(event)) recorded += 1;
      } catch (error) {
        this.#deps.logger.error(
          { err: error, event: event.id, action: event.action },
          'registry event not recorded',
        );
        throw error;
      }
    }
    return { recorded };
  }

  async #record(event: RegistryEvent): Promise<boolean> {
    const target = event.target ?? {};
    const actorName = event.actor?.name ?? '';
    if (!target.repository || !target.digest) return false;
    const isManifest = MANIFEST_TYPES.includes(target.mediaType ?? '') || event.action === 'delete';
    if (!isManifest || actorName === CORE_SUBJECT) return false;
    if (event.action === 'push' && !target.tag) return false; // by digest: an index's child
    if (event.action !== 'push' && event.action !== 'delete') return false;
    const { db, logger } = this.#deps;
    const actor = await this.#actor(actorName);
    return db.transaction(async (tx) => {
      const ref = await findResource(tx, 'image-repository', target.repository as string);
      if (!ref) {
        logger.warn(
          { repository: target.repository, event: event.id },
          'registry event for a repository core does not know',
        );
        return false;
      }
      if (!(await claimRegistryEvent(tx, event.id, this.#deps.clock()))) return false;
      const at = parseTime(event.timestamp) ?? this.#deps.clock();
      const activityTarget: ActivityTarget = { kind: 'image-repository', id: ref.id, name: ref.name };
      if (event.action === 'push') {
        await insertImagePush(tx, {
          repositoryId: ref.id,
          tag: target.tag as string,
          digest: target.digest as string,
          mediaType: target.mediaType as string,
          pushedAt: at,
          userId: actor?.userId ?? null,
          robotUsername: actor?.robot ?? null,
        });
        if (actor) {
          await insertActivity(tx, {
            at,
            actorId: actor.userId,
            target: activityTarget,
            action: 'push',
            params: {
              tag: target.tag,
              digest: target.digest,
              ...(actor.robot ? { robot: actor.robot } : {}),
            },
            result: 'succeeded',
          });
        }
        return true;
      }
      if (!actor) return false;
      await insertActivity(tx, {
        at,
        actorId: actor.userId,
        target: activityTarget,
        action: 'delete-tag',
        params: { digest: target.digest, via: 'registry', ...(actor.robot ? { robot: actor.robot } : {}) },
        result: 'succeeded',
      });
      return true;
    });
  }

  /** The user a token subject names, or a robot's creator (who answers for it). */
  async #actor(name: string): Promise<{ userId: number; robot?: string } | undefined> {
    if (name === '') return undefined;
    if (name.startsWith('robot$')) {
      const robot = await findRobotByUsername(this.#deps.db, name);
      return robot ? { userId: robot.createdById, robot: robot.username } : undefined;
    }
    const user = await findUserByName(this.#deps.db, name);
    return user ? { userId: user.id } : undefined;
  }

  #client(): RegistryClient {
    if (!this.#deps.client) throw new UnavailableError('core has no registry configured (REGISTRY_URL)');
    return this.#deps.client;
  }
}

function parseTime(s: string): Date | undefined {
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : new Date(t);
}
