import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import {
  ACCOUNT_TOKEN_PREFIX,
  API_KEY_PREFIX,
  generateSecret,
  hashSecret,
  visiblePrefix,
} from '../auth/secrets.js';
import type { ApiKey, LinkedAccount, Platform, PrismaClient } from '../generated/prisma/client.js';

/** Platforms (API consumers), their API keys and their linked accounts. Secrets are returned once. */

export async function createPlatform(
  prisma: PrismaClient,
  name: string,
): Promise<{ platform: Platform; apiKey: string; key: ApiKey }> {
  const platform = await prisma.platform.create({ data: { id: randomUUID(), name } });
  const { key, apiKey } = await createApiKey(prisma, platform.id, { name: 'default', sensitive: false });
  return { platform, apiKey, key };
}

export async function createApiKey(
  prisma: PrismaClient,
  platformId: string,
  options: { name: string; sensitive: boolean; passthrough?: boolean },
): Promise<{ key: ApiKey; apiKey: string }> {
  const apiKey = generateSecret(API_KEY_PREFIX);
  const key = await prisma.apiKey.create({
    data: {
      id: randomUUID(),
      platformId,
      name: options.name,
      prefix: visiblePrefix(apiKey),
      keyHash: hashSecret(apiKey),
      sensitive: options.sensitive,
      passthrough: options.passthrough ?? false,
    },
  });
  return { key, apiKey };
}

export function listApiKeys(prisma: PrismaClient, platformId: string): Promise<ApiKey[]> {
  return prisma.apiKey.findMany({ where: { platformId }, orderBy: { createdAt: 'asc' } });
}

/** Revokes by key id or visible prefix; returns the revoked key, or null when none matched. */
export async function revokeApiKey(
  prisma: PrismaClient,
  platformId: string,
  idOrPrefix: string,
): Promise<ApiKey | null> {
  const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrPrefix);
  const key = await prisma.apiKey.findFirst({
    where: { platformId, revokedAt: null, ...(isUuid ? { id: idOrPrefix } : { prefix: idOrPrefix }) },
  });
  if (!key) return null;
  return prisma.apiKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
}

export interface NewLinkedAccount {
  platformId: string;
  endUserOriginId: string;
  organizationName: string;
  endUserEmail?: string | null;
  provider: string;
  status?: LinkedAccount['status'];
  statusReason?: string | null;
  credentialsEncrypted?: Uint8Array<ArrayBuffer> | null;
  credentialsExpireAt?: Date | null;
}

export async function createLinkedAccount(
  prisma: PrismaClient,
  input: NewLinkedAccount,
): Promise<{ account: LinkedAccount; accountToken: string }> {
  const accountToken = generateSecret(ACCOUNT_TOKEN_PREFIX);
  const account = await prisma.linkedAccount.create({
    data: {
      id: randomUUID(),
      platformId: input.platformId,
      endUserOriginId: input.endUserOriginId,
      organizationName: input.organizationName,
      endUserEmail: input.endUserEmail ?? null,
      provider: input.provider,
      status: input.status ?? 'pending',
      statusReason: input.statusReason ?? null,
      credentialsEncrypted: input.credentialsEncrypted ?? null,
      credentialsExpireAt: input.credentialsExpireAt ?? null,
      accountTokenHash: hashSecret(accountToken),
    },
  });
  return { account, accountToken };
}

/**
 * The same account as createLinkedAccount, written on a pg connection: for the connect flow, which
 * creates it in one transaction with the link's claim and the public token (no half-created account
 * survives a crash between them).
 */
export async function insertLinkedAccount(
  client: pg.PoolClient,
  input: NewLinkedAccount,
): Promise<{ accountId: string; accountToken: string }> {
  const accountToken = generateSecret(ACCOUNT_TOKEN_PREFIX);
  const accountId = randomUUID();
  await client.query(
    `INSERT INTO linked_accounts (id, platform_id, end_user_origin_id, organization_name, end_user_email,
       provider, status, status_reason, credentials_encrypted, credentials_expire_at, account_token_hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      accountId,
      input.platformId,
      input.endUserOriginId,
      input.organizationName,
      input.endUserEmail ?? null,
      input.provider,
      input.status ?? 'pending',
      input.statusReason ?? null,
      input.credentialsEncrypted ? Buffer.from(input.credentialsEncrypted) : null,
      input.credentialsExpireAt ?? null,
      hashSecret(accountToken),
    ],
  );
  return { accountId, accountToken };
}

/** Relink: new credentials for an existing account, which is connected again (same id and token). */
export async function replaceLinkedAccountCredentials(
  client: pg.Pool | pg.PoolClient,
  linkedAccountId: string,
  credentials: { credentialsEncrypted: Uint8Array; credentialsExpireAt: Date | null },
): Promise<void> {
  await client.query(
    `UPDATE linked_accounts SET credentials_encrypted = $2, credentials_expire_at = $3,
       status = 'connected', status_reason = NULL, updated_at = now()
     WHERE id = $1`,
    [linkedAccountId, Buffer.from(credentials.credentialsEncrypted), credentials.credentialsExpireAt],
  );
}
