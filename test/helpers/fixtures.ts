import { upsertRows } from '../../src/db/bulk-upsert.js';
import type { Database } from '../../src/db/database.js';
import { createApiKey, createLinkedAccount, createPlatform } from '../../src/platforms/platform-service.js';
import { COMMON_COLUMNS, MODELS, type ModelName } from '../../src/unified/models.js';
import { recordId } from '../../src/unified/record-id.js';

/** A platform with a plain key, a sensitive key and one connected linked account. */
export async function createTestTenant(db: Database, name = 'Benefits Co') {
  const { platform, apiKey } = await createPlatform(db.prisma, name);
  const sensitive = await createApiKey(db.prisma, platform.id, { name: 'sensitive', sensitive: true });
  const { account, accountToken } = await createLinkedAccount(db.prisma, {
    platformId: platform.id,
    endUserOriginId: `employer-${name}`,
    organizationName: `${name} Employer`,
    provider: 'seed',
    status: 'connected',
  });
  return { platform, apiKey, sensitiveApiKey: sensitive.apiKey, account, accountToken };
}

/** Writes unified records for a model; fields not given are null (common ones get sane defaults). */
export async function insertRecords(
  db: Database,
  linkedAccountId: string,
  model: ModelName,
  records: Array<Record<string, unknown> & { remote_id: string }>,
): Promise<string[]> {
  const spec = MODELS[model];
  const columns = { ...COMMON_COLUMNS, ...spec.columns };
  const now = new Date();
  const rows = records.map((record) => ({
    id: recordId(linkedAccountId, model, record.remote_id),
    linked_account_id: linkedAccountId,
    created_at: now,
    modified_at: now,
    remote_was_deleted: false,
    ...record,
  }));
  await upsertRows(db.pool, spec.table, columns, rows, {
    conflictColumns: ['linked_account_id', 'remote_id'],
    touchColumn: 'modified_at',
  });
  return rows.map((row) => row.id);
}
