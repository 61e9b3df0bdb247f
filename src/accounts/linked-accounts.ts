import type { Keyring } from '../crypto/credentials.js';
import type { Database } from '../db/database.js';
import type { LinkedAccount } from '../generated/prisma/client.js';
import { createLinkedAccount } from '../platforms/platform-service.js';
import {
  credentialsExpireAt,
  type DynamicsCredentials,
  dynamicsCredentialsSchema,
} from '../providers/dynamics/credentials.js';

/**
 * Linked accounts of the Dynamics 365 provider: created with credentials encrypted at rest, their
 * credentials replaced on relink (same id, data and account token), and read back for syncing.
 */
export const DYNAMICS_PROVIDER = 'dynamics365';

export interface NewDynamicsAccount {
  platformId: string;
  endUserOriginId: string;
  organizationName: string;
  endUserEmail?: string | null;
  credentials: DynamicsCredentials;
}

export async function createDynamicsAccount(
  db: Database,
  keyring: Keyring,
  input: NewDynamicsAccount,
): Promise<{ account: LinkedAccount; accountToken: string }> {
  return createLinkedAccount(db.prisma, {
    platformId: input.platformId,
    endUserOriginId: input.endUserOriginId,
    organizationName: input.organizationName,
    endUserEmail: input.endUserEmail ?? null,
    provider: DYNAMICS_PROVIDER,
    status: 'connected',
    credentialsEncrypted: new Uint8Array(keyring.encrypt(JSON.stringify(input.credentials))),
    credentialsExpireAt: credentialsExpireAt(input.credentials),
  });
}

/** Relink: new credentials (a rotated secret, a new certificate) for an existing account. */
export async function replaceDynamicsCredentials(
  db: Database,
  keyring: Keyring,
  linkedAccountId: string,
  credentials: DynamicsCredentials,
): Promise<LinkedAccount> {
  return db.prisma.linkedAccount.update({
    where: { id: linkedAccountId },
    data: {
      credentialsEncrypted: new Uint8Array(keyring.encrypt(JSON.stringify(credentials))),
      credentialsExpireAt: credentialsExpireAt(credentials),
      status: 'connected',
      statusReason: null,
    },
  });
}

export async function readDynamicsCredentials(
  db: Database,
  keyring: Keyring,
  linkedAccountId: string,
): Promise<DynamicsCredentials> {
  const account = await db.prisma.linkedAccount.findUniqueOrThrow({ where: { id: linkedAccountId } });
  if (!account.credentialsEncrypted) throw new Error(`linked account ${linkedAccountId} has no credentials`);
  return dynamicsCredentialsSchema.parse(JSON.parse(keyring.decrypt(account.credentialsEncrypted)));
}
