import { randomBytes } from 'node:crypto';
import {
  ConflictError,
  type CreateUser,
  NotAllowedError,
  NotAuthenticatedError,
  NotFoundError,
  type Page,
  type UpdateMe,
  type UpdateUser,
  type User,
  type UserListQuery,
} from '@leengine/common';
import type { ActivityService } from '../activity/activityService.ts';
import type { Caller } from '../auth/caller.ts';
import { deleteSessionsOf } from '../auth/credentialStore.ts';
import { hashPassword, verifyPassword } from '../auth/passwords.ts';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import { isUniqueViolation } from '../db/errors.ts';
import {
  countActiveAdmins,
  findUserById,
  findUserByName,
  insertUser,
  listUsers,
  toUser,
  type UserRow,
  updateUser,
} from './userStore.ts';

export interface UserServiceDeps {
  db: Database;
  clock: Clock;
  activity: ActivityService;
}

/** The first admin's credentials, shown once by the command that created them. */
export interface FirstAdmin {
  username: string;
  password: string;
}

/** Local users: created by admins; each may edit their own profile and password. */
export class UserService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #activity: ActivityService;

  private constructor(deps: UserServiceDeps) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#activity = deps.activity;
  }

  static create(deps: UserServiceDeps): UserService {
    return new UserService(deps);
  }

  /**
   * Creates the admin `admin` with a random password when there is no user at all, and
   * returns the credentials (the only time the password exists in clear). Null when
   * there are users already: it runs at every start and creates the admin once.
   */
  async ensureFirstAdmin(): Promise<FirstAdmin | null> {
    const [existing] = await this.#db.query<{ any: boolean }>('select exists (select 1 from users) as any');
    if (existing?.any) return null;
    const password = randomBytes(18).toString('base64url');
    const passwordHash = await hashPassword(password);
    return this.#db.transaction(async (tx) => {
      // Two cores starting on an empty database: one creates the admin.
      await tx.query('lock table users in share row exclusive mode');
      const [row] = await tx.query<{ any: boolean }>('select exists (select 1 from users) as any');
      if (row?.any) return null;
      await insertUser(tx, {
        username: 'admin',
        displayName: 'Administrator',
        email: null,
        passwordHash,
        admin: true,
        at: this.#clock(),
      });
      return { username: 'admin', password };
    });
  }

  async create(caller: Caller, input: CreateUser): Promise<User> {
    assertAdmin(caller);
    const passwordHash = await hashPassword(input.password);
    return this.#activity.change(caller, 'create', input, async (tx, setTarget) => {
      setTarget({ kind: 'user', id: null, name: input.username });
      if (await findUserByName(tx, input.username)) throw taken(input.username);
      let row: UserRow;
      try {
        row = await insertUser(tx, { ...input, email: input.email ?? null, passwordHash, at: this.#clock() });
      } catch (error) {
        throw isUniqueViolation(error) ? taken(input.username) : error;
      }
      setTarget({ kind: 'user', id: row.id, name: row.username });
      return toUser(row);
    });
  }

  /** Any signed-in user may look others up (to add them as members); e-mail only for self and admins. */
  async get(caller: Caller, username: string): Promise<User> {
    const row = await findUserByName(this.#db, username);
    if (!row) throw new NotFoundError(`user "${username}" not found`);
    return this.#visible(caller, row);
  }

  async me(caller: Caller): Promise<User> {
    const row = await findUserById(this.#db, caller.userId);
    if (!row) throw new NotAuthenticatedError('the signed-in user no longer exists');
    return toUser(row);
  }

  async list(caller: Caller, query: UserListQuery): Promise<Page<User>> {
    const page = await listUsers(this.#db, query);
    return { ...page, items: page.items.map((u) => (caller.admin ? u : { ...u, email: null })) };
  }

  /** Admin changes; the last active admin keeps the admin flag and cannot be disabled. */
  async update(caller: Caller, username: string, input: UpdateUser): Promise<User> {
    assertAdmin(caller);
    const passwordHash = input.password ? await hashPassword(input.password) : undefined;
    return this.#activity.change(caller, 'update', input, async (tx, setTarget) => {
      const row = await findUserByName(tx, username, { forUpdate: true });
      if (!row) throw new NotFoundError(`user "${username}" not found`);
      setTarget({ kind: 'user', id: row.id, name: row.username });
      const losesAdmin = row.admin && !row.disabled && (input.admin === false || input.disabled === true);
      if (losesAdmin) {
        await tx.query('lock table users in share row exclusive mode');
        if ((await countActiveAdmins(tx)) <= 1) {
          throw new ConflictError('the last active admin cannot lose the admin role or be disabled');
        }
      }
      const updated = await updateUser(tx, row.id, { ...input, passwordHash }, this.#clock());
      // A disabled user or a reset password ends the user's sessions (tokens are checked
      // against `disabled` on every request).
      if (input.disabled === true || passwordHash) await deleteSessionsOf(tx, row.id);
      return toUser(updated);
    });
  }

  async updateMe(caller: Caller, input: UpdateMe): Promise<User> {
    return this.#activity.change(caller, 'update-profile', input, async (tx, setTarget) => {
      setTarget({ kind: 'user', id: caller.userId, name: caller.username });
      return toUser(await updateUser(tx, caller.userId, input, this.#clock()));
    });
  }

  /** Changes the caller's password; their other sessions end. */
  async changePassword(
    caller: Caller,
    input: { currentPassword: string; newPassword: string },
    keepSession?: string,
  ): Promise<void> {
    const row = await findUserById(this.#db, caller.userId);
    if (!row || !(await verifyPassword(input.currentPassword, row.passwordHash))) {
      throw new NotAllowedError('the current password is wrong');
    }
    const passwordHash = await hashPassword(input.newPassword);
    await this.#activity.change(caller, 'change-password', {}, async (tx, setTarget) => {
      setTarget({ kind: 'user', id: caller.userId, name: caller.username });
      await updateUser(tx, caller.userId, { passwordHash }, this.#clock());
      await deleteSessionsOf(tx, caller.userId, keepSession);
    });
  }

  #visible(caller: Caller, row: UserRow): User {
    const user = toUser(row);
    return caller.admin || caller.userId === row.id ? user : { ...user, email: null };
  }
}

function assertAdmin(caller: Caller): void {
  if (!caller.admin) throw new NotAllowedError('only admins may manage users');
}

function taken(username: string): ConflictError {
  return new ConflictError(`user "${username}" already exists`);
}
