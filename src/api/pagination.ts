import { z } from 'zod';
import { AppError } from '../errors.js';

/**
 * Keyset pagination over our record ids: a cursor is the id to continue after (or before, for
 * `previous`), so page 1000 costs the same index seek as page 1 and rows inserted meanwhile never
 * shift pages. Cursors are opaque to clients (base64url JSON) and validated when decoded.
 */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

const cursorSchema = z.object({
  v: z.literal(1),
  /** n = next page (ids after `id`), p = previous page (ids before `id`). */
  d: z.enum(['n', 'p']),
  id: z.uuid(),
});
export type Cursor = z.infer<typeof cursorSchema>;

export function encodeCursor(direction: Cursor['d'], id: string): string {
  return Buffer.from(JSON.stringify({ v: 1, d: direction, id } satisfies Cursor)).toString('base64url');
}

export function decodeCursor(value: string): Cursor {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  const parsed = cursorSchema.safeParse(decoded);
  if (!parsed.success) {
    throw new AppError('invalid_cursor', 'cursor is not a cursor this API returned', [
      { field: 'cursor', message: 'Pass the `next` or `previous` value of an earlier response unchanged.' },
    ]);
  }
  return parsed.data;
}

export interface Page<T> {
  next: string | null;
  previous: string | null;
  results: T[];
}

/**
 * Turns the rows of a keyset query (fetched with LIMIT pageSize + 1, in the direction asked) into
 * a page in ascending id order with its neighbouring cursors.
 */
export function toPage<T extends { id: string }>(
  rows: T[],
  pageSize: number,
  cursor: Cursor | undefined,
): Page<T> {
  const hasMore = rows.length > pageSize;
  const results = hasMore ? rows.slice(0, pageSize) : rows;
  if (cursor?.d === 'p') results.reverse();
  const first = results[0];
  const last = results[results.length - 1];
  const forward = cursor?.d !== 'p';
  // Going forward, a page after a cursor always has a previous one; going back, always a next one.
  const hasNext = forward ? hasMore : true;
  const hasPrevious = forward ? cursor !== undefined : hasMore;
  return {
    next: hasNext && last ? encodeCursor('n', last.id) : null,
    previous: hasPrevious && first ? encodeCursor('p', first.id) : null,
    results,
  };
}
