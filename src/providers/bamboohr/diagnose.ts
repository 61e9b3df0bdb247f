import type { LinkedAccountStatus } from '../../generated/prisma/enums.js';
import { BambooHttpError, BambooNetworkError } from './client.js';

/**
 * A BambooHR failure → the account's status and one sentence saying what to fix and where
 * (docs/bamboohr.md, "Errors", "Rate limiting").
 */
export function diagnoseBamboo(error: unknown): { status: LinkedAccountStatus; reason: string } {
  if (error instanceof BambooHttpError) {
    if (error.status === 401) {
      return {
        status: 'needs_reauth',
        reason:
          'BambooHR refused the API key: in BambooHR, open your name (top right) > API Keys, add a new key, and relink with it.',
      };
    }
    if (error.status === 403) {
      return {
        status: 'error_permissions',
        reason: `BambooHR refused access to ${error.path}: the API key's user must be enabled and have the access level it needs (Settings > Access Levels; dependents and benefits need Benefits Administration, pay needs compensation access).`,
      };
    }
    // The gateway only reads collections, so a 404 means the company domain (the URL) is wrong.
    if (error.status === 404) {
      return {
        status: 'error_config',
        reason:
          'BambooHR does not know this company domain: use the part before .bamboohr.com in the address you sign in at (mycompany for https://mycompany.bamboohr.com).',
      };
    }
    if (error.rateLimited) {
      return {
        status: 'degraded',
        reason: `BambooHR is rate limiting this API key${error.retryAfterSeconds !== undefined ? ` (retry after ${error.retryAfterSeconds} s)` : ''}: the next sync continues where this one stopped; if it persists, other integrations may share the key.`,
      };
    }
    return { status: 'degraded', reason: `BambooHR failed (${error.message}); the next sync retries.` };
  }
  if (error instanceof BambooNetworkError) {
    return { status: 'degraded', reason: `${error.message}; the next sync retries.` };
  }
  return { status: 'degraded', reason: error instanceof Error ? error.message : String(error) };
}
