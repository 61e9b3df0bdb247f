import { describe, expect, it } from 'vitest';
import { SyncEngine } from '../../src/sync/engine.js';
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
 * A tenant whose tables lack catalog columns (several are published by display name only,
 * docs/microsoft-wire.md): the sync reads what exists, leaves the rest empty, and says in sync
 * status and the connect checks which column is missing and what that costs. Never a failed stream.
 */
const db = await createTestDatabase();
const sandbox = await startFileSandbox({ workers: 60, seed: 23 });
const deps = sandboxDependencies(sandbox);
const { app } = await createTestApp(db);
const tenant = await createTestTenant(db);
const accountId = tenant.account.id;
const headers = { authorization: `Bearer ${tenant.apiKey}`, 'x-account-token': tenant.accountToken };
const engine = new SyncEngine(db.pool);
const controls = sandbox.defaultTenant.controls;

async function sync(kind: 'full' | 'incremental', withFno = false) {
  const connection = connectSandbox(
    accountId,
    sandbox,
    deps,
    sandboxCredentials(sandbox.defaultTenant, 'secret', withFno),
  );
  try {
    return await engine.run({ linkedAccountId: accountId, connection, kind, trigger: 'test' });
  } finally {
    await connection.close();
  }
}

async function syncStatus(model: string) {
  const response = await app.inject({ method: 'GET', url: '/v1/sync-status', headers });
  expect(response.statusCode).toBe(200);
  const body = response.json() as {
    models: { model: string; source_reason: string | null; last_error: string | null }[];
  };
  return body.models.find((entry) => entry.model === model);
}

describe('a tenant without some catalog columns', () => {
  it('syncs every row, leaves the missing fields empty and says what is missing', async () => {
    const first = await sync('full');
    expect(first.status).toBe('succeeded');
    const before = await db.pool.query(
      'SELECT count(*) FILTER (WHERE mobile_phone_number IS NOT NULL)::int AS phones, count(*) FILTER (WHERE manager_id IS NOT NULL)::int AS managers FROM employees WHERE linked_account_id = $1',
      [accountId],
    );
    expect(before.rows[0].phones).toBeGreaterThan(0);
    expect(before.rows[0].managers).toBeGreaterThan(0);

    controls.removeColumn('cdm_worker', 'cdm_mobilephone');
    controls.removeColumn('cdm_worker', '_cdm_managerworkerid_value');
    controls.removeColumn('cdm_benefitplan', 'cdm_benefittypeid');
    try {
      // The stored delta link names the removed columns: Dataverse refuses it, the sync reads in full.
      const second = await sync('incremental');
      expect(second.status).toBe('succeeded');
      const after = await db.pool.query(
        `SELECT count(*)::int AS live,
                count(*) FILTER (WHERE mobile_phone_number IS NOT NULL)::int AS phones,
                count(*) FILTER (WHERE manager_id IS NOT NULL)::int AS managers,
                count(*) FILTER (WHERE last_name IS NULL)::int AS unnamed
         FROM employees WHERE linked_account_id = $1 AND NOT remote_was_deleted`,
        [accountId],
      );
      expect(after.rows[0]).toEqual({
        live: sandbox.truth.workers.length,
        phones: 0,
        managers: 0,
        unnamed: 0,
      });
      const plans = await db.pool.query(
        'SELECT count(*)::int AS n, count(*) FILTER (WHERE plan_type IS NOT NULL)::int AS typed FROM benefit_plans WHERE linked_account_id = $1',
        [accountId],
      );
      expect(plans.rows[0]).toEqual({ n: sandbox.truth.benefitPlans.length, typed: 0 });

      const employees = await syncStatus('employees');
      expect(employees?.last_error).toBeNull();
      expect(employees?.source_reason).toContain(
        "cdm_worker.cdm_mobilephone (employees' mobile phone numbers stay empty)",
      );
      expect(employees?.source_reason).toContain(
        "cdm_worker._cdm_managerworkerid_value (employees' managers stay empty)",
      );
      expect((await syncStatus('benefit_plans'))?.source_reason).toContain(
        "cdm_benefitplan._cdm_benefittypeid_value (plans' types stay empty)",
      );
      expect((await syncStatus('companies'))?.source_reason).not.toContain('lacks');

      // The connect checks say it too, on the table's own line.
      const checks = [];
      for await (const check of connectSandbox(accountId, sandbox, deps).check()) checks.push(check);
      const workerCheck = checks.find((check) => check.id === 'table:cdm_worker');
      expect(workerCheck?.status).toBe('warning');
      expect(workerCheck?.detail).toContain('cdm_worker.cdm_mobilephone');
    } finally {
      controls.restoreColumn('cdm_worker', 'cdm_mobilephone');
      controls.restoreColumn('cdm_worker', '_cdm_managerworkerid_value');
      controls.restoreColumn('cdm_benefitplan', 'cdm_benefittypeid');
    }

    // Columns back: the next full sync fills the fields again.
    const third = await sync('full');
    expect(third.status).toBe('succeeded');
    const restored = await db.pool.query(
      'SELECT count(*) FILTER (WHERE manager_id IS NOT NULL)::int AS managers FROM employees WHERE linked_account_id = $1',
      [accountId],
    );
    expect(restored.rows[0].managers).toBe(before.rows[0].managers);
    expect((await syncStatus('employees'))?.source_reason).not.toContain('lacks');
  });

  it('reads an F&O entity without a field: the field stays empty and sync status says so', async () => {
    controls.removeFnoField('WorkerPersonalContactPersons', 'IsDisabled');
    try {
      const result = await sync('full', true);
      expect(result.status).toBe('succeeded');
      const dependents = await db.pool.query(
        `SELECT count(*)::int AS n, count(*) FILTER (WHERE is_disabled IS NOT NULL)::int AS known
         FROM dependents WHERE linked_account_id = $1 AND NOT remote_was_deleted`,
        [accountId],
      );
      expect(dependents.rows[0].n).toBe(
        sandbox.truth.dependents.filter((contact) => contact.IsDependent === 'Yes').length,
      );
      expect(dependents.rows[0].known).toBe(0);
      expect((await syncStatus('dependents'))?.source_reason).toContain(
        'WorkerPersonalContactPersons lacks IsDisabled (left empty)',
      );
    } finally {
      controls.restoreFnoField('WorkerPersonalContactPersons', 'IsDisabled');
    }
    expect((await sync('full', true)).status).toBe('succeeded');
    const known = await db.pool.query(
      'SELECT count(*) FILTER (WHERE is_disabled IS NOT NULL)::int AS known FROM dependents WHERE linked_account_id = $1',
      [accountId],
    );
    expect(known.rows[0].known).toBeGreaterThan(0);
    expect((await syncStatus('dependents'))?.source_reason).not.toContain('lacks');
  });
});
