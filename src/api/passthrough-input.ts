import { z } from 'zod';
import { REFUSED_REQUEST_HEADERS } from '../providers/passthrough-http.js';
import { PASSTHROUGH_TARGETS } from '../providers/registry.js';

/**
 * The request body of POST /v1/passthrough (docs/passthrough.md). Its patterns state exactly what
 * the gateway accepts, so the OpenAPI document allows nothing the route then refuses (the OpenAPI
 * fuzzer generates paths from the pattern): no lookaheads, which JSON Schema tools read unevenly.
 */

/** A path character other than "." that needs no escape: RFC 3986 unreserved, sub-delims, ":" and "@". */
const PLAIN = "[A-Za-z0-9\\-_~!$&'()*+,;=:@]";
/**
 * A percent-escape of any byte but the ones that could change where the path leads once decoded:
 * controls (%00-%1F, %7F), "%" itself (%25: a double-encoded escape), "." (%2E), "/" (%2F) and "\" (%5C).
 */
const ESCAPE = '%(?:2[0-46-9A-Da-d]|[346][0-9A-Fa-f]|5[0-9ABD-Fabd-f]|7[0-9A-Ea-e]|[89A-Fa-f][0-9A-Fa-f])';
/** A segment: at least one character that is not a dot, so never "." or ".." (dot segments). */
const SEGMENT = `\\.*(?:${PLAIN}|${ESCAPE})(?:${PLAIN}|${ESCAPE}|\\.)*`;
/**
 * Relative: no scheme, no host, no leading "/", no empty segment, no "?" or "#" (the query goes in
 * `query`). The empty path is the API root itself (e.g. Dataverse's service document).
 */
export const PASSTHROUGH_PATH = new RegExp(`^(?:${SEGMENT}(?:/${SEGMENT})*)?$`);

/** An HTTP field name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A field value: visible ASCII, spaces and tabs (no CR or LF, so no header can be smuggled in). */
const HEADER_VALUE = /^[\t -~]*$/;

const MAX_ENTRIES = 50;

const headersInput = z
  .record(
    z.string().min(1).max(100).regex(HEADER_NAME, { error: 'must be an HTTP header name' }),
    z.string().max(8192).regex(HEADER_VALUE, { error: 'must be visible ASCII text, spaces and tabs' }),
  )
  .superRefine((headers, context) => {
    const seen = new Set<string>();
    const names = Object.keys(headers);
    if (names.length > MAX_ENTRIES) {
      context.addIssue({ code: 'custom', message: `at most ${MAX_ENTRIES} headers` });
    }
    for (const name of names) {
      const lower = name.toLowerCase();
      if (REFUSED_REQUEST_HEADERS.has(lower)) {
        context.addIssue({
          code: 'custom',
          path: [name],
          message:
            lower === 'authorization'
              ? "may not be set: the gateway sends the account's own credentials"
              : 'may not be set: the gateway sets it (credentials, hop-by-hop and framing headers)',
        });
      }
      if (seen.has(lower)) context.addIssue({ code: 'custom', path: [name], message: 'given twice' });
      seen.add(lower);
    }
  })
  .meta({ maxProperties: MAX_ENTRIES });

const queryInput = z
  .record(z.string().min(1).max(200), z.string().max(8192))
  .refine((query) => Object.keys(query).length <= MAX_ENTRIES, {
    error: `at most ${MAX_ENTRIES} query parameters`,
  })
  .meta({ maxProperties: MAX_ENTRIES });

export const passthroughRequestBody = z
  .object({
    method: z.enum(['GET', 'POST', 'PATCH', 'PUT', 'DELETE']).describe('The HTTP method to send.'),
    path: z
      .string()
      .max(2048)
      .regex(PASSTHROUGH_PATH, {
        error:
          'must be relative to the API root: no scheme, host, leading "/", empty or dot segment, "?", "#", or escaped "/", ".", "\\", "%" or control character',
      })
      .describe(
        'Relative to the API root of `target`, e.g. `cdm_workers` or `Workers` (no leading "/"). Dot segments, empty segments, escaped slashes, dots and backslashes are refused; the query goes in `query`.',
      ),
    target: z
      .enum(PASSTHROUGH_TARGETS)
      .optional()
      .describe(
        "Which of the provider's APIs. Dynamics 365: `dataverse` (default; root `{environment}/api/data/v9.2/`) or `fno` (Finance & Operations; root `{environment}/data/`).",
      ),
    query: queryInput
      .optional()
      .describe('Query parameters by name, unencoded (e.g. `{"$select": "cdm_firstname", "$top": "5"}`).'),
    headers: headersInput
      .optional()
      .describe(
        'Request headers to send. Refused (400): Authorization, Proxy-Authorization, Cookie, Host, Content-Length, Expect, Accept-Encoding and hop-by-hop headers; Dynamics also refuses CallerObjectId and MSCRMCallerID (impersonation).',
      ),
    body: z
      .union([z.record(z.string(), z.unknown()), z.array(z.unknown())])
      .optional()
      .describe(
        'A JSON object or array, sent as JSON (Content-Type application/json unless `headers` set one).',
      ),
  })
  .strict();

export type PassthroughRequestBody = z.infer<typeof passthroughRequestBody>;

export const passthroughResponseBody = z
  .object({
    status: z
      .number()
      .int()
      .describe("The provider's HTTP status, 3xx included: redirects are never followed."),
    headers: z
      .record(z.string(), z.string())
      .describe(
        "The provider's response headers, lower-case, without hop-by-hop headers, cookies and framing.",
      ),
    body: z
      .unknown()
      .describe(
        'The parsed JSON when the provider answered JSON, the text when text or XML, else base64; null when empty.',
      ),
    body_encoding: z.enum(['json', 'text', 'base64', 'empty']),
  })
  .meta({
    id: 'PassthroughResponse',
    example: {
      status: 200,
      headers: { 'content-type': 'application/json; odata.metadata=minimal', 'odata-version': '4.0' },
      body: { value: [{ cdm_workerid: '5e1d7b4a-0c2f-4d8e-9a31-7f6b2c8d4e10', cdm_firstname: 'Ada' }] },
      body_encoding: 'json',
    },
  });
