import type { Keyring } from '../crypto/credentials.js';
import type { Database } from '../db/database.js';
import type { ModelName } from '../unified/models.js';
import { connectBamboo, withBambooSensitiveFields } from './bamboohr/provider.js';
import { DynamicsConnection, type DynamicsDependencies } from './dynamics/connection.js';
import { dynamicsCredentialsSchema } from './dynamics/credentials.js';
import { dynamicsSensitiveColumns } from './dynamics/sensitive-columns.js';
import type { ProviderConnection } from './types.js';

/**
 * The providers the gateway can sync, by the `provider` value of a linked account. An explicit
 * map (no self-registration): adding a provider is a folder under providers/ and one line here.
 */
export interface ProviderDependencies {
  dynamics: DynamicsDependencies;
}

type ProviderFactory = (
  linkedAccountId: string,
  credentials: unknown,
  deps: ProviderDependencies,
) => ProviderConnection;

export const PROVIDERS: Record<string, ProviderFactory> = {
  dynamics365: (linkedAccountId, credentials, deps) =>
    new DynamicsConnection(linkedAccountId, dynamicsCredentialsSchema.parse(credentials), deps.dynamics),
  bamboohr: (linkedAccountId, credentials, deps) =>
    connectBamboo(linkedAccountId, credentials, deps.dynamics),
};

/**
 * Raw provider fields, per unified model and across every provider, that carry sensitive data. The
 * API cuts them (and their annotations) from remote_data unless the key may and the request asks to
 * read sensitive fields, so the raw row is never a side door around ModelSpec.sensitiveFields.
 */
export const SENSITIVE_REMOTE_FIELDS: Partial<Record<ModelName, readonly string[]>> =
  withBambooSensitiveFields(dynamicsSensitiveColumns());

export class UnsyncableAccountError extends Error {}

/** A live connection for a linked account, from its decrypted credentials. */
export async function connectAccount(
  db: Database,
  keyring: Keyring,
  deps: ProviderDependencies,
  linkedAccountId: string,
): Promise<ProviderConnection> {
  // Plain SQL on purpose: a worker process that only syncs then never loads Prisma's query compiler
  // (~64 MB resident), which keeps sync workers small.
  const { rows } = await db.pool.query<{ provider: string; credentials_encrypted: Buffer | null }>(
    'SELECT provider, credentials_encrypted FROM linked_accounts WHERE id = $1',
    [linkedAccountId],
  );
  const account = rows[0];
  if (!account) throw new UnsyncableAccountError(`linked account ${linkedAccountId} does not exist`);
  const factory = PROVIDERS[account.provider];
  if (!factory) {
    throw new UnsyncableAccountError(
      `linked account ${linkedAccountId} uses provider "${account.provider}", which has nothing to sync`,
    );
  }
  if (!account.credentials_encrypted) {
    throw new UnsyncableAccountError(`linked account ${linkedAccountId} has no credentials`);
  }
  return factory(linkedAccountId, JSON.parse(keyring.decrypt(account.credentials_encrypted)), deps);
}
