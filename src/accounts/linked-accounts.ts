import type { Keyring } from '../crypto/credentials.js';
import type { Database } from '../db/database.js';
import type { LinkedAccount } from '../generated/prisma/client.js';
import { createLinkedAccount } from '../platforms/platform-service.js';
import { type CredentialsOf, PROVIDERS, type ProviderId, providerDefinition } from '../providers/registry.js';

/**
 * Linked accounts of any provider: their credentials validated by the provider's schema and
 * encrypted at rest (new accounts, and relinks, which keep the id, data and account token), and
 * read back. The provider's definition says when the credentials expire.
 */
export interface NewLinkedAccount<Id extends ProviderId> {
  platformId: string;
  endUserOriginId: string;
  organizationName: string;
  endUserEmail?: string | null;
  provider: Id;
  credentials: CredentialsOf<Id>;
}

/**
 * The linked-account columns that hold a provider's credentials: validated by its schema, encrypted
 * at rest, with their expiry. For a new account (insertLinkedAccount) or a relink
 * (replaceLinkedAccountCredentials), inside the caller's transaction.
 */
export function encryptedCredentialColumns(keyring: Keyring, provider: string, credentials: unknown) {
  const definition = providerDefinition(provider);
  if (!definition) throw new Error(`provider "${provider}" is not registered`);
  const parsed = definition.credentialsSchema.parse(credentials);
  return {
    provider,
    credentialsEncrypted: new Uint8Array(keyring.encrypt(JSON.stringify(parsed))),
    credentialsExpireAt: definition.credentialsExpireAt(parsed),
  };
}

export async function createAccountWithCredentials<Id extends ProviderId>(
  db: Database,
  keyring: Keyring,
  input: NewLinkedAccount<Id>,
): Promise<{ account: LinkedAccount; accountToken: string }> {
  return createLinkedAccount(db.prisma, {
    platformId: input.platformId,
    endUserOriginId: input.endUserOriginId,
    organizationName: input.organizationName,
    endUserEmail: input.endUserEmail ?? null,
    status: 'connected',
    ...encryptedCredentialColumns(keyring, input.provider, input.credentials),
  });
}

/** The account's decrypted credentials, validated by the schema of `provider`, which it must use. */
export async function readCredentials<Id extends ProviderId>(
  db: Database,
  keyring: Keyring,
  linkedAccountId: string,
  provider: Id,
): Promise<CredentialsOf<Id>> {
  const account = await db.prisma.linkedAccount.findUniqueOrThrow({ where: { id: linkedAccountId } });
  if (account.provider !== provider) {
    throw new Error(
      `linked account ${linkedAccountId} uses provider "${account.provider}", not "${provider}"`,
    );
  }
  if (!account.credentialsEncrypted) throw new Error(`linked account ${linkedAccountId} has no credentials`);
  return PROVIDERS[provider].credentialsSchema.parse(
    JSON.parse(keyring.decrypt(account.credentialsEncrypted)),
  );
}
