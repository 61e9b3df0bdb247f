import { describe, expect, it } from 'vitest';
import type { SandboxTenant } from '../../src/sandbox/index.js';
import { SyncEngine } from '../../src/sync/engine.js';
import { createTestDatabase } from '../helpers/database.js';
import { createTestTenant } from '../helpers/fixtures.js';
import {
  connectSandbox,
  sandboxCredentials,
  sandboxDependencies,
  startFileSandbox,
} from '../helpers/sandbox.js';

/**
 * One organisation (one seed) behind the three tenant shapes a customer may have: native cdm_ tables,
 * the payroll API's virtual table for enrollments, and nothing in Dataverse (F&O only). Each model is
 * synced from the best source the shape offers, sync status says which and why, and what one shape
 * serves equals what another serves for the same organisation.
 */
const WORKERS = 80;
const SEED = 31;
const db = await createTestDatabase();
const sandbox = await startFileSandbox({ workers: WORKERS, seed: SEED, dmfExportDurationMs: 50 });
const deps = sandboxDependencies(sandbox, { pageSize: 500 });
const engine = new SyncEngine(db.pool);

async function syncShape(tenant: SandboxTenant) {
  const account = (await createTestTenant(db)).account.id;
  const connection = connectSandbox(account, sandbox, deps, sandboxCredentials(tenant, 'secret', true));
  try {
    const result = await engine.run({ linkedAccountId: account, connection, kind: 'full', trigger: 'test' });
    expect(result.status).toBe('succeeded');
  } finally {
    await connection.close();
  }
  const { rows } = await db.pool.query<{ model: string; source: string; source_reason: string }>(
    'SELECT model, source, source_reason FROM sync_states WHERE linked_account_id = $1',
    [account],
  );
  return { account, sources: new Map(rows.map((row) => [row.model, row])) };
}

const sorted = (rows: unknown[]) => rows.map((row) => JSON.stringify(row)).sort();

async function enrollments(account: string) {
  const { rows } = await db.pool.query(
    `SELECT e.employee_number, p.remote_data->>'cdm_name' AS plan, b.coverage_level, b.status,
            b.start_date::text, b.end_date::text, b.employee_contribution_amount_minor,
            b.company_contribution_amount_minor
     FROM benefit_enrollments b
     LEFT JOIN employees e ON e.id = b.employee_id
     LEFT JOIN benefit_plans p ON p.id = b.benefit_plan_id
     WHERE b.linked_account_id = $1 AND NOT b.remote_was_deleted`,
    [account],
  );
  return sorted(rows);
}

async function employees(account: string) {
  const { rows } = await db.pool.query(
    `SELECT employee_number, first_name, last_name, date_of_birth::text, gender, work_email
     FROM employees WHERE linked_account_id = $1 AND NOT remote_was_deleted`,
    [account],
  );
  return sorted(rows);
}

async function employments(account: string) {
  const { rows } = await db.pool.query(
    `SELECT e.employee_number, c.company_code, m.start_date::text, m.end_date::text, m.employment_type
     FROM employments m
     LEFT JOIN employees e ON e.id = m.employee_id
     LEFT JOIN companies c ON c.id = m.company_id
     WHERE m.linked_account_id = $1 AND NOT m.remote_was_deleted`,
    [account],
  );
  return rows;
}

async function dependents(account: string) {
  const { rows } = await db.pool.query(
    `SELECT d.remote_id, e.employee_number, d.first_name, d.last_name, d.relationship, d.gender
     FROM dependents d LEFT JOIN employees e ON e.id = d.employee_id
     WHERE d.linked_account_id = $1 AND NOT d.remote_was_deleted`,
    [account],
  );
  return sorted(rows);
}

describe('tenant shapes', () => {
  it('syncs each model from the best source of each shape, to the same records', async () => {
    const virtualTenant = await sandbox.createTenant({
      name: 'virtualco',
      workers: WORKERS,
      seed: SEED,
      tenantShape: 'virtual-tables',
    });
    const fnoTenant = await sandbox.createTenant({
      name: 'fnoonlyco',
      workers: WORKERS,
      seed: SEED,
      tenantShape: 'fno-only',
    });
    const native = await syncShape(sandbox.defaultTenant);
    const virtual = await syncShape(virtualTenant);
    const fnoOnly = await syncShape(fnoTenant);

    // Native tables: enrollments (no cdm_ table, no virtual table) from F&O OData.
    expect(native.sources.get('employees')?.source).toBe('dataverse:cdm_workers');
    expect(native.sources.get('benefit_enrollments')?.source).toBe('fno-odata:WorkerEnrolledBenefits');
    expect(native.sources.get('benefit_enrollments')?.source_reason).toMatch(
      /mshr_payrollworkerbenefitplanentity table does not exist.*virtual tables are not generated/,
    );
    // Virtual tables: the virtual table wins over F&O, and says what it lacks.
    expect(virtual.sources.get('benefit_enrollments')).toMatchObject({
      source: 'dataverse:mshr_payrollworkerbenefitplanentities',
      source_reason: expect.stringMatching(/virtual table.*no change tracking.*no covered dependents/),
    });
    // F&O only: employees from F&O Workers; models F&O does not serve say why.
    expect(fnoOnly.sources.get('employees')?.source).toBe('fno-odata:Workers');
    expect(fnoOnly.sources.get('companies')).toMatchObject({
      source: 'unavailable',
      source_reason: expect.stringMatching(/cdm_company table does not exist/),
    });

    const nativeEnrollments = await enrollments(native.account);
    expect(nativeEnrollments.length).toBe(sandbox.truth.enrollments.length);
    expect(nativeEnrollments.every((row) => !row.includes('"employee_number":null'))).toBe(true);
    expect(nativeEnrollments.every((row) => !row.includes('"plan":null'))).toBe(true);
    expect(await enrollments(virtual.account)).toEqual(nativeEnrollments);

    const nativeEmployees = await employees(native.account);
    expect(nativeEmployees.length).toBe(WORKERS);
    expect(await employees(virtual.account)).toEqual(nativeEmployees);
    expect(await employees(fnoOnly.account)).toEqual(nativeEmployees);

    // Employments: from cdm_employment, or from F&O's Employment entity; the same rows (no
    // companies in an F&O-only tenant, so no company there).
    expect(fnoOnly.sources.get('employments')?.source).toMatch(/^fno-odata:/);
    const nativeEmployments = await employments(native.account);
    expect(nativeEmployments.length).toBe(sandbox.truth.employments.length);
    expect(nativeEmployments.every((row) => row.employee_number && row.company_code)).toBe(true);
    const withoutCompany = (rows: Record<string, unknown>[]) =>
      sorted(rows.map(({ company_code: _company, ...rest }) => rest));
    expect(withoutCompany(await employments(fnoOnly.account))).toEqual(withoutCompany(nativeEmployments));

    const nativeDependents = await dependents(native.account);
    expect(nativeDependents.length).toBeGreaterThan(0);
    expect(await dependents(fnoOnly.account)).toEqual(nativeDependents);
  });
});
