import { type Dispatcher, request } from 'undici';
import { PassthroughError, type PassthroughRequest, type PassthroughResponse } from './types.js';

/**
 * The provider-neutral half of passthrough (docs/passthrough.md): one HTTP exchange with an API
 * root of the linked account, confined to it. A provider supplies the root and its credentials;
 * this module builds the URL (and proves it stays under the root), sends the request once (no
 * retry: a POST is not idempotent, and the caller sees 429s and 5xx as the provider sent them),
 * never follows a redirect, reads at most the allowed bytes and gives up when the signal fires.
 */

/**
 * Request headers a caller may not send, refused with a 400 naming them: credentials (the provider
 * sets its own), hop-by-hop headers (RFC 9110 §7.6.1; they describe the caller's connection to us,
 * not ours to the provider), headers the gateway computes (Host, Content-Length) and content codings
 * (the gateway reads the answer as identity, so the size limit means what it says).
 */
export const REFUSED_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'expect',
  'accept-encoding',
]);

/**
 * Response headers not handed back: hop-by-hop ones, the cookies the provider sets for its own
 * session (load-balancer affinity and the like, meaningless to the caller), and the framing headers
 * of a body the gateway re-encodes into its own JSON answer.
 */
const DROPPED_RESPONSE_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'set-cookie',
  'content-length',
  'content-encoding',
]);

/**
 * A query value as the URL carries it: percent-encoded, but with the characters OData system query
 * options use literally ($ , : @ /) left readable, as Microsoft's examples write them.
 */
function encodeQueryPart(text: string): string {
  return encodeURIComponent(text).replace(/%24|%2C|%3A|%40|%2F/gi, (escaped) => decodeURIComponent(escaped));
}

/**
 * The URL of `path` under `root`, or a refusal when it would leave the root. The route's path
 * pattern already refuses what could escape; this check holds even if that pattern were loosened.
 */
export function confinedUrl(root: string, path: string, query: Readonly<Record<string, string>>): URL {
  const base = new URL(root);
  // Concatenation, not new URL(path, root): a relative reference like "http:other.host" or
  // "//other.host" would otherwise replace the root's scheme or host.
  const url = new URL(`${base.origin}${base.pathname}${path}`);
  if (
    url.origin !== base.origin ||
    !url.pathname.startsWith(base.pathname) ||
    url.search !== '' ||
    url.hash !== ''
  ) {
    throw new PassthroughError('refused', 'The path must stay under the API root.', 'path');
  }
  const search = Object.entries(query)
    .map(([name, value]) => `${encodeQueryPart(name)}=${encodeQueryPart(value)}`)
    .join('&');
  if (search) url.search = search;
  return url;
}

function decodeBody(bytes: Buffer, contentType: string): Pick<PassthroughResponse, 'body' | 'bodyEncoding'> {
  if (bytes.length === 0) return { body: null, bodyEncoding: 'empty' };
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  const text = () => bytes.toString('utf8');
  if (type === 'application/json' || type.endsWith('+json')) {
    try {
      return { body: JSON.parse(text()), bodyEncoding: 'json' };
    } catch {
      return { body: text(), bodyEncoding: 'text' };
    }
  }
  if (type.startsWith('text/') || type === 'application/xml' || type.endsWith('+xml')) {
    return { body: text(), bodyEncoding: 'text' };
  }
  return { body: bytes.toString('base64'), bodyEncoding: 'base64' };
}

function responseHeaders(raw: Dispatcher.ResponseData['headers']): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    const lower = name.toLowerCase();
    if (value === undefined || DROPPED_RESPONSE_HEADERS.has(lower)) continue;
    headers[lower] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/** Stops reading a body; the abort it reports is expected, not a failure of anything. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {});
  body.destroy();
}

async function readLimited(body: Dispatcher.ResponseData['body'], maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      discard(body);
      throw new PassthroughError(
        'response_too_large',
        `The provider's answer is larger than ${maxBytes} bytes; ask for less (select fewer columns, a smaller page).`,
      );
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export interface ConfinedExchange {
  dispatcher: Dispatcher;
  /** The API root, ending in "/", e.g. https://contoso.crm.dynamics.com/api/data/v9.2/. */
  root: string;
  request: PassthroughRequest;
  /** Protocol headers the provider sends by default; the caller's headers of the same name win. */
  defaultHeaders: Record<string, string>;
  /** The provider's credentials, e.g. "Bearer <token>"; always the provider's, never the caller's. */
  authorization: string;
}

/** Sends the request once under `root` and returns the provider's answer as it is. */
export async function sendConfined({
  dispatcher,
  root,
  request: passthrough,
  defaultHeaders,
  authorization,
}: ConfinedExchange): Promise<PassthroughResponse> {
  const url = confinedUrl(root, passthrough.path, passthrough.query);
  const body = passthrough.body === undefined ? undefined : JSON.stringify(passthrough.body);
  const headers: Record<string, string> = {
    ...defaultHeaders,
    ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    ...passthrough.headers,
    authorization,
  };
  const { signal, maxResponseBytes } = passthrough;
  try {
    // undici's request() follows no redirect: a 3xx comes back as it is, Location and all.
    const response = await request(url, {
      method: passthrough.method,
      dispatcher,
      headers,
      signal,
      ...(body !== undefined ? { body } : {}),
    });
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxResponseBytes) {
      discard(response.body);
      throw new PassthroughError(
        'response_too_large',
        `The provider's answer is ${declared} bytes, more than the ${maxResponseBytes} allowed; ask for less (select fewer columns, a smaller page).`,
      );
    }
    const bytes = await readLimited(response.body, maxResponseBytes);
    const contentType = response.headers['content-type'];
    return {
      status: response.statusCode,
      headers: responseHeaders(response.headers),
      ...decodeBody(bytes, typeof contentType === 'string' ? contentType : ''),
    };
  } catch (error) {
    if (error instanceof PassthroughError) throw error;
    if (signal.aborted || isTimeout(error)) {
      throw new PassthroughError('timeout', `The provider did not answer in time (${url.host}).`);
    }
    throw new PassthroughError(
      'unreachable',
      `Could not reach the provider at ${url.host}: ${(error as Error).message}`,
    );
  }
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

function isTimeout(error: unknown): boolean {
  return TIMEOUT_CODES.has((error as { code?: string }).code ?? '');
}
