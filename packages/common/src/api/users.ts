import { z } from 'zod';
import {
  DisplayNameSchema,
  hasControlCharacters,
  PasswordSchema,
  TokenNameSchema,
  UsernameSchema,
} from './names.ts';
import { CursorSchema, LimitSchema, SearchSchema } from './pagination.ts';

const Timestamp = z.iso.datetime();
const EmailSchema = z.email().max(254);

export const UserSchema = z
  .object({
    username: z.string(),
    displayName: z.string(),
    email: z.string().nullable(),
    admin: z.boolean(),
    disabled: z.boolean(),
    createdAt: Timestamp,
  })
  .meta({ id: 'User' });
export type User = z.infer<typeof UserSchema>;

export const CreateUserSchema = z
  .strictObject({
    username: UsernameSchema,
    password: PasswordSchema,
    displayName: DisplayNameSchema.default(''),
    email: EmailSchema.optional(),
    admin: z.boolean().default(false),
  })
  .meta({ id: 'CreateUser' });
export type CreateUser = z.infer<typeof CreateUserSchema>;

/** What an admin may change on any user. */
export const UpdateUserSchema = z
  .strictObject({
    displayName: DisplayNameSchema.optional(),
    email: EmailSchema.nullable().optional(),
    admin: z.boolean().optional(),
    disabled: z.boolean().optional(),
    password: PasswordSchema.optional(),
  })
  .meta({ id: 'UpdateUser' });
export type UpdateUser = z.infer<typeof UpdateUserSchema>;

/** What users change on themselves. */
export const UpdateMeSchema = z
  .strictObject({
    displayName: DisplayNameSchema.optional(),
    email: EmailSchema.nullable().optional(),
  })
  .meta({ id: 'UpdateMe' });
export type UpdateMe = z.infer<typeof UpdateMeSchema>;

export const ChangePasswordSchema = z
  .strictObject({ currentPassword: z.string().min(1).max(256), newPassword: PasswordSchema })
  .meta({ id: 'ChangePassword' });

export const UserListQuerySchema = z.strictObject({
  q: SearchSchema.optional(),
  cursor: CursorSchema.optional(),
  limit: LimitSchema,
});
export type UserListQuery = z.infer<typeof UserListQuerySchema>;

/** Login: only bounded here, so a wrong name and a wrong password look the same (401). */
export const LoginSchema = z
  .strictObject({
    username: z
      .string()
      .min(1)
      .max(100)
      .refine((s) => !hasControlCharacters(s), { message: 'must not contain control characters' }),
    password: z.string().min(1).max(256),
  })
  .meta({ id: 'Login' });
export type Login = z.infer<typeof LoginSchema>;

export const CreateTokenSchema = z
  .strictObject({
    name: TokenNameSchema,
    /** Days until the token stops working (1..366). */
    expiresInDays: z.number().int().min(1).max(366).default(30),
  })
  .meta({ id: 'CreateToken' });
export type CreateToken = z.infer<typeof CreateTokenSchema>;

export const TokenSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    createdAt: Timestamp,
    expiresAt: Timestamp,
    lastUsedAt: Timestamp.nullable(),
  })
  .meta({ id: 'Token' });
export type Token = z.infer<typeof TokenSchema>;

/** The one answer that carries the secret: it is not stored and never shown again. */
export const CreatedTokenSchema = TokenSchema.extend({ token: z.string() }).meta({ id: 'CreatedToken' });
export type CreatedToken = z.infer<typeof CreatedTokenSchema>;
