import type pg from 'pg';
import { copyRows } from '../db/copy-rows.js';
import type { Database } from '../db/database.js';
import { createApiKey, createLinkedAccount, createPlatform } from '../platforms/platform-service.js';
import { COMMON_COLUMNS, MODELS, type PgType } from '../unified/models.js';
import {
  generateOrganisation,
  organisationName,
  type RowChunk,
  type SeedTable,
} from './generate-organisation.js';

/**
 * Creates a linked account filled with a generated organisation, for trying the API and for
 * benchmarks. Rows go in with COPY FROM STDIN (copy-rows.ts; the account is new, so there is nothing
 * to conflict with); a failed seed removes the account it created.
 */
export interface SeedOptions {
  employees: number;
  /** Same seed, same organisation (ids differ: they derive from the new linked account). */
  seed?: number;
  /** Add the account to this platform instead of creating one. */
  platformId?: string;
  onProgress?: (message: string) => void;
}

export interface SeedResult {
  platform_id: string;
  api_key: string;
  linked_account_id: string;
  account_token: string;
  counts: Record<SeedTable, number>;
}

// Written columns per table: everything but created_at/modified_at, which the database fills in.
function writableColumns(table: keyof typeof MODELS): Record<string, PgType> {
  const { created_at: _created, modified_at: _modified, ...common } = COMMON_COLUMNS;
  return { ...common, ...MODELS[table].columns };
}
const COVERAGE_COLUMNS: Record<string, PgType> = {
  linked_account_id: 'uuid',
  benefit_enrollment_id: 'uuid',
  dependent_id: 'uuid',
  remote_id: 'text',
};
const TABLE_ORDER: SeedTable[] = [
  'companies',
  'departments',
  'benefit_plans',
  'job_positions',
  'employees',
  'employments',
  'dependents',
  'benefit_enrollments',
  'benefit_enrollment_dependents',
];

export async function seedLinkedAccount(db: Database, options: SeedOptions): Promise<SeedResult> {
  if (!Number.isInteger(options.employees) || options.employees < 1) {
    throw new Error('employees must be a positive integer');
  }
  const seed = options.seed ?? 1;
  const progress = options.onProgress ?? (() => undefined);

  let platformId = options.platformId;
  if (platformId) {
    const existing = await db.prisma.platform.findUnique({ where: { id: platformId } });
    if (!existing) throw new Error(`platform ${platformId} not found`);
  } else {
    platformId = (await createPlatform(db.prisma, `Seed platform (seed ${seed})`)).platform.id;
  }
  const { apiKey } = await createApiKey(db.prisma, platformId, { name: 'seed (sensitive)', sensitive: true });
  const { account, accountToken } = await createLinkedAccount(db.prisma, {
    platformId,
    endUserOriginId: `seed-${seed}-${Date.now()}`,
    organizationName: organisationName(seed),
    provider: 'seed',
    status: 'connected',
    statusReason: 'Generated data from `hris seed`.',
  });

  const counts = Object.fromEntries(TABLE_ORDER.map((table) => [table, 0])) as Record<SeedTable, number>;
  // Two connections, each in its own transaction, take chunks in turn: PostgreSQL inserts on one
  // core per connection while this process generates the next chunk.
  const writers = await Promise.all([db.pool.connect(), db.pool.connect()]);
  const pending: Promise<void>[] = writers.map(() => Promise.resolve());
  try {
    for (const writer of writers) {
      await writer.query('BEGIN');
      // A seed is reproducible: losing it to a crash costs nothing, so skip the WAL flush wait.
      await writer.query('SET LOCAL synchronous_commit = off');
    }
    let done = 0;
    let turn = 0;
    for (const chunk of generateOrganisation({
      linkedAccountId: account.id,
      employees: options.employees,
      seed,
    })) {
      const slot = turn++ % writers.length;
      await pending[slot];
      const employeesInChunk = chunk.employees?.length ?? 0;
      const write = writeChunk(writers[slot]!, chunk, counts).then(() => {
        done += employeesInChunk;
        if (employeesInChunk) progress(`seeded ${done}/${options.employees} employees`);
      });
      // Observed later by the await above or below; never left as an unhandled rejection meanwhile.
      write.catch(() => undefined);
      pending[slot] = write;
    }
    await Promise.all(pending);
    await writers[0]!.query(
      'UPDATE linked_accounts SET last_synced_at = now(), updated_at = now() WHERE id = $1',
      [account.id],
    );
    for (const writer of writers) await writer.query('COMMIT');
  } catch (error) {
    await Promise.allSettled(pending);
    for (const writer of writers) await writer.query('ROLLBACK').catch(() => undefined);
    await deleteAccountRows(db, account.id);
    throw error;
  } finally {
    for (const writer of writers) writer.release();
  }
  // A bulk load leaves the planner's statistics behind (it would guess a few rows per account and sort
  // the whole account for a page instead of walking the (linked_account_id, id) index), as the sync's
  // full loads do.
  await db.pool.query(`ANALYZE ${TABLE_ORDER.join(', ')}`);
  return {
    platform_id: platformId,
    api_key: apiKey,
    linked_account_id: account.id,
    account_token: accountToken,
    counts,
  };
}

/** Removes a half-seeded account (in case one writer committed before the other failed). */
async function deleteAccountRows(db: Database, accountId: string): Promise<void> {
  for (const table of TABLE_ORDER) {
    await db.pool
      .query(`DELETE FROM ${table} WHERE linked_account_id = $1`, [accountId])
      .catch(() => undefined);
  }
  await db.prisma.linkedAccount.delete({ where: { id: accountId } }).catch(() => undefined);
}

async function writeChunk(
  client: pg.PoolClient,
  chunk: RowChunk,
  counts: Record<SeedTable, number>,
): Promise<void> {
  for (const table of TABLE_ORDER) {
    const rows = chunk[table];
    if (!rows?.length) continue;
    // The account is new, so every row is too: plain inserts, no conflict checks.
    const columns = table === 'benefit_enrollment_dependents' ? COVERAGE_COLUMNS : writableColumns(table);
    await copyRows(client, table, columns, rows);
    counts[table] += rows.length;
  }
}
