import { z } from 'zod';
import { hasControlCharacters } from './names.ts';

/** A search string: bounded, no control characters (matched as plain text, never as a pattern). */
export const SearchSchema = z
  .string()
  .max(100)
  .refine((s) => !hasControlCharacters(s), { message: 'must not contain control characters' });

/** Opaque cursor from a previous page's `nextCursor`. */
export const CursorSchema = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[A-Za-z0-9_-]+$/, 'is not a cursor from this API');

export const LimitSchema = z.coerce.number().int().min(1).max(100).default(50);

/** Sort keys every list offers: by name or by creation time, `-` for descending. */
export const SORTS = ['name', '-name', 'createdAt', '-createdAt'] as const;
export type Sort = (typeof SORTS)[number];

/**
 * The query of a resource list: `q` searches name and description, `sort`, `cursor` and
 * `limit` page through it, `scope=all` (admins only) lists every resource instead of
 * the caller's own.
 */
export const ResourceListQuerySchema = z.strictObject({
  q: SearchSchema.optional(),
  sort: z.enum(SORTS).default('name'),
  cursor: CursorSchema.optional(),
  limit: LimitSchema,
  scope: z.enum(['mine', 'all']).default('mine'),
});
export type ResourceListQuery = z.infer<typeof ResourceListQuerySchema>;

/** The query of a feed (newest first): only `cursor` and `limit`. */
export const FeedQuerySchema = z.strictObject({
  cursor: CursorSchema.optional(),
  limit: LimitSchema,
});
export type FeedQuery = z.infer<typeof FeedQuerySchema>;

/** One page of a list; `nextCursor` is null on the last page. */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
