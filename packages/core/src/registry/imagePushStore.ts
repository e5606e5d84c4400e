import type { Queryable } from '../db/database.ts';

export interface ImagePush {
  repositoryId: number;
  tag: string;
  digest: string;
  mediaType: string;
  pushedAt: Date;
  userId: number | null;
  robotUsername: string | null;
}

/** Marks a registry event as recorded; false when it was before (a redelivery). */
export async function claimRegistryEvent(q: Queryable, eventId: string, at: Date): Promise<boolean> {
  const rows = await q.query(
    'insert into registry_events (event_id, received_at) values ($1, $2) on conflict (event_id) do nothing returning event_id',
    [eventId, at],
  );
  return rows.length > 0;
}

export async function insertImagePush(q: Queryable, push: ImagePush): Promise<void> {
  await q.query(
    `insert into image_pushes (image_repository_id, tag, digest, media_type, pushed_at, user_id, robot_username)
     values ($1, $2, $3, $4, $5, $6, $7)`,
    [
      push.repositoryId,
      push.tag,
      push.digest,
      push.mediaType,
      push.pushedAt,
      push.userId,
      push.robotUsername,
    ],
  );
}

/** The latest recorded push of each tag of a repository: who and when, and the digest it pushed. */
export async function latestPushes(
  q: Queryable,
  repositoryId: number,
): Promise<Map<string, { digest: string; pushedAt: Date; pushedBy: string | null }>> {
  const rows = await q.query<{ tag: string; digest: string; pushedAt: Date; pushedBy: string | null }>(
    `select distinct on (p.tag) p.tag, p.digest, p.pushed_at as "pushedAt",
            coalesce(p.robot_username, u.username) as "pushedBy"
     from image_pushes p left join users u on u.id = p.user_id
     where p.image_repository_id = $1 order by p.tag, p.id desc`,
    [repositoryId],
  );
  return new Map(rows.map((r) => [r.tag, { digest: r.digest, pushedAt: r.pushedAt, pushedBy: r.pushedBy }]));
}
