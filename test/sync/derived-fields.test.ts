import { describe, expect, it } from 'vitest';
import type { DerivationScope, PickRule, PickStep, RollupRule } from '../../src/providers/types.js';
import { derivedFieldDerivations } from '../../src/sync/derived-fields.js';
import { recordId } from '../../src/unified/record-id.js';
import { createTestDatabase } from '../helpers/database.js';
import { runDerivations, storedRows } from '../helpers/derivations.js';
import { createTestTenant, insertRecords } from '../helpers/fixtures.js';

// Picks and roll-ups → SQL (src/sync/derived-fields.ts), against the test database: rows reached by
// following keys through dated rows, aggregates over referencing rows, scoped by the run's changes.
const db = await createTestDatabase();
const ASSIGNMENTS = 'test:assignments';
const HIERARCHY = 'test:hierarchy';
const scopeOf = (full: string[], changed: Partial<Record<string, string[]>> = {}): DerivationScope => ({
  fullSources: new Set(full),
  changedSources: new Set(),
  changedRecords: new Map(Object.entries(changed)) as DerivationScope['changedRecords'],
});
const EVERYTHING = scopeOf([ASSIGNMENTS, HIERARCHY, 'test:positions', 'test:employments', 'test:plans']);

const past = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
const future = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

/** Dataverse's shape: worker → assignment map row valid now → position by remote id. */
const positionByAssignment: PickRule = {
  model: 'employees',
  start: { column: 'remote_id' },
  through: [
    {
      rows: { sourceTable: ASSIGNMENTS },
      match: { column: 'ref_id' },
      yields: { key: 'position' },
      window: { from: 'from', to: 'to' },
      order: [{ key: 'from', latest: true }],
    },
  ],
  target: { rows: { model: 'job_positions' }, match: { column: 'remote_id' } },
  columns: [
    { column: 'position_id', from: 'id' },
    { column: 'job_title', from: 'job_title' },
  ],
  rerunWhen: [ASSIGNMENTS, 'test:positions'],
};

/** F&O's shape: the position whose own worker assignment is valid now. */
const positionByWorker: PickRule = {
  model: 'employees',
  start: { column: 'employee_number' },
  target: {
    rows: { model: 'job_positions' },
    match: { key: 'Worker' },
    window: { from: 'Start', to: 'End' },
    order: [{ key: 'Start', latest: true }],
  },
  columns: [{ column: 'position_id', from: 'id' }],
  rerunWhen: ['test:positions'],
};

/** Manager: latest position → its parent now (Line first) → that position's holder now. */
const manager: PickRule = {
  model: 'employees',
  start: { column: 'employee_number' },
  through: [
    {
      rows: { model: 'job_positions' },
      match: { key: 'Worker' },
      yields: { column: 'remote_id' },
      order: [{ key: 'Start', latest: true }],
    },
    {
      rows: { sourceTable: HIERARCHY },
      match: { key: 'PositionId' },
      yields: { key: 'Parent' },
      window: { from: 'ValidFrom', to: 'ValidTo' },
      order: [{ key: 'Type', first: 'Line' }, { key: 'Type' }],
    },
    {
      rows: { model: 'job_positions' },
      match: { column: 'remote_id' },
      yields: { key: 'Worker' },
      window: { from: 'Start', to: 'End' },
    },
  ],
  target: { rows: { model: 'employees' }, match: { column: 'employee_number' } },
  columns: [{ column: 'manager_id', from: 'id' }],
  rerunWhen: ['test:positions', HIERARCHY],
};

const employmentDates: RollupRule = {
  model: 'employees',
  over: { model: 'employments', field: 'employee_id' },
  latestBy: 'start_date',
  columns: [
    { column: 'hire_date', of: 'start_date', aggregate: 'min' },
    { column: 'termination_date', of: 'end_date', aggregate: 'latest' },
    { column: 'company_id', of: 'company_id', aggregate: 'latest' },
  ],
  rerunWhen: ['test:employments'],
};

const planLevels: RollupRule = {
  model: 'benefit_plans',
  over: { model: 'benefit_enrollments', field: 'benefit_plan_id' },
  columns: [{ column: 'coverage_levels_offered', of: 'coverage_level', aggregate: 'distinct' }],
  rerunWhen: ['test:plans'],
};

async function account() {
  const { account: linked } = await createTestTenant(db, `Derived ${Math.random()}`);
  return linked.id;
}

async function auxiliary(
  accountId: string,
  sourceTable: string,
  rows: Record<string, [string | null, object]>,
) {
  for (const [remoteId, [refId, data]] of Object.entries(rows)) {
    await db.pool.query(
      `INSERT INTO provider_records (linked_account_id, source_table, remote_id, ref_id, data) VALUES ($1, $2, $3, $4, $5)`,
      [accountId, sourceTable, remoteId, refId, JSON.stringify(data)],
    );
  }
}

const derive = (accountId: string, picks: PickRule[], rollups: RollupRule[] = [], scope = EVERYTHING) =>
  runDerivations(db, derivedFieldDerivations(picks, rollups), accountId, scope);

const rows = (table: string, fields: string, accountId: string) => storedRows(db, table, fields, accountId);

const idOf = (accountId: string, model: 'employees' | 'job_positions' | 'companies', remoteId: string) =>
  recordId(accountId, model, remoteId);

describe('pick and roll-up rules → SQL', () => {
  it('picks the position of the assignment valid now, latest started first, live positions only', async () => {
    const id = await account();
    await insertRecords(db, id, 'job_positions', [
      { remote_id: 'p-old', job_title: 'Clerk' },
      { remote_id: 'p-now', job_title: 'Nurse' },
      { remote_id: 'p-newer', job_title: 'Head nurse' },
      { remote_id: 'p-next', job_title: 'Surgeon' },
      { remote_id: 'p-gone', job_title: 'Deleted', remote_was_deleted: true },
    ]);
    await auxiliary(id, ASSIGNMENTS, {
      a1: ['w1', { position: 'p-old', from: past(400), to: past(30) }],
      a2: ['w1', { position: 'p-now', from: past(30), to: null }],
      a3: ['w2', { position: 'p-now', from: past(60) }],
      a4: ['w2', { position: 'p-newer', from: past(10), to: future(10) }],
      a5: ['w3', { position: 'p-next', from: future(5) }],
      a6: ['w4', { position: 'p-gone', from: past(5) }],
    });
    // Same ref and key under another source: not an assignment.
    await auxiliary(id, 'test:other', { x1: ['w3', { position: 'p-old', from: past(1) }] });
    await insertRecords(db, id, 'employees', [
      { remote_id: 'w1' },
      { remote_id: 'w2' },
      { remote_id: 'w3', position_id: idOf(id, 'job_positions', 'p-old'), job_title: 'stale' },
      { remote_id: 'w4' },
    ]);
    const changed = await derive(id, [positionByAssignment]);
    expect(changed.sort()).toEqual(['w1', 'w2', 'w3'].map((remote) => idOf(id, 'employees', remote)).sort());
    expect(await rows('employees', 'position_id, job_title', id)).toEqual([
      { remote_id: 'w1', position_id: idOf(id, 'job_positions', 'p-now'), job_title: 'Nurse' },
      { remote_id: 'w2', position_id: idOf(id, 'job_positions', 'p-newer'), job_title: 'Head nurse' },
      { remote_id: 'w3', position_id: null, job_title: null },
      { remote_id: 'w4', position_id: null, job_title: null },
    ]);
    // Nothing differs on a second run: no row is written again.
    expect(await derive(id, [positionByAssignment])).toEqual([]);
  });

  it("picks on the target's own window, and walks three steps to the holder of the parent position", async () => {
    const id = await account();
    await insertRecords(db, id, 'job_positions', [
      { remote_id: 'CEO', remote_data: { Worker: 'E1', Start: past(900) } },
      { remote_id: 'CFO', remote_data: { Worker: 'E2', Start: past(300), End: future(300) } },
      { remote_id: 'DEV', remote_data: { Worker: 'E3', Start: past(100) } },
      // E3's earlier position, ended: not the latest, and not valid now.
      { remote_id: 'OLD', remote_data: { Worker: 'E3', Start: past(500), End: past(100) } },
      // E4 left: their last position still reports to the CEO.
      { remote_id: 'EX', remote_data: { Worker: 'E4', Start: past(800), End: past(200) } },
      { remote_id: 'VAC', remote_data: { Worker: 'E5', Start: past(400), End: past(1) } },
    ]);
    await auxiliary(id, HIERARCHY, {
      h1: [null, { PositionId: 'DEV', Parent: 'CEO', Type: 'Matrix' }],
      h2: [null, { PositionId: 'DEV', Parent: 'CFO', Type: 'Line', ValidFrom: past(10) }],
      h3: [null, { PositionId: 'DEV', Parent: 'EX', Type: 'Line', ValidTo: past(10) }],
      h4: [null, { PositionId: 'CFO', Parent: 'CEO', Type: 'Budget' }],
      h5: [null, { PositionId: 'CFO', Parent: 'VAC', Type: 'Approval' }],
      h6: [null, { PositionId: 'EX', Parent: 'CEO', Type: 'Line' }],
    });
    await insertRecords(
      db,
      id,
      'employees',
      ['E1', 'E2', 'E3', 'E4'].map((number) => ({
        remote_id: `w-${number}`,
        employee_number: number,
      })),
    );
    await derive(id, [positionByWorker, manager]);
    expect(await rows('employees', 'position_id, manager_id', id)).toEqual([
      { remote_id: 'w-E1', position_id: idOf(id, 'job_positions', 'CEO'), manager_id: null },
      // No Line: the first type A to Z (Approval → VAC, held by nobody now).
      { remote_id: 'w-E2', position_id: idOf(id, 'job_positions', 'CFO'), manager_id: null },
      // Line (valid now) over Matrix: CFO's holder.
      {
        remote_id: 'w-E3',
        position_id: idOf(id, 'job_positions', 'DEV'),
        manager_id: idOf(id, 'employees', 'w-E2'),
      },
      // A former worker: no position now, the manager of their last one.
      { remote_id: 'w-E4', position_id: null, manager_id: idOf(id, 'employees', 'w-E1') },
    ]);
  });

  it("rolls up the earliest, the latest and the distinct values of a row's live referencing rows", async () => {
    const id = await account();
    const worker = (remote: string) => idOf(id, 'employees', remote);
    await insertRecords(db, id, 'employees', [
      { remote_id: 'w1' },
      { remote_id: 'w2', hire_date: '2001-01-01' },
    ]);
    await insertRecords(db, id, 'employments', [
      {
        remote_id: 'm1',
        employee_id: worker('w1'),
        start_date: '2010-03-01',
        end_date: '2015-01-31',
        company_id: idOf(id, 'companies', 'A'),
      },
      {
        remote_id: 'm2',
        employee_id: worker('w1'),
        start_date: '2016-05-01',
        end_date: null,
        company_id: idOf(id, 'companies', 'B'),
      },
      { remote_id: 'm3', employee_id: worker('w1'), start_date: '2005-01-01', remote_was_deleted: true },
    ]);
    await insertRecords(db, id, 'benefit_plans', [
      { remote_id: 'plan1' },
      { remote_id: 'plan2', coverage_levels_offered: ['OTHER'] },
    ]);
    const plan1 = recordId(id, 'benefit_plans', 'plan1');
    await insertRecords(db, id, 'benefit_enrollments', [
      { remote_id: 'e1', benefit_plan_id: plan1, coverage_level: 'EMPLOYEE_FAMILY' },
      { remote_id: 'e2', benefit_plan_id: plan1, coverage_level: 'EMPLOYEE_ONLY' },
      { remote_id: 'e3', benefit_plan_id: plan1, coverage_level: 'EMPLOYEE_ONLY' },
      { remote_id: 'e4', benefit_plan_id: plan1, coverage_level: null },
      { remote_id: 'e5', benefit_plan_id: plan1, coverage_level: 'OTHER', remote_was_deleted: true },
    ]);
    await derive(id, [], [employmentDates, planLevels]);
    expect(await rows('employees', 'hire_date::text, termination_date::text, company_id', id)).toEqual([
      {
        remote_id: 'w1',
        hire_date: '2010-03-01',
        termination_date: null,
        company_id: idOf(id, 'companies', 'B'),
      },
      { remote_id: 'w2', hire_date: null, termination_date: null, company_id: null },
    ]);
    expect(await rows('benefit_plans', 'coverage_levels_offered::text[] AS levels', id)).toEqual([
      { remote_id: 'plan1', levels: ['EMPLOYEE_ONLY', 'EMPLOYEE_FAMILY'] },
      { remote_id: 'plan2', levels: [] },
    ]);
  });

  it('derives only the rows changed in the run unless a rerunWhen source or a rolled-up row changed', async () => {
    const id = await account();
    await insertRecords(db, id, 'job_positions', [{ remote_id: 'p1', job_title: 'Nurse' }]);
    await auxiliary(id, ASSIGNMENTS, {
      a1: ['w1', { position: 'p1' }],
      a2: ['w2', { position: 'p1' }],
    });
    const [w1, w2] = await insertRecords(db, id, 'employees', [{ remote_id: 'w1' }, { remote_id: 'w2' }]);
    // Nothing read, nothing changed: no statement at all.
    expect(await derive(id, [positionByAssignment], [], scopeOf([]))).toEqual([]);
    // Only w1 changed in the run: w2 stays as it is.
    expect(await derive(id, [positionByAssignment], [], scopeOf([], { employees: [w1 as string] }))).toEqual([
      w1,
    ]);
    expect((await rows('employees', 'job_title', id)).map((row) => row.job_title)).toEqual(['Nurse', null]);
    // The assignments changed: everyone.
    expect(await derive(id, [positionByAssignment], [], scopeOf([ASSIGNMENTS]))).toEqual([w2]);
    // An employment changed: the roll-up derives everyone (w1 has no employment: nothing to write).
    await insertRecords(db, id, 'employments', [
      { remote_id: 'm1', employee_id: w2, start_date: '2020-01-01' },
    ]);
    expect(
      await derive(id, [positionByAssignment], [employmentDates], scopeOf([], { employments: ['m'] })),
    ).toEqual([w2]);
  });

  it('refuses rules that name what the models do not have, mix types, or fill a column twice', () => {
    const refusals: [PickRule[], RollupRule[], RegExp][] = [
      [
        [positionByAssignment, { ...positionByWorker, columns: [{ column: 'position_id', from: 'id' }] }],
        [],
        /filled by two rules/,
      ],
      [
        [{ ...positionByWorker, columns: [{ column: 'company_id', from: 'id' }] }],
        [],
        /not a reference to job_positions/,
      ],
      [
        [{ ...positionByWorker, columns: [{ column: 'job_title', from: 'department_id' }] }],
        [],
        /not a text column/,
      ],
      [[{ ...positionByWorker, start: { column: 'manager_id' } }], [], /not a text column/],
      [
        [{ ...positionByWorker, start: { key: "x'; DROP TABLE employees; --" } }],
        [],
        /not a remote_data field name/,
      ],
      [
        [{ ...manager, through: [{ ...(manager.through?.[1] as PickStep), rows: { sourceTable: "a'b" } }] }],
        [],
        /not a source table name/,
      ],
      [
        [],
        [{ ...employmentDates, over: { model: 'employments', field: 'company_id' } }],
        /not a reference to employees/,
      ],
      [
        [],
        [
          {
            ...employmentDates,
            columns: [{ column: 'hire_date', of: 'end_date', aggregate: 'latest' }],
            latestBy: undefined,
          },
        ],
        /needs latestBy/,
      ],
      [
        [],
        [
          {
            ...planLevels,
            columns: [{ column: 'coverage_levels_offered', of: 'coverage_level', aggregate: 'min' }],
          },
        ],
        /is not a coverage_level\[\]/,
      ],
    ];
    for (const [picks, rollups, message] of refusals) {
      expect(() => derivedFieldDerivations(picks, rollups)).toThrow(message);
    }
  });
});
