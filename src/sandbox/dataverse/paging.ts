import { z } from 'zod';
import { dataverseErrors } from './errors.js';

/**
 * Paging cookies and delta tokens. Both are stateless: the cookie carries the last key (and sort values)
 * of the page served, so a nextLink keeps working while the table changes or other requests run.
 * The $skiptoken has Dataverse's shape ("Page results using OData", docs/microsoft-wire.md):
 * `<cookie pagenumber="2" pagingcookie="%3ccookie%20page%3d%221%22%3e%3ccontactid%20last%3d%22%7b…%7d%22
 * %20first%3d%22%7b…%7d%22%20%2f%3e%3c%2fcookie%3e" istracking="False" />`: pagenumber is the page the
 * link asks for, the inner cookie's page the one just served, keys upper-case in braces. What Dataverse
 * keeps server-side for sorted and change-tracked queries rides in one extra `<sandboxstate>` element.
 */
const cursorSchema = z.object({
  /** The page a nextLink asks for (2 after the first page). */
  page: z.number().int().min(2),
  lastKey: z.string(),
  /** The table's primary id attribute, the element name inside Dataverse's paging cookie. */
  keyColumn: z.string().optional(),
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

const braced = (key: string): string => `{${key.toUpperCase()}}`;

/** The `$skiptoken` value (not yet URL-encoded) of the page after `cursor.page - 1`. */
export function encodeSkipToken(cursor: PagingCursor, firstKey: string): string {
  const { page, lastKey, keyColumn = 'id', ...rest } = cursor;
  const state = Object.keys(rest).length > 0 ? Buffer.from(JSON.stringify(rest)).toString('base64url') : '';
  const inner =
    `<cookie page="${page - 1}"><${keyColumn} last="${lastKey ? braced(lastKey) : ''}" first="${firstKey ? braced(firstKey) : ''}" />` +
    `${state ? `<sandboxstate value="${state}" />` : ''}</cookie>`;
  const tracking = cursor.trackingVersion === undefined && cursor.delta === undefined ? 'False' : 'True';
  return `<cookie pagenumber="${page}" pagingcookie="${encodeQueryValue(inner)}" istracking="${tracking}" />`;
}

export function decodeSkipToken(token: string): PagingCursor {
  const fail = (): never => {
    throw dataverseErrors.invalidToken(token);
  };
  const page = /pagenumber="(\d+)"/.exec(token)?.[1];
  const encoded = /pagingcookie="([^"]*)"/.exec(token)?.[1];
  if (!page || encoded === undefined) return fail();
  let inner: string;
  try {
    inner = decodeURIComponent(encoded);
  } catch {
    return fail();
  }
  const key = /^<cookie page="\d+"><([a-z0-9_]+) last="\{?([0-9A-Fa-f-]*)\}?"/.exec(inner);
  if (!key) return fail();
  const state = /<sandboxstate value="([A-Za-z0-9_-]+)" \/>/.exec(inner)?.[1];
  try {
    const extra = state ? JSON.parse(Buffer.from(state, 'base64url').toString('utf8')) : {};
    return cursorSchema.parse({
      ...extra,
      page: Number(page),
      lastKey: (key[2] ?? '').toLowerCase(),
      keyColumn: key[1],
    });
  } catch {
    return fail();
  }
}

/**
 * Percent-encoding of a $skiptoken in a nextLink as Dataverse writes it: upper-case hex, `=` and `/` left
 * as they are (`%3Ccookie%20pagenumber=%222%22%20…%20/%3E`).
 */
export function encodeSkipTokenForLink(token: string): string {
  return encodeURIComponent(token).replace(/%3D/g, '=').replace(/%2F/g, '/');
}

/** Lower-case percent-encoding, as Dataverse's deltaLinks show (`919042%2108%2f22%2f2017%2008%3a10%3a44`). */
export function encodeQueryValue(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16)}`)
    .replace(/%[0-9A-F]{2}/g, (sequence) => sequence.toLowerCase());
}

/** Delta token `{version}!{MM/dd/yyyy HH:mm:ss}` (docs/microsoft-wire.md, "Change tracking"). */
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
