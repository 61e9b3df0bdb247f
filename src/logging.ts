import type { FastifyServerOptions } from 'fastify';
import type { Config } from './config.js';

/**
 * pino JSON logs. Secrets never reach a log line: credential headers and any property that looks
 * like a secret are censored wherever they appear, and secret-bearing path segments (magic-link
 * tokens) are masked in logged URLs.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-account-token"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-account-token"]',
  '*.client_secret',
  '*.clientSecret',
  '*.private_key',
  '*.privateKey',
  '*.password',
  '*.access_token',
  '*.accessToken',
  '*.account_token',
  '*.accountToken',
  '*.api_key',
  '*.apiKey',
  '*.public_token',
  '*.credentials',
];

/** Masks tokens carried in URLs: /connect/<link token>/..., and token-like query parameters. */
export function redactUrl(url: string): string {
  return url
    .replace(/(\/connect\/)[^/?#]+/, '$1[redacted]')
    .replace(/([?&](?:token|link_token|public_token|code)=)[^&#]*/gi, '$1[redacted]');
}

export function loggerOptions(
  config: Pick<Config, 'LOG_LEVEL' | 'NODE_ENV'>,
): FastifyServerOptions['logger'] {
  return {
    level: config.LOG_LEVEL,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: {
      req: (request: { method: string; url: string; id: string; ip?: string }) => ({
        id: request.id,
        method: request.method,
        url: redactUrl(request.url),
        remoteAddress: request.ip,
      }),
    },
  };
}
