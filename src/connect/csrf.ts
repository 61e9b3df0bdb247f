import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';

/**
 * CSRF protection for the connect page's posts: a signed double-submit token bound to the link.
 * The page load sets it in an HttpOnly, SameSite=Strict cookie scoped to the link's path and
 * embeds the same value in the page; every post must send it back in the X-CSRF-Token header.
 * The value is a nonce plus an HMAC keyed by the link's token hash (known only to the database),
 * so it cannot be forged for a link, nor carried from one link to another. Posts must also be
 * JSON (a cross-site form cannot send that without a CORS preflight the gateway never grants)
 * and, when the browser sends an Origin, come from the gateway's own origin.
 */
export const CSRF_HEADER = 'x-csrf-token';

function cookieName(linkId: string): string {
  return `hris_connect_${linkId.replaceAll('-', '').slice(0, 12)}`;
}

function sign(linkTokenHash: string, nonce: string): string {
  return createHmac('sha256', linkTokenHash).update(`csrf:${nonce}`).digest('base64url');
}

export function issueCsrfToken(
  request: FastifyRequest,
  reply: FastifyReply,
  link: { id: string; tokenHash: string },
  cookiePath: string,
): string {
  const nonce = randomBytes(16).toString('base64url');
  const token = `${nonce}.${sign(link.tokenHash, nonce)}`;
  const secure = request.protocol === 'https' ? '; Secure' : '';
  reply.header(
    'set-cookie',
    `${cookieName(link.id)}=${token}; Path=${cookiePath}; HttpOnly; SameSite=Strict; Max-Age=86400${secure}`,
  );
  return token;
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

function sameString(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Origins the page may post from: the gateway as addressed by this request, and PUBLIC_URL. */
function allowedOrigins(request: FastifyRequest, publicUrl: string | undefined): string[] {
  const origins = [`${request.protocol}://${request.host}`];
  if (publicUrl) origins.push(new URL(publicUrl).origin);
  return origins;
}

export function verifyCsrf(
  request: FastifyRequest,
  link: { id: string; tokenHash: string },
  publicUrl: string | undefined,
): void {
  const origin = request.headers.origin;
  if (origin && !allowedOrigins(request, publicUrl).includes(origin)) {
    throw new AppError('forbidden', 'Cross-site request refused: post from the connect page itself.');
  }
  const header = request.headers[CSRF_HEADER];
  const sent = Array.isArray(header) ? header[0] : header;
  const cookie = readCookie(request.headers.cookie, cookieName(link.id));
  const [nonce, signature] = (cookie ?? '').split('.');
  if (
    !sent ||
    !cookie ||
    !nonce ||
    !signature ||
    !sameString(sent, cookie) ||
    !sameString(signature, sign(link.tokenHash, nonce))
  ) {
    throw new AppError(
      'forbidden',
      'The page’s security token is missing or stale: reload the connect page and try again.',
    );
  }
}
