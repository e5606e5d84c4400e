import { hashSecret, newSecret } from '../auth/secrets.ts';
import type { SecretBox } from '../crypto/secretBox.ts';
import type { Queryable } from '../db/database.ts';
import { findPullCredential, insertPullCredential, replacePullSecret } from './pullCredentialStore.ts';

/** Pull secrets start with this, so secret scanners can find leaked ones. */
export const PULL_SECRET_PREFIX = 'lee_pull_';

/** The Secret every application namespace gets, and its pods reference (`imagePullSecrets`). */
export const PULL_SECRET_NAME = 'leengine-pull';

/** The registry login of an application's credential (no user or robot name has `$app$`). */
export function pullUsername(application: string): string {
  return `robot$app$${application}`;
}

/** What the secret is sealed for: its application (a sealed value copied to another row does not open). */
function pullContext(applicationId: number): string {
  return `pull:${applicationId}`;
}

/**
 * The application's registry credential, made on first use: a secret of 256 random bits
 * kept sealed (core writes it into every cell the application is placed on) and as its
 * sha256 (how the token service finds it). It pulls only the repositories the
 * application's deploys were granted.
 */
export async function ensurePullCredential(
  q: Queryable,
  box: SecretBox,
  application: { id: number; name: string },
  at: Date,
): Promise<{ username: string; secret: string }> {
  let row = await findPullCredential(q, application.id);
  if (!row) {
    const secret = newSecret(PULL_SECRET_PREFIX);
    await insertPullCredential(q, {
      applicationId: application.id,
      username: pullUsername(application.name),
      secretSealed: box.seal(secret, pullContext(application.id)),
      secretHash: hashSecret(secret),
      at,
    });
    row = await findPullCredential(q, application.id);
    if (!row) throw new Error(`the pull credential of ${application.name} vanished`);
  }
  return { username: row.username, secret: box.open(row.secretSealed, pullContext(application.id)) };
}

/**
 * Gives the application's credential a new secret (made if it had none): the old secret
 * no longer matches any credential, so it gets no token from then on. The cells'
 * `leengine-pull` Secrets are rewritten by the cell reconciler, which compares them with
 * this.
 */
export async function rotatePullCredential(
  q: Queryable,
  box: SecretBox,
  application: { id: number; name: string },
  at: Date,
): Promise<{ username: string }> {
  const secret = newSecret(PULL_SECRET_PREFIX);
  const sealed = {
    secretSealed: box.seal(secret, pullContext(application.id)),
    secretHash: hashSecret(secret),
  };
  if (!(await replacePullSecret(q, { applicationId: application.id, ...sealed }))) {
    await insertPullCredential(q, {
      applicationId: application.id,
      username: pullUsername(application.name),
      ...sealed,
      at,
    });
  }
  return { username: pullUsername(application.name) };
}
