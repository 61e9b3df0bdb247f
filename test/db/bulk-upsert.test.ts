import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { upsertRows } from '../../src/db/bulk-upsert.js';
import { COMMON_COLUMNS, MODELS, type PgType } from '../../src/unified/models.js';
import { recordId } from '../../src/unified/record-id.js';
import { createTestDatabase } from '../helpers/database.js';

const db = await createTestDatabase();
const KEY = { conflictColumns: ['linked_account_id', 'remote_id'], touchColumn: 'modified_at' };

// What the sync engine writes: everything but created_at/modified_at, which the database owns.
function writableColumns(model: keyof typeof MODELS): Record<string, PgType> {
  const { created_at: _created, modified_at: _modified, ...common } = COMMON_COLUMNS;
  return { ...common, ...MODELS[model].columns };
}
const planColumns = writableColumns('benefit_plans');
const positionColumns = writableColumns('job_positions');
const enrollmentColumns = writableColumns('benefit_enrollments');

function plan(account: string, remoteId: string, overrides: Record<string, unknown> = {}) {
  return {
    id: recordId(account, 'benefit_plans', remoteId),
    linked_account_id: account,
    remote_id: remoteId,
    remote_data: { BenefitPlanId: remoteId, nested: { list: [1, 'two', null] }, quote: 'O\'Brien "x"' },
    remote_was_deleted: false,
    name: `Plan ${remoteId}`,
    plan_type: 'MEDICAL',
    plan_type_raw: 'Medical',
    plan_year_start: '2026-01-01',
    plan_year_end: '2026-12-31',
    coverage_levels_offered: ['EMPLOYEE_ONLY', 'EMPLOYEE_FAMILY'],
    ...overrides,
  };
}

async function planRow(id: string) {
  const { rows } = await db.pool.query(
    'SELECT *, xmin::text AS version, coverage_levels_offered::text[] AS levels FROM benefit_plans WHERE id = $1',
    [id],
  );
  return rows[0];
}

describe('upsertRows', () => {
  it('inserts new rows with every column type and returns their ids', async () => {
    const account = randomUUID();
    const rows = [
      plan(account, 'P1'),
      plan(account, 'P2', { coverage_levels_offered: [], description: null }),
    ];
    const result = await upsertRows(db.pool, 'benefit_plans', planColumns, rows, KEY);
    expect(result.inserted.sort()).toEqual(rows.map((row) => row.id).sort());
    expect(result.updated).toEqual([]);

    const first = await planRow(rows[0]!.id);
    expect(first.plan_type).toBe('MEDICAL');
    expect(first.plan_type_raw).toBe('Medical');
    expect(first.plan_year_start).toBe('2026-01-01');
    expect(first.levels).toEqual(['EMPLOYEE_ONLY', 'EMPLOYEE_FAMILY']);
    expect(first.remote_data).toEqual(rows[0]!.remote_data);
    expect(first.description).toBeNull();
    const second = await planRow(rows[1]!.id);
    expect(second.levels).toEqual([]);
  });

  it('leaves an unchanged row alone: neither inserted nor updated, modified_at kept', async () => {
    const account = randomUUID();
    const row = plan(account, 'P1');
    await upsertRows(db.pool, 'benefit_plans', planColumns, [row], KEY);
    const before = await planRow(row.id);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Same content with keys in another order inside remote_data: jsonb compares by value.
    const { quote, ...rest } = row.remote_data;
    const again = { ...row, remote_data: { quote, ...rest } };
    const result = await upsertRows(db.pool, 'benefit_plans', planColumns, [again], KEY);
    expect(result).toEqual({ inserted: [], updated: [] });
    const after = await planRow(row.id);
    expect(after.modified_at).toEqual(before.modified_at);
    // Not even rewritten: the row version (xmin) is the same.
    expect(after.version).toBe(before.version);
  });

  it('updates a changed row, moves modified_at and keeps id and created_at', async () => {
    const account = randomUUID();
    const row = plan(account, 'P1');
    await upsertRows(db.pool, 'benefit_plans', planColumns, [row], KEY);
    const before = await planRow(row.id);
    await new Promise((resolve) => setTimeout(resolve, 20));
    let current: Record<string, unknown> = row;
    for (const change of [
      { coverage_levels_offered: ['EMPLOYEE_ONLY'] },
      { plan_year_end: '2027-06-30' },
      { remote_data: { changed: true } },
      { plan_type: 'DENTAL', plan_type_raw: 'Dental' },
      { description: 'now set' },
      { description: null },
    ]) {
      current = { ...current, ...change };
      const result = await upsertRows(db.pool, 'benefit_plans', planColumns, [current], KEY);
      expect(result, JSON.stringify(change)).toEqual({ inserted: [], updated: [row.id] });
    }
    const after = await planRow(row.id);
    expect(after.modified_at.getTime()).toBeGreaterThan(before.modified_at.getTime());
    expect(after.created_at).toEqual(before.created_at);
    expect(after.id).toBe(row.id);
    expect(after.plan_type).toBe('DENTAL');
    expect(after.description).toBeNull();
  });

  it('writes numeric, bigint, integer and Date values, and compares them after rounding to the column', async () => {
    const account = randomUUID();
    const position = {
      id: recordId(account, 'job_positions', 'POS-1'),
      linked_account_id: account,
      remote_id: 'POS-1',
      remote_was_deleted: false,
      job_title: 'Nurse',
      full_time_equivalent: 0.5,
      valid_from: new Date('2024-03-01T00:00:00Z'),
      remote_modified_at: new Date('2025-01-02T03:04:05.678Z'),
    };
    expect(
      (await upsertRows(db.pool, 'job_positions', positionColumns, [position], KEY)).inserted,
    ).toHaveLength(1);
    const { rows } = await db.pool.query('SELECT * FROM job_positions WHERE id = $1', [position.id]);
    expect(rows[0].full_time_equivalent).toBe(0.5);
    expect(rows[0].valid_from).toBe('2024-03-01');
    expect(rows[0].remote_modified_at.toISOString()).toBe('2025-01-02T03:04:05.678Z');
    // '0.500' is the same numeric(6,3) as 0.5: no update.
    const same = { ...position, full_time_equivalent: '0.500', valid_from: '2024-03-01' };
    expect(await upsertRows(db.pool, 'job_positions', positionColumns, [same], KEY)).toEqual({
      inserted: [],
      updated: [],
    });

    const enrollment = {
      id: recordId(account, 'benefit_enrollments', 'E-1'),
      linked_account_id: account,
      remote_id: 'E-1',
      remote_was_deleted: false,
      status: 'ACTIVE',
      coverage_level: 'EMPLOYEE_SPOUSE',
      employee_contribution_amount_minor: 9_007_199_254,
      company_contribution_percent_bps: 450,
    };
    await upsertRows(db.pool, 'benefit_enrollments', enrollmentColumns, [enrollment], KEY);
    const saved = await db.pool.query('SELECT * FROM benefit_enrollments WHERE id = $1', [enrollment.id]);
    expect(saved.rows[0].employee_contribution_amount_minor).toBe(9_007_199_254);
    expect(saved.rows[0].company_contribution_percent_bps).toBe(450);
    expect(saved.rows[0].coverage_level).toBe('EMPLOYEE_SPOUSE');
  });

  it('handles several batches and duplicate keys within one call (last wins)', async () => {
    const account = randomUUID();
    const rows = Array.from({ length: 25 }, (_, index) => plan(account, `P${index}`));
    rows.push(plan(account, 'P3', { name: 'latest' }));
    const result = await upsertRows(db.pool, 'benefit_plans', planColumns, rows, { ...KEY, batchSize: 7 });
    expect(result.inserted).toHaveLength(25);
    expect((await planRow(recordId(account, 'benefit_plans', 'P3'))).name).toBe('latest');
    const mixed = [plan(account, 'P0', { name: 'renamed' }), plan(account, 'P1'), plan(account, 'P99')];
    const second = await upsertRows(db.pool, 'benefit_plans', planColumns, mixed, KEY);
    expect(second.inserted).toEqual([recordId(account, 'benefit_plans', 'P99')]);
    expect(second.updated).toEqual([recordId(account, 'benefit_plans', 'P0')]);
  });

  it('rejects a bad enum value without writing anything from the batch', async () => {
    const account = randomUUID();
    const rows = [plan(account, 'ok'), plan(account, 'bad', { plan_type: 'NOT_A_TYPE' })];
    await expect(upsertRows(db.pool, 'benefit_plans', planColumns, rows, KEY)).rejects.toThrow(/plan_type/);
    const { rows: count } = await db.pool.query(
      'SELECT count(*)::int AS n FROM benefit_plans WHERE linked_account_id = $1',
      [account],
    );
    expect(count[0].n).toBe(0);
  });

  it('upserts the coverage link table, keyed by its composite primary key', async () => {
    const account = randomUUID();
    const columns = {
      linked_account_id: 'uuid',
      benefit_enrollment_id: 'uuid',
      dependent_id: 'uuid',
      remote_id: 'text',
    } as const;
    const link = {
      linked_account_id: account,
      benefit_enrollment_id: randomUUID(),
      dependent_id: randomUUID(),
      remote_id: 'L1',
    };
    const options = { conflictColumns: ['benefit_enrollment_id', 'dependent_id'], idColumn: 'dependent_id' };
    expect(
      (await upsertRows(db.pool, 'benefit_enrollment_dependents', columns, [link], options)).inserted,
    ).toEqual([link.dependent_id]);
    expect(await upsertRows(db.pool, 'benefit_enrollment_dependents', columns, [link], options)).toEqual({
      inserted: [],
      updated: [],
    });
  });

  it('returns nothing for no rows', async () => {
    expect(await upsertRows(db.pool, 'benefit_plans', planColumns, [], KEY)).toEqual({
      inserted: [],
      updated: [],
    });
  });

  it('keeps untracked columns fresh without counting them as a change of the record', async () => {
    const account = randomUUID();
    const options = { ...KEY, untrackedColumns: ['remote_data', 'remote_modified_at'] };
    const id = recordId(account, 'benefit_plans', 'P-U');
    await upsertRows(db.pool, 'benefit_plans', planColumns, [plan(account, 'P-U')], options);
    const before = await planRow(id);
    const onlyRaw = await upsertRows(
      db.pool,
      'benefit_plans',
      planColumns,
      [
        plan(account, 'P-U', {
          remote_data: { etag: 'W/"2"' },
          remote_modified_at: new Date('2026-11-20T00:00:00Z'),
        }),
      ],
      options,
    );
    expect(onlyRaw).toEqual({ inserted: [], updated: [] });
    const refreshed = await planRow(id);
    expect(refreshed.remote_data).toEqual({ etag: 'W/"2"' });
    expect(refreshed.modified_at).toEqual(before.modified_at);
    const renamed = await upsertRows(
      db.pool,
      'benefit_plans',
      planColumns,
      [plan(account, 'P-U', { name: 'Renamed', remote_data: { etag: 'W/"3"' } })],
      options,
    );
    expect(renamed).toEqual({ inserted: [], updated: [id] });
    expect((await planRow(id)).modified_at.getTime()).toBeGreaterThan(before.modified_at.getTime());
  });
});
