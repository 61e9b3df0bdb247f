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
