import { describe, expect, it, vi } from 'vitest';
import { inTransaction } from '../../src/db/transaction.js';
import type {
  DerivationScope,
  MappedRecord,
  ReferenceRule,
  SourceStream,
} from '../../src/providers/types.js';
import { InitialLoadKeys } from '../../src/sync/key-maps.js';
import { referenceDerivations } from '../../src/sync/references.js';
import { insertInitialRecords } from '../../src/sync/store.js';
import type { ModelName } from '../../src/unified/models.js';
import { createTestDatabase } from '../helpers/database.js';
import { createTestTenant, insertRecords } from '../helpers/fixtures.js';

// References resolved in memory for an initial load (src/sync/key-maps.ts) against the SQL lookup
// on insert they replace (references.ts, resolveOnInsert): the same id for every row, tie-breaks,
// case-insensitive keys and missing keys included, or no answer at all.
const db = await createTestDatabase();
const SCOPE: DerivationScope = {
  fullSources: new Set(),
  changedSources: new Set(),
  changedRecords: new Map(),
};

const rules: ReferenceRule[] = [
  {
    model: 'employments',
    field: 'employee_id',
    appliesTo: { remoteDataKey: 'LegalEntityId' },
    key: 'PersonnelNumber',
    target: { model: 'employees', by: { column: 'employee_number' } },
    unresolved: 'worker {key} is not among the synced employees',
  },
  {
    model: 'employments',
    field: 'company_id',
    appliesTo: { remoteDataKey: 'LegalEntityId' },
    key: 'LegalEntityId',
    target: { model: 'companies', by: { column: 'company_code' }, caseInsensitive: true },
  },
  // A second source filling the same field by another key: the first rule that applies wins.
  {
    model: 'employments',
    field: 'employee_id',
    appliesTo: { remoteDataKey: 'WorkerNumber' },
    key: 'WorkerNumber',
    target: { model: 'employees', by: { column: 'employee_number' } },
  },
  {
    model: 'benefit_enrollments',
    field: 'benefit_plan_id',
    appliesTo: { remoteDataKey: 'BenefitId' },
    key: 'BenefitPlanID',
    target: { model: 'benefit_plans', by: { remoteData: ['cdm_name', 'Plan'] } },
  },
];

const stream = (sourceTable: string, target: ModelName): SourceStream =>
  ({ sourceTable, target }) as unknown as SourceStream;

const record = (remoteId: string, remoteData: Record<string, unknown>): MappedRecord => ({
  remoteId,
  fields: {},
  remoteData,
  remoteCreatedAt: null,
  remoteModifiedAt: null,
});

/** The engine's SQL columns of a model (merged resolveOnInsert, as engine.ts does). */
function sqlColumns(model: ModelName): Record<string, string> {
  let columns: Record<string, string> = {};
  for (const derivation of referenceDerivations(rules)) {
    if (derivation.model === model) columns = { ...columns, ...derivation.resolveOnInsert };
  }
  return columns;
}

/** What the SQL lookup on insert gives each record: its expressions over the records' remote_data. */
async function inSql(accountId: string, model: ModelName, records: MappedRecord[]) {
  const columns = sqlColumns(model);
  const { rows } = await db.pool.query<Record<string, string | null>>(
    `SELECT ${Object.entries(columns)
      .map(([field, sql]) => `(${sql}) AS "${field}"`)
      .join(', ')}
     FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS r(remote_data, n) ORDER BY r.n`,
    [accountId, JSON.stringify(records.map((one) => one.remoteData))],
  );
  return Object.fromEntries(Object.keys(columns).map((field) => [field, rows.map((row) => row[field])]));
}

async function inMemory(keys: InitialLoadKeys, accountId: string, model: ModelName, records: MappedRecord[]) {
  return inTransaction(db.pool, (client) =>
    keys.resolve(client, accountId, model, records, sqlColumns(model)),
  );
}

async function tenant() {
  const { account } = await createTestTenant(db, `Key maps ${Math.random()}`);
  const old = new Date('2026-01-01T00:00:00Z');
  const recent = new Date('2026-06-01T00:00:00Z');
  await insertRecords(db, account.id, 'employees', [
    { remote_id: 'e-live', employee_number: 'W1' },
    { remote_id: 'e-deleted', employee_number: 'W1', remote_was_deleted: true, modified_at: recent },
    { remote_id: 'e-old', employee_number: 'W2', modified_at: old },
    { remote_id: 'e-recent', employee_number: 'W2', modified_at: recent },
    { remote_id: 'e-tie-a', employee_number: 'W3', modified_at: old },
    { remote_id: 'e-tie-b', employee_number: 'W3', modified_at: old },
    { remote_id: 'e-gone', employee_number: 'W4', remote_was_deleted: true },
    { remote_id: 'e-42', employee_number: '42' },
    { remote_id: 'e-true', employee_number: 'true' },
    { remote_id: 'e-empty', employee_number: '' },
    { remote_id: 'e-lower', employee_number: 'w1' },
  ]);
  await insertRecords(db, account.id, 'companies', [
    { remote_id: 'c-usmf', company_code: 'USMF' },
    { remote_id: 'c-accent', company_code: 'ÄRZTE' },
  ]);
  await insertRecords(db, account.id, 'benefit_plans', [
    { remote_id: 'p-dataverse', remote_data: { cdm_name: 'DENTAL' } },
    { remote_id: 'p-fno', remote_data: { Plan: 'VISION' } },
    { remote_id: 'p-both', remote_data: { cdm_name: 'MEDICAL', Plan: 'VISION-2' } },
  ]);
  return account.id;
}

describe('references resolved in memory for an initial load', () => {
  it('gives every row the id the SQL lookup on insert gives it', async () => {
    const accountId = await tenant();
    const keys = new InitialLoadKeys(rules, [stream('fno:employments', 'employments')]);
    const employments = [
      record('live-over-deleted', { LegalEntityId: 'usmf', PersonnelNumber: 'W1' }),
      record('latest-modified', { LegalEntityId: 'USMF', PersonnelNumber: 'W2' }),
      record('tie-lowest-id', { LegalEntityId: 'UsMf', PersonnelNumber: 'W3' }),
      record('only-deleted', { LegalEntityId: 'ärzte', PersonnelNumber: 'W4' }),
      record('case-sensitive-key', { LegalEntityId: 'x', PersonnelNumber: 'w1' }),
      record('unknown', { LegalEntityId: 'NOPE', PersonnelNumber: 'W9' }),
      record('integer-key', { LegalEntityId: 'usmf', PersonnelNumber: 42 }),
      record('boolean-key', { LegalEntityId: 'usmf', PersonnelNumber: true }),
      record('empty-key', { LegalEntityId: 'usmf', PersonnelNumber: '' }),
      record('null-key', { LegalEntityId: null, PersonnelNumber: null }),
      record('key-absent', { LegalEntityId: 'usmf' }),
      record('second-source', { WorkerNumber: 'W2' }),
      record('first-source-wins', { LegalEntityId: 'usmf', PersonnelNumber: 'W9', WorkerNumber: 'W1' }),
      record('no-source', { PersonnelNumber: 'W1', Other: 'USMF' }),
      record('undefined-applies-to', { LegalEntityId: undefined, WorkerNumber: 'W1' }),
    ];
    const expected = await inSql(accountId, 'employments', employments);
    // The fixture exercises what it should: resolved and unresolved rows, a company matched across
    // case. (Whether 'ärzte' matches 'ÄRZTE' is the database's lower(), whichever way it goes.)
    expect(expected.employee_id?.filter((id) => id !== null).length).toBeGreaterThan(6);
    expect(expected.employee_id).toContain(null);
    expect(expected.company_id?.filter((id) => id !== null).length).toBeGreaterThanOrEqual(5);
    expect(await inMemory(keys, accountId, 'employments', employments)).toEqual(expected);

    const enrollments = [
      record('dataverse-plan', { BenefitId: 'b', BenefitPlanID: 'DENTAL' }),
      record('fno-plan', { BenefitId: 'b', BenefitPlanID: 'VISION' }),
      record('cdm-name-first', { BenefitId: 'b', BenefitPlanID: 'MEDICAL' }),
      record('plan-not-matched-behind-cdm-name', { BenefitId: 'b', BenefitPlanID: 'VISION-2' }),
      record('not-a-plan', { BenefitId: 'b', BenefitPlanID: 'dental' }),
    ];
    const plans = await inSql(accountId, 'benefit_enrollments', enrollments);
    expect(plans.benefit_plan_id?.filter((id) => id !== null)).toHaveLength(3);
    expect(await inMemory(keys, accountId, 'benefit_enrollments', enrollments)).toEqual(plans);
  });

  it('answers nothing (the SQL resolves) when it could differ from the SQL', async () => {
    const accountId = await tenant();
    const page = [record('a', { LegalEntityId: 'usmf', PersonnelNumber: 'W1' })];
    // A stream of this run still writes employees (or may start to): their keys can change.
    const pending = new InitialLoadKeys(rules, [stream('fno:employees', 'employees')]);
    expect(await inMemory(pending, accountId, 'employments', page)).toBeUndefined();
    pending.streamFinished('fno:employees');
    expect((await inMemory(pending, accountId, 'employments', page))?.employee_id).toHaveLength(1);
    const keys = new InitialLoadKeys(rules, []);
    // A key jsonb would print in its own notation.
    const fraction = [record('f', { LegalEntityId: 'usmf', PersonnelNumber: 4.5 })];
    expect(await inMemory(keys, accountId, 'employments', fraction)).toBeUndefined();
    const object = [record('o', { LegalEntityId: 'usmf', PersonnelNumber: { n: 1 } })];
    expect(await inMemory(keys, accountId, 'employments', object)).toBeUndefined();
    // Columns the engine computes with other SQL than these rules' (a provider's own expression).
    const other = { ...sqlColumns('employments'), company_id: 'NULL' };
    const answer = await inTransaction(db.pool, (client) =>
      keys.resolve(client, accountId, 'employments', page, other),
    );
    expect(answer).toBeUndefined();
  });

  it('stores the references with the rows; the rebuild finds nothing to write and unresolved rows stay reported', async () => {
    const accountId = await tenant();
    const keys = new InitialLoadKeys(rules, [stream('fno:employments', 'employments')]);
    const page = [
      { ...record('m1', { LegalEntityId: 'usmf', PersonnelNumber: 'W2' }), fields: { job_title: 'x' } },
      record('m2', { LegalEntityId: 'usmf', PersonnelNumber: 'NO-SUCH' }),
    ];
    const changes = await inTransaction(db.pool, async (client) => {
      const values = await keys.resolve(client, accountId, 'employments', page, sqlColumns('employments'));
      expect(values).toBeDefined();
      return insertInitialRecords(
        client,
        accountId,
        'employments',
        'fno:employments',
        page,
        sqlColumns('employments'),
        values,
      );
    });
    expect(changes?.created).toHaveLength(2);
    const { rows } = await db.pool.query<{
      remote_id: string;
      employee: string | null;
      company: string | null;
    }>(
      `SELECT m.remote_id, e.remote_id AS employee, c.remote_id AS company FROM employments m
       LEFT JOIN employees e ON e.id = m.employee_id LEFT JOIN companies c ON c.id = m.company_id
       WHERE m.linked_account_id = $1 ORDER BY m.remote_id`,
      [accountId],
    );
    expect(rows).toEqual([
      { remote_id: 'm1', employee: 'e-recent', company: 'c-usmf' },
      { remote_id: 'm2', employee: null, company: 'c-usmf' },
    ]);
    const report = await inTransaction(db.pool, async (client) => {
      const changed: string[] = [];
      const unresolved = [];
      for (const derivation of referenceDerivations(rules).filter((one) => one.model === 'employments')) {
        changed.push(...(await derivation.run(client, accountId, SCOPE)));
        const found = await derivation.unresolved?.(client, accountId);
        if (found) unresolved.push(found);
      }
      return { changed, unresolved };
    });
    expect(report.changed).toEqual([]);
    expect(report.unresolved).toEqual([
      {
        count: 1,
        first: [
          {
            key: 'm2',
            reason: 'worker NO-SUCH is not among the synced employees; stored without employee_id',
          },
        ],
      },
    ]);
  });

  it('skips the rebuild only when every row of the model was resolved in memory in this run', async () => {
    const accountId = await tenant();
    const dependentRule: ReferenceRule = {
      model: 'dependents',
      field: 'employee_id',
      appliesTo: { remoteDataKey: 'WorkerPersonnelNumber' },
      key: 'WorkerPersonnelNumber',
      target: { model: 'employees', by: { column: 'employee_number' } },
      unresolved: 'worker {key} is not among the synced employees',
    };
    const dependentColumns = referenceDerivations([dependentRule])[0]?.resolveOnInsert;
    const keys = new InitialLoadKeys([dependentRule], [stream('fno:dependents', 'dependents')]);
    const page = [
      record('d1', { WorkerPersonnelNumber: 'W2' }),
      record('d2', { WorkerPersonnelNumber: 'NO-SUCH' }),
    ];
    await inTransaction(db.pool, async (client) => {
      const values = await keys.resolve(client, accountId, 'dependents', page, dependentColumns);
      await insertInitialRecords(
        client,
        accountId,
        'dependents',
        'fno:dependents',
        page,
        dependentColumns,
        values,
      );
    });
    keys.pageStored('dependents', true, page.length, 0);
    keys.streamFinished('fno:dependents');
    /** The rule's derivation, as the engine runs it: changed ids, whether it rebuilt, the report. */
    const derive = (loads: InitialLoadKeys) =>
      inTransaction(db.pool, async (client) => {
        const [derivation] = referenceDerivations([dependentRule], loads);
        const query = vi.spyOn(client, 'query');
        const changed = await derivation?.run(client, accountId, SCOPE);
        const rebuilt = query.mock.calls.some(([sql]) => String(sql).includes('UPDATE'));
        query.mockRestore();
        return { changed, rebuilt, unresolved: (await derivation?.unresolved?.(client, accountId))?.count };
      });
    expect(await derive(keys)).toEqual({ changed: [], rebuilt: false, unresolved: 1 });
    // A row of the model not stored by this run's resolved pages: the rebuild runs, and fixes it.
    await insertRecords(db, accountId, 'dependents', [
      { remote_id: 'd3', remote_data: { WorkerPersonnelNumber: 'W1' } },
    ]);
    const withOther = await derive(keys);
    expect(withOther.rebuilt).toBe(true);
    expect(withOther.changed).toHaveLength(1);
    // A page of the model stored another way in this run (upserted, or resolved in SQL): rebuilt too.
    const upserted = new InitialLoadKeys([dependentRule], []);
    upserted.pageStored('dependents', true, 3, 0);
    expect((await derive(upserted)).rebuilt).toBe(false);
    upserted.pageStored('dependents', false, 1, 0);
    expect((await derive(upserted)).rebuilt).toBe(true);
  });

  it('reads the key maps ahead of the first page, once no stream writes the referenced models', async () => {
    const accountId = await tenant();
    const keys = new InitialLoadKeys(rules, [stream('fno:employees', 'employees')]);
    const poolQuery = vi.spyOn(db.pool, 'query');
    keys.prefetch(db.pool, accountId, 'employments');
    expect(poolQuery).not.toHaveBeenCalled();
    keys.streamFinished('fno:employees');
    keys.prefetch(db.pool, accountId, 'employments');
    // The employees' map (both employee_id rules read the same one) and the companies' map.
    expect(poolQuery).toHaveBeenCalledTimes(2);
    poolQuery.mockRestore();
    const page = [record('a', { LegalEntityId: 'USMF', PersonnelNumber: 'W2' })];
    const { values, statements } = await inTransaction(db.pool, async (client) => {
      const query = vi.spyOn(client, 'query');
      const values = await keys.resolve(client, accountId, 'employments', page, sqlColumns('employments'));
      const statements = query.mock.calls.map(([sql]) => String((sql as { text?: string }).text ?? sql));
      query.mockRestore();
      return { values, statements };
    });
    expect(values).toEqual(await inSql(accountId, 'employments', page));
    expect(statements.filter((sql) => sql.includes('DISTINCT ON'))).toEqual([]);
  });
});
