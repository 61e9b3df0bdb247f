import type { Keyring } from '../crypto/credentials.js';
import type { Database } from '../db/database.js';
import type { LinkedAccount } from '../generated/prisma/client.js';
import { createLinkedAccount } from '../platforms/platform-service.js';
import { type CredentialsOf, PROVIDERS, type ProviderId, providerDefinition } from '../providers/registry.js';

/**
 * Linked accounts of any provider: created with credentials validated by the provider's schema and
 * encrypted at rest, their credentials replaced on relink (same id, data and account token), and
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

export async function createAccountWithCredentials<Id extends ProviderId>(
  db: Database,
  keyring: Keyring,
  input: NewLinkedAccount<Id>,
): Promise<{ account: LinkedAccount; accountToken: string }> {
  const definition = PROVIDERS[input.provider];
  const credentials = definition.credentialsSchema.parse(input.credentials);
  return createLinkedAccount(db.prisma, {
    platformId: input.platformId,
    endUserOriginId: input.endUserOriginId,
    organizationName: input.organizationName,
    endUserEmail: input.endUserEmail ?? null,
    provider: input.provider,
    status: 'connected',
    credentialsEncrypted: new Uint8Array(keyring.encrypt(JSON.stringify(credentials))),
    credentialsExpireAt: definition.credentialsExpireAt(credentials),
  });
}

/** Relink: new credentials (a rotated secret, a new certificate) for an existing account of any provider. */
export async function replaceCredentials(
  db: Database,
  keyring: Keyring,
  linkedAccountId: string,
  credentials: unknown,
): Promise<LinkedAccount> {
  const account = await db.prisma.linkedAccount.findUniqueOrThrow({
    where: { id: linkedAccountId },
    select: { provider: true },
  });
  const definition = knownProvider(account.provider, linkedAccountId);
  const parsed = definition.credentialsSchema.parse(credentials);
  return db.prisma.linkedAccount.update({
    where: { id: linkedAccountId },
    data: {
      credentialsEncrypted: new Uint8Array(keyring.encrypt(JSON.stringify(parsed))),
      credentialsExpireAt: definition.credentialsExpireAt(parsed),
      status: 'connected',
      statusReason: null,
    },
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

function knownProvider(provider: string, linkedAccountId: string) {
  const definition = providerDefinition(provider);
  if (!definition) {
    throw new Error(`linked account ${linkedAccountId} uses provider "${provider}", which is not registered`);
  }
  return definition;
}
