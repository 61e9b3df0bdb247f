import type { FastifyRequest } from 'fastify';
import { AppError, type ErrorCode } from '../errors.js';

/**
 * Text that no route may receive: NUL (PostgreSQL's text types cannot store it, so it would fail as
 * a 500 deep inside a query) and lone UTF-16 surrogates (not a character at all; a JSON body can
 * spell one as "\ud800"). Checked once for every request, before the route's own validation, so no
 * route has to remember it.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function problemOf(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain the NUL character (U+0000)';
  if (LONE_SURROGATE.test(text)) return 'must be valid Unicode text (it has a lone surrogate)';
  return undefined;
}

/** The first invalid string in a parsed value, with its dotted path. */
export function findInvalidText(
  value: unknown,
  path: string[] = [],
): { field: string; message: string } | undefined {
  if (typeof value === 'string') {
    const message = problemOf(value);
    return message ? { field: path.join('.') || '(value)', message } : undefined;
  }
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findInvalidText(item, [...path, String(index)]);
      if (found) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const keyProblem = problemOf(key);
      if (keyProblem) return { field: [...path, key].join('.'), message: `name ${keyProblem}` };
      const found = findInvalidText(item, [...path, key]);
      if (found) return found;
    }
  }
  return undefined;
}

const PARTS: { part: 'params' | 'query' | 'body'; code: ErrorCode; noun: string }[] = [
  { part: 'params', code: 'invalid_path_params', noun: 'path parameter' },
  { part: 'query', code: 'invalid_query_params', noun: 'query parameter' },
  { part: 'body', code: 'invalid_request_body', noun: 'body property' },
];

/** preValidation hook: refuses any request whose path, query or body holds text we cannot accept. */
export async function refuseInvalidText(request: FastifyRequest): Promise<void> {
  for (const { part, code, noun } of PARTS) {
    const found = findInvalidText(request[part]);
    if (found) {
      throw new AppError(code, `${noun} ${found.field}: ${found.message}`, [found]);
    }
  }
}
