import type { Token } from '@leengine/common';
import type { Queryable } from '../db/database.ts';
import { feedClause, toFeedPage } from '../db/page.ts';

/** A credential (session or token) joined with its user, as authentication needs it. */
export interface CredentialRow {
  userId: number;
  username: string;
  admin: boolean;
  disabled: boolean;
  expiresAt: Date;
  /** Tokens only. */
  tokenId?: number;
  lastUsedAt?: Date | null;
  revokedAt?: Date | null;
}

export async function insertSession(
  q: Queryable,
  session: { secretHash: string; userId: number; at: Date; expiresAt: Date },
): Promise<void> {
  await q.query(
    'insert into sessions (secret_hash, user_id, created_at, expires_at) values ($1, $2, $3, $4)',
    [session.secretHash, session.userId, session.at, session.expiresAt],
  );
}

export async function findSession(q: Queryable, secretHash: string): Promise<CredentialRow | undefined> {
  const [row] = await q.query<CredentialRow>(
    `select u.id as "userId", u.username, u.admin, u.disabled, s.expires_at as "expiresAt"
     from sessions s join users u on u.id = s.user_id where s.secret_hash = $1`,
    [secretHash],
  );
  return row;
}

export async function deleteSession(q: Queryable, secretHash: string): Promise<void> {
  await q.query('delete from sessions where secret_hash = $1', [secretHash]);
}

/** Ends every session of a user but `keep` (after a password change). */
export async function deleteSessionsOf(q: Queryable, userId: number, keep?: string): Promise<void> {
  await q.query('delete from sessions where user_id = $1 and secret_hash <> $2', [userId, keep ?? '']);
}

export async function deleteExpiredSessions(q: Queryable, now: Date): Promise<void> {
  await q.query('delete from sessions where expires_at <= $1', [now]);
}

interface TokenRow {
  id: number;
  name: string;
  createdAt: Date;
  expiresAt: Date;
  lastUsedAt: Date | null;
}

export function toToken(row: TokenRow): Token {
  return {
    id: row.id,
    name: row.name,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  };
}

const TOKEN_COLUMNS = `id, name, created_at as "createdAt", expires_at as "expiresAt", last_used_at as "lastUsedAt"`;

export async function insertToken(
  q: Queryable,
  token: { userId: number; name: string; secretHash: string; at: Date; expiresAt: Date },
): Promise<Token> {
  const [row] = await q.query<TokenRow>(
    `insert into access_tokens (user_id, name, secret_hash, created_at, expires_at)
     values ($1, $2, $3, $4, $5) returning ${TOKEN_COLUMNS}`,
    [token.userId, token.name, token.secretHash, token.at, token.expiresAt],
  );
  return toToken(row as TokenRow);
}

export async function findToken(q: Queryable, secretHash: string): Promise<CredentialRow | undefined> {
  const [row] = await q.query<CredentialRow>(
    `select u.id as "userId", u.username, u.admin, u.disabled, t.id as "tokenId",
            t.expires_at as "expiresAt", t.last_used_at as "lastUsedAt", t.revoked_at as "revokedAt"
     from access_tokens t join users u on u.id = t.user_id where t.secret_hash = $1`,
    [secretHash],
  );
  return row;
}

export async function touchToken(q: Queryable, tokenId: number, at: Date): Promise<void> {
  await q.query('update access_tokens set last_used_at = $2 where id = $1', [tokenId, at]);
}

/** A user's tokens that are not revoked, newest first. */
export async function listTokens(q: Queryable, userId: number, cursor: string | undefined, limit: number) {
  const params: unknown[] = [userId];
  const page = feedClause('id', cursor, limit, params);
  const rows = await q.query<TokenRow>(
    `select ${TOKEN_COLUMNS} from access_tokens
     where user_id = $1 and revoked_at is null and ${page.after} ${page.orderBy} ${page.limit}`,
    params,
  );
  return toFeedPage(rows, limit, toToken);
}

/** Revokes one of the user's tokens; false when there is no such live token. */
export async function revokeToken(
  q: Queryable,
  userId: number,
  tokenId: number,
  at: Date,
): Promise<Token | undefined> {
  const [row] = await q.query<TokenRow>(
    `update access_tokens set revoked_at = $3
     where id = $2 and user_id = $1 and revoked_at is null returning ${TOKEN_COLUMNS}`,
    [userId, tokenId, at],
  );
  return row ? toToken(row) : undefined;
}
