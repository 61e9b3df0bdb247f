import { describe, expect, it } from 'vitest';
import type { DynamicsCredentials } from '../../src/providers/dynamics/credentials.js';
import type { SandboxTenant } from '../../src/sandbox/index.js';
import { SyncEngine } from '../../src/sync/engine.js';
import { MODEL_NAMES } from '../../src/unified/models.js';
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

async function syncShape(tenant: SandboxTenant, sources?: DynamicsCredentials['sources']) {
  const account = (await createTestTenant(db)).account.id;
  const credentials = { ...sandboxCredentials(tenant, 'secret', true), ...(sources ? { sources } : {}) };
  const connection = connectSandbox(account, sandbox, deps, credentials);
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

/** Live rows of a model as every shape can fill them, references as business keys. */
const QUERIES = {
  companies: `SELECT name, legal_name, company_code FROM companies c
    WHERE c.linked_account_id = $1 AND NOT c.remote_was_deleted`,
  departments: `SELECT name, code FROM departments d
    WHERE d.linked_account_id = $1 AND NOT d.remote_was_deleted`,
  job_positions: `SELECT p.position_number, p.job_title, p.description, d.code AS department,
      p.full_time_equivalent::float8 AS fte, p.valid_from::text, p.valid_to::text
    FROM job_positions p LEFT JOIN departments d ON d.id = p.department_id
    WHERE p.linked_account_id = $1 AND NOT p.remote_was_deleted`,
  employees: `SELECT e.employee_number, e.first_name, e.last_name, e.date_of_birth::text, e.gender, e.work_email,
      c.company_code, d.code AS department, p.position_number, e.job_title, e.hire_date::text,
      e.start_date::text, e.termination_date::text, boss.employee_number AS manager
    FROM employees e LEFT JOIN companies c ON c.id = e.company_id LEFT JOIN employees boss ON boss.id = e.manager_id
    LEFT JOIN departments d ON d.id = e.department_id LEFT JOIN job_positions p ON p.id = e.position_id
    WHERE e.linked_account_id = $1 AND NOT e.remote_was_deleted`,
  employments: `SELECT e.employee_number, c.company_code, m.start_date::text, m.end_date::text, m.employment_type
    FROM employments m LEFT JOIN employees e ON e.id = m.employee_id LEFT JOIN companies c ON c.id = m.company_id
    WHERE m.linked_account_id = $1 AND NOT m.remote_was_deleted`,
  dependents: `SELECT d.remote_id, e.employee_number, d.first_name, d.last_name, d.relationship, d.gender
    FROM dependents d LEFT JOIN employees e ON e.id = d.employee_id
    WHERE d.linked_account_id = $1 AND NOT d.remote_was_deleted`,
  benefit_plans: `SELECT name, description, plan_type, plan_type_raw, coverage_levels_offered::text[] AS levels
    FROM benefit_plans p WHERE p.linked_account_id = $1 AND NOT p.remote_was_deleted`,
  benefit_enrollments: `SELECT e.employee_number, p.name AS plan, b.coverage_level, b.status,
      b.start_date::text, b.end_date::text, b.employee_contribution_amount_minor,
      b.company_contribution_amount_minor
    FROM benefit_enrollments b LEFT JOIN employees e ON e.id = b.employee_id
    LEFT JOIN benefit_plans p ON p.id = b.benefit_plan_id
    WHERE b.linked_account_id = $1 AND NOT b.remote_was_deleted`,
  coverage: `SELECT e.employee_number, p.name AS plan, b.start_date::text, d.remote_id AS dependent
    FROM benefit_enrollment_dependents l JOIN benefit_enrollments b ON b.id = l.benefit_enrollment_id
    JOIN dependents d ON d.id = l.dependent_id LEFT JOIN employees e ON e.id = b.employee_id
    LEFT JOIN benefit_plans p ON p.id = b.benefit_plan_id
    WHERE l.linked_account_id = $1 AND NOT b.remote_was_deleted`,
} as const;

async function unified(account: string, model: keyof typeof QUERIES) {
  const { rows } = await db.pool.query<Record<string, unknown>>(QUERIES[model], [account]);
  return rows;
}

async function mobileNumbers(account: string) {
  const { rows } = await db.pool.query<{ count: number }>(
    'SELECT count(mobile_phone_number)::int AS count FROM employees WHERE linked_account_id = $1',
    [account],
  );
  return rows[0]?.count ?? 0;
}

describe('tenant shapes', () => {
  it('syncs every model from the best source of each shape, to the same records', async () => {
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
    // The same F&O-only tenant read through one DMF package instead of OData.
    const viaDmf = await syncShape(
      fnoTenant,
      Object.fromEntries(MODEL_NAMES.map((model) => [model, 'dmf' as const])),
    );

    // Native tables: enrollments (no cdm_ table, no virtual table) from F&O OData.
    expect(native.sources.get('employees')?.source).toBe('dataverse:cdm_workers');
    expect(native.sources.get('benefit_enrollments')?.source).toBe('fno-odata:WorkerEnrolledBenefits');
    expect(native.sources.get('benefit_enrollments')?.source_reason).toMatch(
      /mshr_payrollworkerbenefitplanentity table does not exist.*virtual tables are not generated/,
    );
    // Virtual tables: the virtual table wins over F&O, and says what it lacks (covered dependents).
    expect(virtual.sources.get('benefit_enrollments')).toMatchObject({
      source: 'dataverse:mshr_payrollworkerbenefitplanentities',
      source_reason: expect.stringMatching(/virtual table.*no change tracking.*no covered dependents/),
    });
    // F&O only: every model from F&O OData, none unavailable; employees say what F&O cannot fill.
    const fnoSources = Object.fromEntries(
      [...fnoOnly.sources].map(([model, state]) => [model, state.source]),
    );
    expect(fnoSources).toEqual({
      companies: expect.stringMatching(/^fno-odata:/),
      departments: expect.stringMatching(/^fno-odata:/),
      job_positions: expect.stringMatching(/^fno-odata:/),
      employees: 'fno-odata:Workers',
      employments: expect.stringMatching(/^fno-odata:/),
      dependents: 'fno-odata:WorkerPersonalContactPersons',
      benefit_plans: expect.stringMatching(/^fno-odata:/),
      benefit_enrollments: 'fno-odata:WorkerEnrolledBenefits',
    });
    expect(new Set([...viaDmf.sources.values()].map((state) => state.source))).toEqual(
      new Set(['dmf:HR export']),
    );
    expect(fnoOnly.sources.get('companies')?.source_reason).toMatch(
      /cdm_company table does not exist.*Served by F&O OData entity/,
    );
    expect(fnoOnly.sources.get('employees')?.source_reason).toMatch(
      /no mobile phone: employees' mobile_phone_number stays empty/,
    );

    // Every model: the same unified records whatever the shape (references compared by business key).
    for (const model of Object.keys(QUERIES) as Array<keyof typeof QUERIES>) {
      const expected = await unified(native.account, model);
      expect(expected.length, model).toBeGreaterThan(0);
      expect(sorted(await unified(fnoOnly.account, model)), `${model}, F&O only`).toEqual(sorted(expected));
      expect(sorted(await unified(viaDmf.account, model)), `${model}, F&O DMF`).toEqual(sorted(expected));
      if (model !== 'coverage') {
        expect(sorted(await unified(virtual.account, model)), `${model}, virtual tables`).toEqual(
          sorted(expected),
        );
      }
    }
    // References resolved, not merely equally empty.
    const employees = await unified(fnoOnly.account, 'employees');
    expect(employees.filter((row) => row.company_code && row.department && row.position_number).length).toBe(
      employees.filter((row) => row.termination_date === null).length,
    );
    // Managers through the position hierarchy: everyone but the first worker has one.
    expect(employees.filter((row) => row.manager).length).toBe(WORKERS - 1);
    const enrollments = await unified(fnoOnly.account, 'benefit_enrollments');
    expect(enrollments.length).toBe(sandbox.truth.enrollments.length);
    expect(enrollments.every((row) => row.employee_number && row.plan)).toBe(true);
    expect((await unified(fnoOnly.account, 'coverage')).length).toBe(sandbox.truth.coveredDependents.length);
    // What a shape cannot fill is empty there, and its sync status says so.
    expect(await mobileNumbers(native.account)).toBeGreaterThan(0);
    expect(await mobileNumbers(fnoOnly.account)).toBe(0);
    expect(await unified(virtual.account, 'coverage')).toEqual([]);
  });
});
