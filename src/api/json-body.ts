import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.js';

/**
 * The JSON body parser. Like Fastify's own, it refuses keys that could poison a prototype
 * (`__proto__` anywhere, `constructor` holding a `prototype`) rather than dropping them silently;
 * unlike it, the 400 says which key and where, instead of calling a well-formed body invalid JSON.
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string;
    if (text.trim() === '') {
      done(new AppError('bad_request', 'The body is empty, but its Content-Type says JSON.'), undefined);
      return;
    }
    try {
      done(null, parseRefusingPrototypeKeys(text));
    } catch (error) {
      done(
        error instanceof AppError
          ? error
          : new AppError('bad_request', `The body is not valid JSON: ${(error as Error).message}`),
        undefined,
      );
    }
  });
}

function parseRefusingPrototypeKeys(text: string): unknown {
  return JSON.parse(text, function refuse(this: Record<string, unknown>, key, value) {
    const poisoned =
      key === '__proto__' ||
      (key === 'constructor' &&
        typeof value === 'object' &&
        value !== null &&
        Object.hasOwn(value, 'prototype'));
    if (poisoned) {
      throw new AppError(
        'invalid_request_body',
        `A JSON key named "${key}"${key === 'constructor' ? ' holding "prototype"' : ''} is refused: it could alter object prototypes.`,
        [{ field: key, message: 'refused key' }],
      );
    }
    return value;
  });
}
