import { z } from 'zod';
import { dataverseErrors } from './errors.js';

/**
 * Paging cookies and delta tokens. Both are stateless: the cookie carries the last key (and sort values)
 * of the page served, so a nextLink keeps working while the table changes or other requests run.
 * The $skiptoken looks like Dataverse's (`<cookie pagenumber="2" pagingcookie="..." istracking="False" />`);
 * its pagingcookie payload is our own and opaque to clients.
 */
const cursorSchema = z.object({
  page: z.number().int().min(1),
  lastKey: z.string(),
  lastValues: z.array(z.unknown()).optional(),
  /** Version at the start of a change-tracking initial load: the deltaLink of its last page. */
  trackingVersion: z.number().int().optional(),
  /** A paged delta: rows changed in (from, upper], resuming after `afterVersion`, then deletions from `deletedOffset`. */
  delta: z
    .object({
      from: z.number().int(),
      upper: z.number().int(),
      afterVersion: z.number().int(),
      deletedOffset: z.number().int().min(0),
    })
    .optional(),
});
export type PagingCursor = z.infer<typeof cursorSchema>;

export function encodeSkipToken(cursor: PagingCursor): string {
  const payload = Buffer.from(JSON.stringify(cursor)).toString('base64url');
  const tracking = cursor.trackingVersion === undefined && cursor.delta === undefined ? 'False' : 'True';
  return `<cookie pagenumber="${cursor.page + 1}" pagingcookie="${payload}" istracking="${tracking}" />`;
}

export function decodeSkipToken(token: string): PagingCursor {
  const payload = /pagingcookie="([A-Za-z0-9_-]+)"/.exec(token)?.[1];
  if (!payload) throw dataverseErrors.invalidToken(token);
  try {
    return cursorSchema.parse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
  } catch {
    throw dataverseErrors.invalidToken(token);
  }
}

/** Lower-case percent-encoding, as Dataverse's deltaLinks show (`919042%2108%2f22%2f2017%2008%3a10%3a44`). */
export function encodeQueryValue(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16)}`)
    .replace(/%[0-9A-F]{2}/g, (sequence) => sequence.toLowerCase());
}

/** Delta token `{version}!{MM/dd/yyyy HH:mm:ss}` (reference §3). */
export function formatDeltaToken(version: number, now: Date): string {
  const pad = (value: number): string => String(value).padStart(2, '0');
  const stamp = `${pad(now.getUTCMonth() + 1)}/${pad(now.getUTCDate())}/${now.getUTCFullYear()} ${pad(now.getUTCHours())}:${pad(now.getUTCMinutes())}:${pad(now.getUTCSeconds())}`;
  return `${version}!${stamp}`;
}

export function parseDeltaToken(token: string): { version: number; issuedAt: Date } {
  const match = /^(\d+)!(\d{2})\/(\d{2})\/(\d{4}) (\d{2}):(\d{2}):(\d{2})$/.exec(token);
  if (!match) throw dataverseErrors.invalidToken(token);
  const [, version, month, day, year, hours, minutes, seconds] = match.map(Number) as number[];
  return {
    version: version as number,
    issuedAt: new Date(Date.UTC(year as number, (month as number) - 1, day, hours, minutes, seconds)),
  };
}
