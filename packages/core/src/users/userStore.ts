import type { User, UserListQuery } from '@leengine/common';
import type { Queryable } from '../db/database.ts';
import { feedClause, toFeedPage } from '../db/page.ts';

export interface UserRow {
  id: number;
  username: string;
  displayName: string;
  email: string | null;
  passwordHash: string;
  admin: boolean;
  disabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `id, username, display_name as "displayName", email, password_hash as "passwordHash",
  admin, disabled, created_at as "createdAt", updated_at as "updatedAt"`;

/** The API form of a user (never the password hash). */
export function toUser(row: UserRow): User {
  return {
    username: row.username,
    displayName: row.displayName,
    email: row.email,
    admin: row.admin,
    disabled: row.disabled,
    createdAt: row.createdAt.toISOString(),
  };
}

export async function insertUser(
  q: Queryable,
  user: {
    username: string;
    displayName: string;
    email: string | null;
    passwordHash: string;
    admin: boolean;
    at: Date;
  },
): Promise<UserRow> {
  const [row] = await q.query<UserRow>(
    `insert into users (username, display_name, email, password_hash, admin, created_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, $6) returning ${COLUMNS}`,
    [user.username, user.displayName, user.email, user.passwordHash, user.admin, user.at],
  );
  return row as UserRow;
}

export async function findUserByName(
  q: Queryable,
  username: string,
  options: { forUpdate?: boolean } = {},
): Promise<UserRow | undefined> {
  const [row] = await q.query<UserRow>(
    `select ${COLUMNS} from users where username = $1 ${options.forUpdate ? 'for update' : ''}`,
    [username],
  );
  return row;
}

export async function findUserById(q: Queryable, id: number): Promise<UserRow | undefined> {
  const [row] = await q.query<UserRow>(`select ${COLUMNS} from users where id = $1`, [id]);
  return row;
}

export async function listUsers(q: Queryable, query: UserListQuery) {
  const params: unknown[] = [];
  let search = 'true';
  if (query.q) {
    params.push(query.q.toLowerCase());
    search = `(strpos(username, $1) > 0 or strpos(lower(display_name), $1) > 0)`;
  }
  // Users page by id (oldest first would need another cursor kind): newest accounts first.
  const page = feedClause('id', query.cursor, query.limit, params);
  const rows = await q.query<UserRow>(
    `select ${COLUMNS} from users where ${search} and ${page.after} ${page.orderBy} ${page.limit}`,
    params,
  );
  return toFeedPage(rows, query.limit, toUser);
}

export async function updateUser(
  q: Queryable,
  id: number,
  changes: {
    displayName?: string | undefined;
    email?: string | null | undefined;
    admin?: boolean | undefined;
    disabled?: boolean | undefined;
    passwordHash?: string | undefined;
  },
  at: Date,
): Promise<UserRow> {
  const [row] = await q.query<UserRow>(
    `update users set
       display_name = coalesce($2, display_name),
       email = case when $3::boolean then $4 else email end,
       admin = coalesce($5, admin),
       disabled = coalesce($6, disabled),
       password_hash = coalesce($7, password_hash),
       updated_at = $8
     where id = $1 returning ${COLUMNS}`,
    [
      id,
      changes.displayName ?? null,
      changes.email !== undefined,
      changes.email ?? null,
      changes.admin ?? null,
      changes.disabled ?? null,
      changes.passwordHash ?? null,
      at,
    ],
  );
  return row as UserRow;
}

/** Admins who can still sign in. */
export async function countActiveAdmins(q: Queryable): Promise<number> {
  const [row] = await q.query<{ n: number }>(
    'select count(*)::int as n from users where admin and not disabled',
  );
  return row?.n ?? 0;
}

export async function countUsers(q: Queryable): Promise<number> {
  const [row] = await q.query<{ n: number }>('select count(*)::int as n from users');
  return row?.n ?? 0;
}
