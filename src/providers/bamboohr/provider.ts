import type { Dispatcher } from 'undici';
import type { ModelName } from '../../unified/models.js';
import { BAMBOOHR_SENSITIVE_REMOTE_FIELDS } from './catalog.js';
import { BambooConnection, type BambooDependencies } from './connection.js';
import { bambooCredentialsSchema } from './credentials.js';

/**
 * The BambooHR provider as the registry sees it today (the ProviderConnection contract): a factory
 * from an account's decrypted credentials, over the process's shared HTTP pool. Until the provider
 * seam gives each provider its own dependencies, it borrows the pool and retry budget of the
 * Dynamics plumbing (the pool trusts the sandbox's CA when configured to).
 */
export function connectBamboo(
  linkedAccountId: string,
  credentials: unknown,
  shared: { dispatcher: Dispatcher; retryBudgetMs: number; onRetry?: BambooDependencies['onRetry'] },
): BambooConnection {
  return new BambooConnection(linkedAccountId, bambooCredentialsSchema.parse(credentials), {
    dispatcher: shared.dispatcher,
    concurrency: 2,
    pageSize: 1000,
    retryBudgetMs: shared.retryBudgetMs,
    ...(shared.onRetry ? { onRetry: shared.onRetry } : {}),
  });
}

/** Every provider's sensitive raw fields, merged per model. */
export function withBambooSensitiveFields(
  others: Partial<Record<ModelName, readonly string[]>>,
): Partial<Record<ModelName, readonly string[]>> {
  const merged: Partial<Record<ModelName, readonly string[]>> = { ...others };
  for (const [model, fields] of Object.entries(BAMBOOHR_SENSITIVE_REMOTE_FIELDS) as [ModelName, string[]][]) {
    merged[model] = [...new Set([...(merged[model] ?? []), ...fields])];
  }
  return merged;
}
