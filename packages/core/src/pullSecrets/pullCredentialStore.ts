import type { Queryable } from '../db/database.ts';

/** An application's pull credential as stored: the secret sealed, and its sha256. */
export interface PullCredentialRow {
  applicationId: number;
  username: string;
  secretSealed: string;
}

export async function findPullCredential(
  q: Queryable,
  applicationId: number,
): Promise<PullCredentialRow | undefined> {
  const [row] = await q.query<PullCredentialRow>(
    `select application_id as "applicationId", username, secret_sealed as "secretSealed"
     from application_pull_credentials where application_id = $1`,
    [applicationId],
  );
  return row;
}

/** Inserts the application's credential unless it has one (a concurrent insert wins). */
export async function insertPullCredential(
  q: Queryable,
  c: { applicationId: number; username: string; secretSealed: string; secretHash: string; at: Date },
): Promise<void> {
  await q.query(
    `insert into application_pull_credentials (application_id, username, secret_sealed, secret_hash, created_at)
     values ($1, $2, $3, $4, $5) on conflict (application_id) do nothing`,
    [c.applicationId, c.username, c.secretSealed, c.secretHash, c.at],
  );
}

/**
 * The application whose credential has this secret (by its sha256), with the ids of the
 * repositories it may pull; one round trip.
 */
export async function findPullCredentialBySecret(
  q: Queryable,
  secretHash: string,
): Promise<{ applicationId: number; username: string; repositoryIds: number[] } | undefined> {
  const [row] = await q.query<{ applicationId: number; username: string; repositoryIds: number[] }>(
    `select c.application_id as "applicationId", c.username,
            coalesce(array(select image_repository_id from application_image_repositories g
                           where g.application_id = c.application_id), '{}') as "repositoryIds"
     from application_pull_credentials c where c.secret_hash = $1`,
    [secretHash],
  );
  return row;
}

/** Lets the application's credential pull the repository (kept until either is deleted). */
export async function grantRepository(
  q: Queryable,
  g: { applicationId: number; repositoryId: number; grantedById: number; at: Date },
): Promise<void> {
  await q.query(
    `insert into application_image_repositories (application_id, image_repository_id, granted_by, granted_at)
     values ($1, $2, $3, $4) on conflict do nothing`,
    [g.applicationId, g.repositoryId, g.grantedById, g.at],
  );
}

/** The repositories (`group/name`) an application's credential may pull, by name. */
export async function grantedRepositories(q: Queryable, applicationId: number): Promise<string[]> {
  const rows = await q.query<{ name: string }>(
    `select g2.name || '/' || r.name as name from application_image_repositories g
     join image_repositories r on r.id = g.image_repository_id join image_groups g2 on g2.id = r.group_id
     where g.application_id = $1 order by 1`,
    [applicationId],
  );
  return rows.map((r) => r.name);
}

/** Gives the application's credential a new secret; false if it has none yet. The old one stops matching. */
export async function replacePullSecret(
  q: Queryable,
  c: { applicationId: number; secretSealed: string; secretHash: string },
): Promise<boolean> {
  const rows = await q.query<{ applicationId: number }>(
    `update application_pull_credentials set secret_sealed = $2, secret_hash = $3
     where application_id = $1 returning application_id as "applicationId"`,
    [c.applicationId, c.secretSealed, c.secretHash],
  );
  return rows.length > 0;
}
