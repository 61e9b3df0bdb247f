import { randomUUID } from 'node:crypto';
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
