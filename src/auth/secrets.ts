import { createHash, randomBytes } from 'node:crypto';

/**
 * API keys and account tokens: 256 random bits, base64url, with a readable type prefix so a leaked
 * value is recognisable (and findable by secret scanners). Only their SHA-256 is stored: they are
 * high-entropy, so a slow password hash would add latency to every request and no security.
 */
export const API_KEY_PREFIX = 'hk_';
export const ACCOUNT_TOKEN_PREFIX = 'hat_';

export function generateSecret(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** The part of an API key safe to show in lists and logs: the type prefix and 8 characters. */
export function visiblePrefix(secret: string): string {
  return secret.slice(0, API_KEY_PREFIX.length + 8);
}
