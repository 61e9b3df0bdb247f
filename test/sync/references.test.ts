import { describe, expect, it } from 'vitest';
import { inTransaction } from '../../src/db/transaction.js';
import type { DerivationScope, MappedRecord, ReferenceRule } from '../../src/providers/types.js';
import { referenceDerivations } from '../../src/sync/references.js';
import { insertInitialRecords } from '../../src/sync/store.js';
import { recordId } from '../../src/unified/record-id.js';
import { createTestDatabase } from '../helpers/database.js';
import { createTestTenant, insertRecords } from '../helpers/fixtures.js';

// Reference rules → SQL (src/sync/references.ts), against the test database: the rebuild, the
// lookup on insert and the unresolved report that one rule gives.
const db = await createTestDatabase();
const SCOPE: DerivationScope = {
  fullSources: new Set(),
  changedSources: new Set(),
  changedRecords: new Map(),
};

const dependentEmployee: ReferenceRule = {
  model: 'dependents',
  field: 'employee_id',
  appliesTo: { remoteDataKey: 'WorkerPersonnelNumber' },
  key: 'WorkerPersonnelNumber',
  target: { model: 'employees', by: { column: 'employee_number' } },
  unresolved: 'worker {key} (personnel number) is not among the synced employees',
};
const employmentRules: ReferenceRule[] = [
  {
    model: 'employments',
    field: 'employee_id',
    appliesTo: { remoteDataKey: 'LegalEntityId' },
    key: 'PersonnelNumber',
    target: { model: 'employees', by: { column: 'employee_number' } },
  },
  {
    model: 'employments',
    field: 'company_id',
    appliesTo: { remoteDataKey: 'LegalEntityId' },
    key: 'LegalEntityId',
    target: { model: 'companies', by: { column: 'company_code' }, caseInsensitive: true },
    unresolved: 'legal entity {key} is not among the synced companies',
  },
];
const enrollmentPlan: ReferenceRule = {
  model: 'benefit_enrollments',
  field: 'benefit_plan_id',
  appliesTo: { remoteDataKey: 'BenefitId' },
  key: 'BenefitPlanID',
  target: { model: 'benefit_plans', by: { remoteData: ['cdm_name', 'Plan'] } },
};

async function account() {
  const { account: linked } = await createTestTenant(db, `References ${Math.random()}`);
  const id = linked.id;
  const ref = (model: Parameters<typeof recordId>[1], remoteId: string) => recordId(id, model, remoteId);
  return { id, ref };
}

/** Runs the rules' rebuilds in one transaction: the changed ids, and the unresolved reports. */
async function derive(accountId: string, rules: ReferenceRule[]) {
  return inTransaction(db.pool, async (client) => {
    const changed: string[] = [];
    const unresolved = [];
    for (const derivation of referenceDerivations(rules)) {
      changed.push(...(await derivation.run(client, accountId, SCOPE)));
      const report = await derivation.unresolved?.(client, accountId);
      if (report) unresolved.push(report);
    }
    return { changed, unresolved };
  });
}

async function column(table: string, field: string, accountId: string) {
  const { rows } = await db.pool.query<{ remote_id: string; value: string | null; modified_at: Date }>(
    `SELECT remote_id, ${field} AS value, modified_at FROM ${table} WHERE linked_account_id = $1 ORDER BY remote_id`,
    [accountId],
  );
  return rows;
}

describe('reference rules → SQL', () => {
  it('fills a reference by business key, a live row winning over a deleted one modified later', async () => {
    const { id, ref } = await account();
    await insertRecords(db, id, 'employees', [
      { remote_id: 'e-live', employee_number: 'W2', modified_at: new Date('2026-01-01T00:00:00Z') },
      {
        remote_id: 'e-gone',
        employee_number: 'W2',
        remote_was_deleted: true,
        modified_at: new Date('2026-06-01T00:00:00Z'),
      },
      { remote_id: 'e-old', employee_number: 'W3', modified_at: new Date('2026-01-01T00:00:00Z') },
      { remote_id: 'e-new', employee_number: 'W3', modified_at: new Date('2026-03-01T00:00:00Z') },
    ]);
    await insertRecords(db, id, 'dependents', [
      { remote_id: 'd2', remote_data: { WorkerPersonnelNumber: 'W2' } },
      { remote_id: 'd3', remote_data: { WorkerPersonnelNumber: 'W3' } },
      // From another source (no WorkerPersonnelNumber): its own employee is left alone.
      { remote_id: 'dv', remote_data: { cdm_name: 'x' }, employee_id: ref('employees', 'e-old') },
    ]);
    const { changed } = await derive(id, [dependentEmployee]);
    expect(changed.sort()).toEqual([ref('dependents', 'd2'), ref('dependents', 'd3')].sort());
    expect((await column('dependents', 'employee_id', id)).map((row) => row.value)).toEqual([
      ref('employees', 'e-live'),
      ref('employees', 'e-new'),
      ref('employees', 'e-old'),
    ]);
  });

  it('returns only the rows whose value changes, and leaves the others untouched', async () => {
    const { id, ref } = await account();
    await insertRecords(db, id, 'employees', [
      { remote_id: 'e1', employee_number: 'W1' },
      { remote_id: 'e2', employee_number: 'W2' },
    ]);
    await insertRecords(db, id, 'dependents', [
      { remote_id: 'd1', remote_data: { WorkerPersonnelNumber: 'W1' } },
      { remote_id: 'd2', remote_data: { WorkerPersonnelNumber: 'W2' } },
    ]);
    expect((await derive(id, [dependentEmployee])).changed).toHaveLength(2);
    const before = await column('dependents', 'employee_id', id);
    expect((await derive(id, [dependentEmployee])).changed).toEqual([]);
    expect(await column('dependents', 'employee_id', id)).toEqual(before);

    // W2 now belongs to another employee: only d2 moves.
    await db.pool.query(`UPDATE employees SET employee_number = NULL WHERE id = $1`, [
      ref('employees', 'e2'),
    ]);
    await insertRecords(db, id, 'employees', [{ remote_id: 'e3', employee_number: 'W2' }]);
    expect((await derive(id, [dependentEmployee])).changed).toEqual([ref('dependents', 'd2')]);
    const after = await column('dependents', 'employee_id', id);
    expect(after[0]).toEqual(before[0]);
    expect(after[1]?.value).toBe(ref('employees', 'e3'));
  });

  it('reports unresolved rows with their key, and clears a reference whose target is gone', async () => {
    const { id, ref } = await account();
    await insertRecords(db, id, 'employees', [{ remote_id: 'e1', employee_number: 'W1' }]);
    await insertRecords(db, id, 'dependents', [
      { remote_id: 'd1', remote_data: { WorkerPersonnelNumber: 'W1' } },
      {
        remote_id: 'd9',
        remote_data: { WorkerPersonnelNumber: 'NO-SUCH' },
        employee_id: ref('employees', 'e1'),
      },
      // Deleted rows are not reported.
      { remote_id: 'dx', remote_data: { WorkerPersonnelNumber: 'NOPE' }, remote_was_deleted: true },
    ]);
    const { changed, unresolved } = await derive(id, [dependentEmployee]);
    expect(changed.sort()).toEqual([ref('dependents', 'd1'), ref('dependents', 'd9')].sort());
    expect(unresolved).toEqual([
      {
        count: 1,
        first: [
          {
            key: 'd9',
            reason:
              'worker NO-SUCH (personnel number) is not among the synced employees; stored without employee_id',
          },
        ],
      },
    ]);
  });

  it('fills several references of a model in one statement, case-insensitively where asked', async () => {
    const { id, ref } = await account();
    await insertRecords(db, id, 'employees', [{ remote_id: 'e1', employee_number: 'W1' }]);
    await insertRecords(db, id, 'companies', [{ remote_id: 'c1', company_code: 'USMF' }]);
    await insertRecords(db, id, 'employments', [
      { remote_id: 'm1', remote_data: { PersonnelNumber: 'W1', LegalEntityId: 'usmf' } },
      { remote_id: 'm2', remote_data: { PersonnelNumber: 'W1', LegalEntityId: 'zz' } },
    ]);
    const { changed, unresolved } = await derive(id, employmentRules);
    expect(changed.sort()).toEqual([ref('employments', 'm1'), ref('employments', 'm2')].sort());
    const { rows } = await db.pool.query(
      'SELECT remote_id, employee_id, company_id FROM employments WHERE linked_account_id = $1 ORDER BY remote_id',
      [id],
    );
    expect(rows).toEqual([
      { remote_id: 'm1', employee_id: ref('employees', 'e1'), company_id: ref('companies', 'c1') },
      { remote_id: 'm2', employee_id: ref('employees', 'e1'), company_id: null },
    ]);
    // Only the rule with an unresolved description reports; the resolved employee is not named.
    expect(unresolved).toEqual([
      {
        count: 1,
        first: [
          {
            key: 'm2',
            reason: 'legal entity zz is not among the synced companies; stored without company_id',
          },
        ],
      },
    ]);
  });

  it('matches the first present of several remote_data keys of the target', async () => {
    const { id, ref } = await account();
    await insertRecords(db, id, 'benefit_plans', [
      { remote_id: 'p-dataverse', remote_data: { cdm_name: 'DENTAL' } },
      { remote_id: 'p-fno', remote_data: { Plan: 'VISION' } },
    ]);
    await insertRecords(db, id, 'benefit_enrollments', [
      { remote_id: 'n1', remote_data: { BenefitId: 'b', BenefitPlanID: 'DENTAL' } },
      { remote_id: 'n2', remote_data: { BenefitId: 'b', BenefitPlanID: 'VISION' } },
    ]);
    await derive(id, [enrollmentPlan]);
    expect((await column('benefit_enrollments', 'benefit_plan_id', id)).map((row) => row.value)).toEqual([
      ref('benefit_plans', 'p-dataverse'),
      ref('benefit_plans', 'p-fno'),
    ]);
  });

  it('resolves references as an initial load inserts, so the rebuild finds nothing left to write', async () => {
    const { id, ref } = await account();
    await insertRecords(db, id, 'employees', [
      { remote_id: 'e1', employee_number: 'W1' },
      { remote_id: 'e1-gone', employee_number: 'W1', remote_was_deleted: true },
    ]);
    const [derivation] = referenceDerivations([dependentEmployee]);
    const dependent = (remoteId: string, worker: string): MappedRecord => ({
      remoteId,
      fields: { first_name: remoteId },
      remoteData: { WorkerPersonnelNumber: worker },
      remoteCreatedAt: null,
      remoteModifiedAt: null,
    });
    const changes = await inTransaction(db.pool, (client) =>
      insertInitialRecords(
        client,
        id,
        'dependents',
        'fno:dependents',
        [dependent('d1', 'W1'), dependent('d2', 'NO-SUCH')],
        derivation?.resolveOnInsert,
      ),
    );
    expect(changes?.created).toHaveLength(2);
    expect((await column('dependents', 'employee_id', id)).map((row) => row.value)).toEqual([
      ref('employees', 'e1'),
      null,
    ]);
    expect((await derive(id, [dependentEmployee])).changed).toEqual([]);
  });

  it('refuses a rule naming anything the model specs do not have, before any SQL', () => {
    const broken = (change: Partial<ReferenceRule>) => () =>
      referenceDerivations([{ ...dependentEmployee, ...change }]);
    expect(broken({ field: 'first_name' })).toThrow(/dependents\.first_name is not a reference to employees/);
    expect(broken({ target: { model: 'companies', by: { column: 'company_code' } } })).toThrow(
      /not a reference/,
    );
    expect(broken({ target: { model: 'employees', by: { column: 'hire_date' } } })).toThrow(
      /no text column hire_date/,
    );
    expect(broken({ key: "x' OR true --" })).toThrow(/is not a remote_data field name/);
    expect(broken({ appliesTo: { remoteDataKey: "a'b" } })).toThrow(/is not a remote_data field name/);
    expect(broken({ target: { model: 'employees', by: { remoteData: ['ok', 'no\\pe'] } } })).toThrow(
      /is not a remote_data field name/,
    );
    expect(() => referenceDerivations([dependentEmployee, dependentEmployee])).toThrow(/stated twice/);
  });
});
