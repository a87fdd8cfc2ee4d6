/**
 * Cursor pagination: a page is `{items, nextCursor}`; `nextCursor` is opaque to clients (the
 * key of the last item, base64url JSON) and null on the last page. A cursor that does not
 * decode is a 400 on `query.cursor`, never a silently restarted listing.
 */
import { z } from 'zod';
import { ApiError } from './problem.js';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

export const limitSchema = z.coerce
  .number()
  .int()
  .min(1)
  .max(MAX_LIMIT)
  .optional()
  .describe(`page size, 1-${MAX_LIMIT} (default ${DEFAULT_LIMIT})`);

export const cursorSchema = z
  .string()
  .max(2000)
  .optional()
  .describe('nextCursor of the previous page');

export function encodeCursor(key: unknown): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

export function decodeCursor<T>(cursor: string | undefined, shape: z.ZodType<T>): T | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const result = shape.safeParse(parsed);
  if (!result.success)
    throw new ApiError(400, 'invalid_cursor', 'query.cursor: not a cursor this API gave out', {
      errors: [
        {
          field: 'query.cursor',
          code: 'invalid_cursor',
          message: 'pass the nextCursor of the previous page unchanged',
        },
      ],
    });
  return result.data;
}

/** Pages an in-memory list sorted by `key` (small collections: scopes, policies, users). */
export function pageOf<T>(
  items: readonly T[],
  key: (item: T) => string,
  limit = DEFAULT_LIMIT,
  cursor?: string,
): { items: T[]; nextCursor: string | null } {
  const after = decodeCursor(cursor, z.string());
  const sorted = [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const start = after === undefined ? 0 : sorted.findIndex((i) => key(i) > after);
  const rest = start < 0 ? [] : sorted.slice(start);
  const page = rest.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page,
    nextCursor: rest.length > limit && last !== undefined ? encodeCursor(key(last)) : null,
  };
}
