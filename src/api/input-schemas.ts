import { z } from 'zod';

/**
 * Building blocks for request schemas. Each states in its pattern exactly what the server accepts,
 * so the OpenAPI document generated from it allows nothing the server then refuses (an OpenAPI
 * fuzzer checks both directions).
 */

/**
 * Well-formed text without NUL: PostgreSQL's text types cannot store NUL, and a lone UTF-16
 * surrogate (which a JSON body can spell as "\ud800") is no character at all. The pattern reads the
 * same with and without the regex `u` flag: a surrogate pair is one code point or two matched halves.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing NUL is the point.
const WELL_FORMED_TEXT = /^(?:[^\u0000\uD800-\uDFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF])*$/;

/** Free text from a request: 1 to maxLength characters, well-formed, without NUL. */
export function textInput(maxLength = 255) {
  return z
    .string()
    .min(1, { error: 'must not be empty' })
    .max(maxLength)
    .regex(WELL_FORMED_TEXT, { error: 'must be valid text without the NUL character' });
}

/** Our ids: any 8-4-4-4-12 hex string (what PostgreSQL's uuid type reads), not only RFC 9562 versions. */
export const idInput = z.guid({ error: 'must be a UUID' });

/**
 * An RFC 3339 date-time (what OpenAPI's `format: date-time` means: `T` or `t`, `Z`, `z` or an
 * offset, a leap second) or, for convenience, a date alone (midnight UTC).
 */
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|([+-])(\d{2}):(\d{2})))?$/;

export function parseInstant(text: string): Date | undefined {
  const match = RFC3339.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour = 0, minute = 0, second = 0] = match
    .slice(1, 7)
    .map((part) => Number(part ?? 0));
  const offsetSign = match[9] === '-' ? -1 : 1;
  const offsetHours = Number(match[10] ?? 0);
  const offsetMinutes = Number(match[11] ?? 0);
  if (hour > 23 || minute > 59 || second > 60 || offsetHours > 23 || offsetMinutes > 59) return undefined;
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: the latter reads years 0-99 as 1900-1999.
  date.setUTCFullYear(year as number, (month as number) - 1, day);
  if (date.getUTCMonth() !== (month as number) - 1 || date.getUTCDate() !== day) return undefined;
  const fraction = match[7] ? Math.floor(Number(match[7]) * 1000) : 0;
  // A leap second (…:60) is read as the last millisecond of its minute.
  date.setUTCHours(
    hour as number,
    minute as number,
    Math.min(second as number, 59),
    second === 60 ? 999 : fraction,
  );
  return new Date(date.getTime() - offsetSign * (offsetHours * 60 + offsetMinutes) * 60_000);
}

export const instantInput = z
  .string()
  .transform((value, context) => {
    const instant = parseInstant(value);
    if (!instant) {
      context.addIssue({
        code: 'custom',
        message: 'must be an RFC 3339 date-time or a date, e.g. 2026-01-31T12:00:00Z or 2026-01-31',
      });
      return z.NEVER;
    }
    return instant;
  })
  .meta({ format: 'date-time' });
