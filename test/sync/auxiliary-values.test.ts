import { describe, expect, it } from 'vitest';
import type { AuxiliaryValueRule, DerivationScope } from '../../src/providers/types.js';
import { auxiliaryValueDerivations } from '../../src/sync/auxiliary-values.js';
import { recordId } from '../../src/unified/record-id.js';
import { createTestDatabase } from '../helpers/database.js';
import { runDerivations, storedRows } from '../helpers/derivations.js';
import { createTestTenant, insertRecords } from '../helpers/fixtures.js';

// Copied-value rules → SQL (src/sync/auxiliary-values.ts), against the test database: values copied
// from auxiliary rows (provider_records), as-is or through a value table, scoped by the run's sources.
const db = await createTestDatabase();
const JOBS = 'test:jobs';
const TYPES = 'test:types';
const everythingRead = (...sources: string[]): DerivationScope => ({
  fullSources: new Set(sources),
  changedSources: new Set(),
  changedRecords: new Map(),
});
const FULL = everythingRead(JOBS, TYPES, 'test:positions', 'test:plans');

const positionTitles: AuxiliaryValueRule = {
  model: 'job_positions',
  auxiliary: { sourceTable: JOBS, remoteDataKey: 'jobid' },
  columns: [{ column: 'job_title', from: 'name' }],
  rerunWhen: [JOBS, 'test:positions'],
};
const planTypes: AuxiliaryValueRule = {
  model: 'benefit_plans',
  auxiliary: { sourceTable: TYPES, remoteDataKey: 'typeid' },
  columns: [
    {
      column: 'plan_type',
      from: 'name',
      through: {
        normalise: 'alphanumeric-lowercase',
        values: { dental: 'DENTAL', '401k': 'RETIREMENT' },
        default: 'OTHER',
      },
    },
    { column: 'plan_type_raw', from: 'name' },
  ],
  rerunWhen: [TYPES, 'test:plans'],
};

async function account() {
  const { account: linked } = await createTestTenant(db, `Values ${Math.random()}`);
  return linked.id;
}

async function auxiliary(accountId: string, sourceTable: string, rows: Record<string, unknown>) {
  for (const [remoteId, data] of Object.entries(rows)) {
    await db.pool.query(
      `INSERT INTO provider_records (linked_account_id, source_table, remote_id, data) VALUES ($1, $2, $3, $4)
       ON CONFLICT (linked_account_id, source_table, remote_id) DO UPDATE SET data = excluded.data`,
      [accountId, sourceTable, remoteId, JSON.stringify(data)],
    );
  }
}

/** Runs the rules in one transaction: the ids they changed. */
const derive = (accountId: string, rules: AuxiliaryValueRule[], scope = FULL) =>
  runDerivations(db, auxiliaryValueDerivations(rules), accountId, scope);

const rows = (table: string, fields: string, accountId: string) => storedRows(db, table, fields, accountId);

describe('copied-value rules → SQL', () => {
  it("copies a text value from the auxiliary row the row's remote_data names", async () => {
    const id = await account();
    await auxiliary(id, JOBS, { j1: { name: 'Nurse' }, j2: { name: 'Surgeon' } });
    // Same remote id under another source table: not the job.
    await auxiliary(id, 'test:other', { j3: { name: 'Wrong table' } });
    await insertRecords(db, id, 'job_positions', [
      { remote_id: 'p1', remote_data: { jobid: 'j1' } },
      { remote_id: 'p2', remote_data: { jobid: 'j2' }, job_title: 'stale' },
      { remote_id: 'p3', remote_data: { jobid: 'j3' }, job_title: 'stale' },
      { remote_id: 'p4', remote_data: {}, job_title: 'stale' },
    ]);
    const changed = await derive(id, [positionTitles]);
    expect(changed).toHaveLength(4);
    expect(await rows('job_positions', 'job_title', id)).toEqual([
      { remote_id: 'p1', job_title: 'Nurse' },
      { remote_id: 'p2', job_title: 'Surgeon' },
      { remote_id: 'p3', job_title: null },
      { remote_id: 'p4', job_title: null },
    ]);
  });

  it('maps through a value table, normalised, with the default for unknown text and NULL without a row', async () => {
    const id = await account();
    await auxiliary(id, TYPES, {
      t1: { name: 'Dental' },
      t2: { name: '401(k)' },
      t3: { name: 'Gym membership' },
      t4: { other: 'no name' },
    });
    await insertRecords(db, id, 'benefit_plans', [
      { remote_id: 'b1', remote_data: { typeid: 't1' } },
      { remote_id: 'b2', remote_data: { typeid: 't2' } },
      { remote_id: 'b3', remote_data: { typeid: 't3' } },
      { remote_id: 'b4', remote_data: { typeid: 't4' } },
      { remote_id: 'b5', remote_data: { typeid: 'missing' }, plan_type: 'MEDICAL', plan_type_raw: 'x' },
    ]);
    await derive(id, [planTypes]);
    expect(await rows('benefit_plans', 'plan_type::text, plan_type_raw', id)).toEqual([
      { remote_id: 'b1', plan_type: 'DENTAL', plan_type_raw: 'Dental' },
      { remote_id: 'b2', plan_type: 'RETIREMENT', plan_type_raw: '401(k)' },
      { remote_id: 'b3', plan_type: 'OTHER', plan_type_raw: 'Gym membership' },
      // An auxiliary row without the key: unmatched, so the default (as the SQL derivation did).
      { remote_id: 'b4', plan_type: 'OTHER', plan_type_raw: null },
      { remote_id: 'b5', plan_type: null, plan_type_raw: null },
    ]);
  });

  it("looks text up as it is with normalise 'none'", async () => {
    const id = await account();
    await auxiliary(id, TYPES, { t1: { name: 'Dental' }, t2: { name: 'dental' } });
    await insertRecords(db, id, 'benefit_plans', [
      { remote_id: 'b1', remote_data: { typeid: 't1' } },
      { remote_id: 'b2', remote_data: { typeid: 't2' } },
    ]);
    const exact: AuxiliaryValueRule = {
      ...planTypes,
      columns: [
        {
          column: 'plan_type',
          from: 'name',
          through: { normalise: 'none', values: { Dental: 'DENTAL' }, default: 'OTHER' },
        },
      ],
    };
    await derive(id, [exact]);
    expect(await rows('benefit_plans', 'plan_type::text', id)).toEqual([
      { remote_id: 'b1', plan_type: 'DENTAL' },
      { remote_id: 'b2', plan_type: 'OTHER' },
    ]);
  });

  it('writes only the rows whose values change, and only the rows it applies to', async () => {
    const id = await account();
    await auxiliary(id, JOBS, { j1: { name: 'Nurse' }, j2: { name: 'Surgeon' } });
    await insertRecords(db, id, 'job_positions', [
      { remote_id: 'p1', remote_data: { jobid: 'j1' } },
      { remote_id: 'p2', remote_data: { jobid: 'j2' } },
      // From another source (no jobid): its own title is left alone by a rule with appliesTo.
      { remote_id: 'p3', remote_data: { JobId: 'x' }, job_title: 'Own title' },
    ]);
    const scoped = { ...positionTitles, appliesTo: { remoteDataKey: 'jobid' } };
    expect((await derive(id, [scoped])).sort()).toEqual(
      [recordId(id, 'job_positions', 'p1'), recordId(id, 'job_positions', 'p2')].sort(),
    );
    const before = await rows('job_positions', 'job_title, modified_at', id);
    expect(before[2]?.job_title).toBe('Own title');
    expect(await derive(id, [scoped])).toEqual([]);
    expect(await rows('job_positions', 'job_title, modified_at', id)).toEqual(before);

    await auxiliary(id, JOBS, { j2: { name: 'Chief surgeon' } });
    expect(await derive(id, [scoped])).toEqual([recordId(id, 'job_positions', 'p2')]);
    const after = await rows('job_positions', 'job_title, modified_at', id);
    expect(after[0]).toEqual(before[0]);
    expect(after[1]?.job_title).toBe('Chief surgeon');
  });

  it('runs only when one of its sources was read in full or changed', async () => {
    const id = await account();
    await auxiliary(id, JOBS, { j1: { name: 'Nurse' } });
    await insertRecords(db, id, 'job_positions', [{ remote_id: 'p1', remote_data: { jobid: 'j1' } }]);
    const untouched = everythingRead(TYPES, 'test:plans');
    expect(await derive(id, [positionTitles], untouched)).toEqual([]);
    expect((await rows('job_positions', 'job_title', id))[0]?.job_title).toBeNull();
    const positionsChanged: DerivationScope = { ...untouched, changedSources: new Set(['test:positions']) };
    expect(await derive(id, [positionTitles], positionsChanged)).toEqual([
      recordId(id, 'job_positions', 'p1'),
    ]);
    expect((await rows('job_positions', 'job_title', id))[0]?.job_title).toBe('Nurse');
  });

  it('refuses a rule naming anything the model specs do not have, before any SQL', () => {
    const broken = (rule: Partial<AuxiliaryValueRule>) => () =>
      auxiliaryValueDerivations([{ ...planTypes, ...rule }]);
    const typed = (through: Partial<NonNullable<AuxiliaryValueRule['columns'][number]['through']>>) =>
      broken({
        columns: [
          {
            column: 'plan_type',
            from: 'name',
            through: { normalise: 'alphanumeric-lowercase', values: {}, default: 'OTHER', ...through },
          },
        ],
      });
    expect(broken({ columns: [{ column: 'no_such', from: 'name' }] })).toThrow(/has no text column no_such/);
    expect(broken({ columns: [{ column: 'plan_type', from: 'name' }] })).toThrow(
      /has no text column plan_type/,
    );
    expect(broken({ columns: [{ column: 'remote_id', from: 'name' }] })).toThrow(
      /has no text column remote_id/,
    );
    expect(
      broken({
        columns: [
          { column: 'name', from: 'name', through: { normalise: 'none', values: {}, default: 'OTHER' } },
        ],
      }),
    ).toThrow(/has no enum column name/);
    expect(typed({ values: { dental: 'TEETH' } })).toThrow(/'TEETH' is not a value of plan_type/);
    expect(typed({ default: 'UNKNOWN' })).toThrow(/'UNKNOWN' is not a value of plan_type/);
    expect(typed({ values: { Dental: 'DENTAL' } })).toThrow(/'Dental' is not alphanumeric-lowercase/);
    expect(typed({ values: { "x' OR true --": 'DENTAL' } })).toThrow(/is not alphanumeric-lowercase/);
    expect(broken({ columns: [{ column: 'plan_type_raw', from: "name' --" }] })).toThrow(
      /is not a data field name/,
    );
    expect(broken({ auxiliary: { sourceTable: TYPES, remoteDataKey: 'a\\b' } })).toThrow(
      /is not a remote_data field name/,
    );
    expect(broken({ appliesTo: { remoteDataKey: "a'b" } })).toThrow(/is not a remote_data field name/);
    expect(broken({ auxiliary: { sourceTable: "x'; DROP TABLE x; --", remoteDataKey: 'typeid' } })).toThrow(
      /is not a source table name/,
    );
    expect(broken({ rerunWhen: ['test:plans'] })).toThrow(/rerunWhen must include the auxiliary source/);
    expect(broken({ columns: [] })).toThrow(/no column to fill/);
    expect(
      broken({
        columns: [
          { column: 'plan_type_raw', from: 'name' },
          { column: 'plan_type_raw', from: 'other' },
        ],
      }),
    ).toThrow(/plan_type_raw is filled twice/);
    expect(() =>
      auxiliaryValueDerivations([planTypes, { ...planTypes, appliesTo: { remoteDataKey: 'typeid' } }]),
    ).toThrow(/benefit_plans\.plan_type is stated twice/);
  });
});
