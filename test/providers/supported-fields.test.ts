import { describe, expect, it } from 'vitest';
import { createAccountWithCredentials } from '../../src/accounts/linked-accounts.js';
import { PROVIDERS } from '../../src/providers/registry.js';
import type { SandboxTenant } from '../../src/sandbox/index.js';
import { SyncEngine } from '../../src/sync/engine.js';
import { COVERAGE_TABLE, MODEL_NAMES, MODELS, type ModelName } from '../../src/unified/models.js';
import { createTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { createTestTenant } from '../helpers/fixtures.js';
import {
  connectSandbox,
  sandboxCredentials,
  sandboxDependencies,
  startFileSandbox,
} from '../helpers/sandbox.js';

/**
 * Dynamics' supportedFields is what GET /v1/linked-accounts/{id} tells a platform ("empty" vs "not
 * supported"), so it must be true both ways: across the tenant shapes a customer may have (native
 * tables, the payroll virtual table, F&O only), no synced record has a value in a field the list
 * leaves out, and every field the list names has a value in some record.
 */
/**
 * Listed but never filled by the sandbox, with why: its positions are all open-ended (cdm_validto
 * 2154-12-31, which the mapper reads as no end), while real positions close.
 */
const NOT_SEEN_IN_SANDBOX: Partial<Record<ModelName, string[]>> = { job_positions: ['valid_to'] };
const WORKERS = 60;
const SEED = 17;
const db = await createTestDatabase();
const sandbox = await startFileSandbox({ workers: WORKERS, seed: SEED, dmfExportDurationMs: 50 });
const deps = sandboxDependencies(sandbox, { pageSize: 500 });
const engine = new SyncEngine(db.pool);

async function syncShape(tenant: SandboxTenant): Promise<string> {
  const account = (await createTestTenant(db)).account.id;
  const connection = connectSandbox(account, sandbox, deps, sandboxCredentials(tenant, 'secret', true));
  try {
    const result = await engine.run({ linkedAccountId: account, connection, kind: 'full', trigger: 'test' });
    expect(result.status).toBe('succeeded');
  } finally {
    await connection.close();
  }
  return account;
}

/** The model's own fields that hold a value in at least one record of these accounts. */
async function filledFields(model: ModelName, accounts: string[]): Promise<string[]> {
  const spec = MODELS[model];
  const columns = Object.keys(spec.columns);
  const { rows } = await db.pool.query<Record<string, boolean>>(
    `SELECT ${columns.map((column) => `bool_or(${column} IS NOT NULL) AS ${column}`).join(', ')}
     FROM ${spec.table} WHERE linked_account_id = ANY($1::uuid[])`,
    [accounts],
  );
  const filled = columns.filter((column) => rows[0]?.[column] === true);
  if (model === 'benefit_enrollments') {
    const covered = await db.pool.query(
      `SELECT 1 FROM ${COVERAGE_TABLE} c JOIN benefit_enrollments b ON b.id = c.benefit_enrollment_id
       WHERE b.linked_account_id = ANY($1::uuid[]) LIMIT 1`,
      [accounts],
    );
    if (covered.rowCount) filled.push('covered_dependent_ids');
  }
  return filled.sort();
}

describe('Dynamics supported fields', () => {
  it('names exactly the fields its syncs fill, per model, across tenant shapes', async () => {
    const shapes = [
      sandbox.defaultTenant,
      await sandbox.createTenant({
        name: 'virtualco',
        workers: WORKERS,
        seed: SEED,
        tenantShape: 'virtual-tables',
      }),
      await sandbox.createTenant({
        name: 'fnoonlyco',
        workers: WORKERS,
        seed: SEED,
        tenantShape: 'fno-only',
      }),
    ];
    const accounts: string[] = [];
    for (const tenant of shapes) accounts.push(await syncShape(tenant));
    const supported = PROVIDERS.dynamics365.supportedFields;
    const found: Record<string, string[]> = {};
    for (const model of MODEL_NAMES) found[model] = await filledFields(model, accounts);
    for (const model of MODEL_NAMES) {
      const expected = (supported[model] ?? []).filter(
        (field) => !NOT_SEEN_IN_SANDBOX[model]?.includes(field),
      );
      expect(found[model], model).toEqual([...expected].sort());
    }
  }, 120_000);
});

describe('GET /v1/linked-accounts/{id}', async () => {
  const { app, services } = await createTestApp(db);
  const owner = await createTestTenant(db, 'Owner Co');
  const other = await createTestTenant(db, 'Other Co');
  const { account } = await createAccountWithCredentials(db, services.keyring, {
    provider: 'dynamics365',
    platformId: owner.platform.id,
    endUserOriginId: 'employer-dynamics',
    organizationName: 'Contoso',
    credentials: sandboxCredentials(sandbox.defaultTenant),
  });
  const get = (id: string, apiKey = owner.apiKey) =>
    app.inject({
      method: 'GET',
      url: `/v1/linked-accounts/${id}`,
      headers: { authorization: `Bearer ${apiKey}` },
    });

  it('says per model which fields the provider fills, every model listed', async () => {
    const response = await get(account.id);
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ id: account.id, provider: 'dynamics365', status: 'connected' });
    expect(Object.keys(body.supported_fields).sort()).toEqual([...MODEL_NAMES].sort());
    expect(body.supported_fields.employees).toContain('date_of_birth');
    expect(body.supported_fields.employees).not.toContain('preferred_name');
    expect(body.supported_fields.job_positions).toEqual(PROVIDERS.dynamics365.supportedFields.job_positions);
    // The list and the account's own view say the same.
    const list = await app.inject({
      method: 'GET',
      url: '/v1/linked-accounts?end_user_origin_id=employer-dynamics',
      headers: { authorization: `Bearer ${owner.apiKey}` },
    });
    expect(list.json().results[0].supported_fields).toEqual(body.supported_fields);
  });

  it('has nothing to say of an account whose provider it does not sync (seeded data)', async () => {
    const response = await get(owner.account.id);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ provider: 'seed', supported_fields: null });
  });

  it("answers 404 for another platform's account and 400 for an id that is not a UUID", async () => {
    const foreign = await get(account.id, other.apiKey);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error.details[0]).toMatchObject({ field: 'id' });
    const malformed = await get('not-a-uuid');
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.details[0]).toMatchObject({ field: 'id' });
  });
});
