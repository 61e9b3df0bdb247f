import { describe, expect, it } from 'vitest';
import { DynamicsConnection } from '../../src/providers/dynamics/connection.js';
import type { DynamicsCredentials } from '../../src/providers/dynamics/credentials.js';
import { diagnose } from '../../src/providers/dynamics/diagnose.js';
import { SyncEngine } from '../../src/sync/engine.js';
import { recordId } from '../../src/unified/record-id.js';
import { createTestDatabase } from '../helpers/database.js';
import { createTestTenant } from '../helpers/fixtures.js';
import { sandboxCredentials, sandboxDependencies, startFileSandbox } from '../helpers/sandbox.js';

const db = await createTestDatabase();
const sandbox = await startFileSandbox({ workers: 120, seed: 5, dmfExportDurationMs: 300 });
const deps = sandboxDependencies(sandbox, { pageSize: 500 });
const engine = new SyncEngine(db.pool);
const tenant = sandbox.defaultTenant;
const truth = tenant.truth;

async function account(overrides: Partial<DynamicsCredentials> = {}, name = 'Co') {
  const { account } = await createTestTenant(db, `${name} ${Math.random()}`);
  const credentials: DynamicsCredentials = { ...sandboxCredentials(tenant, 'secret', true), ...overrides };
  const connection = new DynamicsConnection(account.id, credentials, deps);
  const sync = () => engine.run({ linkedAccountId: account.id, connection, kind: 'full', trigger: 'test' });
  return { id: account.id, connection, sync };
}

const DEPENDENT_COLUMNS = `remote_id, employee_id, first_name, middle_name, last_name, relationship, relationship_raw,
  date_of_birth::text, gender, gender_raw, is_student, is_disabled, is_court_ordered, is_domestic_partner_verified,
  is_beneficiary, is_emergency_contact, remote_was_deleted`;
const ENROLLMENT_COLUMNS = `remote_id, employee_id, benefit_plan_id, status, status_raw, coverage_level, coverage_level_raw,
  start_date::text, end_date::text, employee_contribution_amount_minor::int, company_contribution_amount_minor::int, remote_was_deleted`;

async function rows(accountId: string, table: string, columns: string) {
  const { rows } = await db.pool.query(
    `SELECT ${columns} FROM ${table} WHERE linked_account_id = $1 ORDER BY remote_id`,
    [accountId],
  );
  return rows;
}

async function coverage(accountId: string) {
  const { rows } = await db.pool.query<{ enrollment: string; dependent: string }>(
    `SELECT e.remote_id AS enrollment, d.remote_id AS dependent
     FROM benefit_enrollment_dependents c
     JOIN benefit_enrollments e ON e.id = c.benefit_enrollment_id
     JOIN dependents d ON d.id = c.dependent_id
     WHERE c.linked_account_id = $1 ORDER BY 1, 2`,
    [accountId],
  );
  return rows.map((row) => `${row.enrollment}>${row.dependent}`);
}

async function sources(accountId: string) {
  const { rows } = await db.pool.query<{
    model: string;
    source: string;
    source_reason: string;
    last_error: string | null;
  }>('SELECT model, source, source_reason, last_error FROM sync_states WHERE linked_account_id = $1', [
    accountId,
  ]);
  return new Map(rows.map((row) => [row.model, row]));
}

// F&O's empty date (1900-01-01) and "never" (2154-12-31) are no date.
const date = (value: string) => {
  const day = value.slice(0, 10);
  return day <= '1900-01-01' || day >= '2154-01-01' ? null : day;
};

/** What the truth says the unified rows must be (expected values computed independently). */
function expectedDependents(accountId: string) {
  const employees = new Map(truth.workers.map((w) => [w.cdm_workernumber, w.cdm_workerid]));
  const relationship: Record<string, string> = {
    Spouse: 'SPOUSE',
    DomesticPartner: 'DOMESTIC_PARTNER',
    Child: 'CHILD',
  };
  const gender: Record<string, string | null> = {
    Male: 'MALE',
    Female: 'FEMALE',
    NonSpecific: 'NON_BINARY',
    None: 'PREFER_NOT_TO_DISCLOSE',
  };
  const yes = (v: string) => v === 'Yes';
  return truth.dependents
    .filter((c) => c.IsDependent === 'Yes')
    .map((c) => {
      const worker = employees.get(c.WorkerPersonnelNumber);
      return {
        remote_id: `${c.WorkerPersonnelNumber}:${c.ContactPersonPartyNumber}`,
        employee_id: worker ? recordId(accountId, 'employees', worker) : null,
        first_name: c.ContactFirstName || null,
        middle_name: c.ContactMiddleName || null,
        last_name: c.ContactLastName || null,
        relationship: relationship[c.RelationshipType],
        relationship_raw: c.RelationshipType,
        date_of_birth: date(c.BirthDate),
        gender: gender[c.Gender],
        gender_raw: c.Gender,
        is_student: yes(c.IsFulltimeStudent),
        is_disabled: yes(c.IsDisabled),
        is_court_ordered: yes(c.IsDependentCourtOrdered),
        is_domestic_partner_verified: yes(c.IsDependentDomesticPartnerVerified),
        is_beneficiary: yes(c.IsBeneficiary),
        is_emergency_contact: yes(c.IsEmergencyContact),
        remote_was_deleted: false,
      };
    })
    .sort((a, b) => (a.remote_id < b.remote_id ? -1 : 1));
}

function expectedEnrollments(accountId: string) {
  const employees = new Map(truth.workers.map((w) => [w.cdm_workernumber, w.cdm_workerid]));
  // A plan's id in Human Resources is its cdm_name (fno/joins.ts).
  const plans = new Map(truth.benefitPlans.map((p) => [p.cdm_name, p.cdm_benefitplanid]));
  const level: Record<string, string> = {
    EE: 'EMPLOYEE_ONLY',
    'EE+SP': 'EMPLOYEE_SPOUSE',
    'EE+CH': 'EMPLOYEE_CHILDREN',
    'EE+FAM': 'EMPLOYEE_FAMILY',
  };
  const today = new Date().toISOString().slice(0, 10);
  return truth.enrollments
    .map((e) => {
      const worker = employees.get(e.PersonnelNumber);
      const plan = plans.get(e.BenefitPlanID);
      const end = date(e.ValidTo);
      return {
        // No record id is published: worker, benefit and coverage start (fno/mappers.ts).
        remote_id: `${e.PersonnelNumber}:${e.BenefitId}:${e.ValidFrom.slice(0, 10)}`,
        employee_id: worker ? recordId(accountId, 'employees', worker) : null,
        benefit_plan_id: plan ? recordId(accountId, 'benefit_plans', plan) : null,
        status: end && end < today ? 'TERMINATED' : 'ACTIVE',
        status_raw: null,
        coverage_level: level[e.BenefitOptionID] ?? 'OTHER',
        coverage_level_raw: e.BenefitOptionID,
        start_date: date(e.ValidFrom),
        end_date: end,
        employee_contribution_amount_minor: Math.round(e.DeductionAmountCur * 100),
        company_contribution_amount_minor: Math.round(e.ContributionAmountCur * 100),
        remote_was_deleted: false,
      };
    })
    .sort((a, b) => (a.remote_id < b.remote_id ? -1 : 1));
}

function expectedCoverage() {
  const enrollments = new Set(
    truth.enrollments.map((e) => `${e.PersonnelNumber}:${e.BenefitId}:${e.ValidFrom.slice(0, 10)}`),
  );
  const dependents = new Set(
    truth.dependents
      .filter((c) => c.IsDependent === 'Yes')
      .map((c) => `${c.WorkerPersonnelNumber}:${c.ContactPersonPartyNumber}`),
  );
  const links = new Set<string>();
  for (const link of truth.coveredDependents) {
    const enrollment = `${link.PersonnelNumber}:${link.BenefitId}:${link.EnrollmentStart.slice(0, 10)}`;
    const dependent = `${link.PersonnelNumber}:${link.ChildPartyId}`;
    if (enrollments.has(enrollment) && dependents.has(dependent)) links.add(`${enrollment}>${dependent}`);
  }
  return [...links].sort();
}

const odata = await account({}, 'OData');
const dmf = await account({ sources: { dependents: 'dmf', benefit_enrollments: 'dmf' } }, 'DMF');
const dmfUtf8 = await account(
  {
    sources: { dependents: 'dmf', benefit_enrollments: 'dmf' },
    dmf: { definitionGroup: 'HR export UTF8', legalEntityId: '', timeoutSeconds: 60 },
  },
  'DMF UTF8',
);

describe('F&O fallback: dependents, enrollments and coverage', () => {
  it('via F&O OData equals the sandbox truth, with the routing shown in sync status', async () => {
    const result = await odata.sync();
    expect(result.errors.map((e) => `${e.sourceTable}: ${String(e.error)}`)).toEqual([]);
    expect(await rows(odata.id, 'dependents', DEPENDENT_COLUMNS)).toEqual(expectedDependents(odata.id));
    expect(await rows(odata.id, 'benefit_enrollments', ENROLLMENT_COLUMNS)).toEqual(
      expectedEnrollments(odata.id),
    );
    const links = await coverage(odata.id);
    expect(links.length).toBeGreaterThan(50);
    expect(links).toEqual(expectedCoverage());
    const states = await sources(odata.id);
    expect(states.get('dependents')).toMatchObject({
      source: 'fno-odata:WorkerPersonalContactPersons',
      last_error: null,
    });
    expect(states.get('dependents')?.source_reason).toMatch(
      /no table for dependents.*Served by F&O OData entity WorkerPersonalContactPersons/,
    );
    expect(states.get('benefit_enrollments')?.source).toBe('fno-odata:WorkerEnrolledBenefits');
    expect(states.get('employees')?.source).toBe('dataverse:cdm_workers');
    expect(result.stats.dependents?.unresolved).toBeUndefined();
  });

  it('via DMF packages (CSV-Unicode and CSV UTF-8) gives the same rows as OData', async () => {
    for (const target of [dmf, dmfUtf8]) {
      const result = await target.sync();
      expect(result.errors.map((e) => `${e.sourceTable}: ${String(e.error)}`)).toEqual([]);
      expect(await rows(target.id, 'dependents', DEPENDENT_COLUMNS)).toEqual(expectedDependents(target.id));
      expect(await rows(target.id, 'benefit_enrollments', ENROLLMENT_COLUMNS)).toEqual(
        expectedEnrollments(target.id),
      );
      expect(await coverage(target.id)).toEqual(expectedCoverage());
    }
    expect((await sources(dmf.id)).get('dependents')).toMatchObject({
      source: 'dmf:HR export',
      last_error: null,
    });
    expect((await sources(dmfUtf8.id)).get('benefit_enrollments')?.source).toBe('dmf:HR export UTF8');
    // The same remote data whichever path read it (numbers typed, headers in the entity's casing).
    const remote = async (id: string) =>
      (
        await db.pool.query(
          'SELECT remote_id, remote_data FROM benefit_enrollments WHERE linked_account_id = $1 ORDER BY remote_id LIMIT 5',
          [id],
        )
      ).rows;
    const fromOData = (await remote(odata.id)).map((row) => row.remote_data);
    const fromDmf = (await remote(dmf.id)).map((row) => row.remote_data);
    expect(fromDmf).toEqual(fromOData);
  });

  it('an initial DMF load after the Dataverse side stores each row once, its references resolved as it goes in', async () => {
    const { account: linked } = await createTestTenant(db, `Resolve ${Math.random()}`);
    const connect = (sources: DynamicsCredentials['sources']) =>
      new DynamicsConnection(linked.id, { ...sandboxCredentials(tenant, 'secret', true), sources }, deps);
    const dataverseOnly = await engine.run({
      linkedAccountId: linked.id,
      connection: connect({ dependents: 'dataverse', benefit_enrollments: 'dataverse' }),
      kind: 'full',
      trigger: 'test',
    });
    expect(dataverseOnly.status).toBe('succeeded');
    const result = await engine.run({
      linkedAccountId: linked.id,
      connection: connect({ dependents: 'dmf', benefit_enrollments: 'dmf' }),
      kind: 'incremental',
      trigger: 'test',
    });
    expect(result.status).toBe('succeeded');
    expect(await rows(linked.id, 'dependents', DEPENDENT_COLUMNS)).toEqual(expectedDependents(linked.id));
    expect(await rows(linked.id, 'benefit_enrollments', ENROLLMENT_COLUMNS)).toEqual(
      expectedEnrollments(linked.id),
    );
    // Employees and plans were stored first, so the derivations found no reference left to write:
    // no row was rewritten (nor reported updated) after its insert.
    const stored = async (table: string) =>
      (await db.pool.query(`SELECT id FROM ${table} WHERE linked_account_id = $1`, [linked.id])).rows.length;
    expect(result.stats.dependents).toMatchObject({ created: await stored('dependents'), updated: 0 });
    const enrollments = result.stats.benefit_enrollments;
    expect(enrollments?.created).toBe(await stored('benefit_enrollments'));
    // Coverage links (a table of their own, from another data file) went in with each enrollment
    // page, their dependents and link rows having been stored first: no enrollment was rewritten.
    expect(enrollments?.updated).toBe(0);
    expect(await coverage(linked.id)).toEqual(expectedCoverage());
  });

  it('a repeated snapshot changes nothing; changed and removed F&O rows are updated and deleted', async () => {
    const again = await dmf.sync();
    expect(again.status).toBe('succeeded');
    for (const model of ['dependents', 'benefit_enrollments'] as const) {
      expect(again.stats[model], model).toMatchObject({ created: 0, updated: 0, deleted: 0 });
    }
    tenant.controls.updateFnoRecords(
      'WorkerPersonalContactPersons',
      { count: 3 },
      { ContactLastName: 'Renamed, "Q" Ünal' },
    );
    tenant.controls.deleteFnoRecords('CoveredDependentRelationships', { count: 4 });
    const after = await dmf.sync();
    expect(after.status).toBe('succeeded');
    expect(await rows(dmf.id, 'dependents', DEPENDENT_COLUMNS)).toEqual(expectedDependents(dmf.id));
    expect(await coverage(dmf.id)).toEqual(expectedCoverage());
    expect(after.stats.benefit_enrollments?.updated).toBeGreaterThan(0);
  });

  it('failed, partially succeeded and timed-out exports fail the run with the reason and delete nothing', async () => {
    const before = {
      dependents: await rows(dmf.id, 'dependents', DEPENDENT_COLUMNS),
      enrollments: await rows(dmf.id, 'benefit_enrollments', ENROLLMENT_COLUMNS),
      coverage: await coverage(dmf.id),
    };
    tenant.controls.deleteFnoRecords('WorkerPersonalContactPersons', { count: 5 });
    tenant.controls.deleteFnoRecords('WorkerEnrolledBenefits', { count: 5 });
    try {
      for (const outcome of ['PartiallySucceeded', 'Failed'] as const) {
        tenant.controls.setDmfExportBehaviour({ outcome });
        const result = await dmf.sync();
        expect(result.status).toBe('failed');
        const messages = result.errors.map((e) => String(e.error));
        expect(messages.some((m) => m.includes(`ended ${outcome}`) && m.includes('F&O reported:'))).toBe(
          true,
        );
        if (outcome === 'Failed') expect(messages.join()).toContain('staging table could not be populated');
        else expect(messages.join()).toContain('was skipped');
        const states = await sources(dmf.id);
        expect(states.get('dependents')?.last_error).toContain(outcome);
      }
      tenant.controls.setDmfExportBehaviour({ outcome: 'Succeeded', durationMs: 5000 });
      const slow = await account(
        {
          sources: { dependents: 'dmf' },
          dmf: { definitionGroup: 'HR export', legalEntityId: '', timeoutSeconds: 0.5 },
        },
        'Slow',
      );
      const timedOut = await slow.sync();
      expect(timedOut.status).toBe('failed');
      expect(String(timedOut.errors[0]?.error)).toMatch(/still Executing after/);
      expect(await rows(dmf.id, 'dependents', DEPENDENT_COLUMNS)).toEqual(before.dependents);
      expect(await rows(dmf.id, 'benefit_enrollments', ENROLLMENT_COLUMNS)).toEqual(before.enrollments);
      expect(await coverage(dmf.id)).toEqual(before.coverage);
    } finally {
      tenant.controls.setDmfExportBehaviour({ outcome: 'Succeeded', durationMs: 300 });
    }
    // Once an export succeeds again, the deletions arrive.
    const recovered = await dmf.sync();
    expect(recovered.status).toBe('succeeded');
    expect(recovered.stats.dependents?.deleted).toBeGreaterThan(0);
    const live = (await rows(dmf.id, 'dependents', DEPENDENT_COLUMNS)).filter(
      (row) => !row.remote_was_deleted,
    );
    expect(live).toEqual(expectedDependents(dmf.id));
  });

  it('reports enrollments whose worker is unknown instead of dropping them', async () => {
    tenant.controls.updateFnoRecords(
      'WorkerEnrolledBenefits',
      { count: 2 },
      { PersonnelNumber: 'NO-SUCH-WORKER' },
    );
    const result = await odata.sync();
    expect(result.status).toBe('succeeded');
    expect(result.stats.benefit_enrollments?.unresolved).toBe(2);
    expect(result.stats.benefit_enrollments?.unresolvedRows?.[0]?.reason).toMatch(/worker NO-SUCH-WORKER/);
    const { rows: stored } = await db.pool.query(
      `SELECT count(*)::int AS n FROM benefit_enrollments WHERE linked_account_id = $1 AND employee_id IS NULL AND NOT remote_was_deleted`,
      [odata.id],
    );
    expect(stored[0].n).toBe(2);
  });

  it('a Dataverse table removed in the sandbox makes the model fall back to F&O on the next sync', async () => {
    const fallback = await account({}, 'Fallback');
    expect((await fallback.sync()).status).toBe('succeeded');
    expect((await sources(fallback.id)).get('employees')?.source).toBe('dataverse:cdm_workers');
    tenant.controls.removeTable('cdm_worker');
    try {
      const result = await fallback.sync();
      expect(result.errors.map((e) => String(e.error))).toEqual([]);
      const state = (await sources(fallback.id)).get('employees');
      expect(state?.source).toBe('fno-odata:Workers');
      expect(state?.source_reason).toMatch(
        /cdm_worker table does not exist.*Served by F&O OData entity Workers/,
      );
      const { rows: employees } = await db.pool.query(
        `SELECT employee_number FROM employees WHERE linked_account_id = $1 AND NOT remote_was_deleted ORDER BY 1`,
        [fallback.id],
      );
      expect(employees.map((row) => row.employee_number)).toEqual(
        truth.fnoWorkers.map((worker) => worker.PersonnelNumber).sort(),
      );
    } finally {
      tenant.controls.restoreTable('cdm_worker');
    }
  });
});

describe('F&O faults', () => {
  it('OData throttling and cut-short responses, and a DMF download reset mid-way, are retried to the same result', async () => {
    const odataFaults = await account({}, 'OData faults');
    const dmfFaults = await account(
      { sources: { dependents: 'dmf', benefit_enrollments: 'dmf' } },
      'DMF faults',
    );
    sandbox.faults.add({
      route: 'fno',
      method: 'GET',
      pathContains: 'WorkerPersonalContactPersons',
      kind: 'throttle',
      count: 2,
      retryAfterSeconds: 0,
    });
    sandbox.faults.add({
      route: 'fno',
      method: 'GET',
      pathContains: 'WorkerEnrolledBenefits',
      kind: 'truncate',
      count: 1,
    });
    sandbox.faults.add({ route: 'package', kind: 'reset', count: 1 });
    try {
      const viaOData = await odataFaults.sync();
      expect(viaOData.errors.map((e) => String(e.error))).toEqual([]);
      const viaDmf = await dmfFaults.sync();
      expect(viaDmf.errors.map((e) => String(e.error))).toEqual([]);
    } finally {
      sandbox.faults.clear();
    }
    for (const target of [odataFaults, dmfFaults]) {
      const live = (await rows(target.id, 'dependents', DEPENDENT_COLUMNS)).filter(
        (row) => !row.remote_was_deleted,
      );
      expect(live).toEqual(expectedDependents(target.id));
      expect(await coverage(target.id)).toEqual(expectedCoverage());
    }
  });
});

describe('F&O failures in a sync', () => {
  it('a missing DMF data project fails the model with the reason and keeps Dataverse models syncing', async () => {
    const missing = await account(
      {
        sources: { dependents: 'dmf' },
        dmf: { definitionGroup: 'No such project', legalEntityId: '', timeoutSeconds: 60 },
      },
      'Missing project',
    );
    const result = await missing.sync();
    expect(result.status).toBe('failed');
    const states = await sources(missing.id);
    expect(states.get('dependents')?.last_error).toMatch(/Data project 'No such project' was not found/);
    expect(states.get('employees')?.last_error).toBeNull();
    expect(diagnose(result.errors[0]?.error).reason).toMatch(/no such DMF data project/);
  });

  it('an account without an F&O URL says so in sync status', async () => {
    const { account: plain } = await createTestTenant(db, `No F&O ${Math.random()}`);
    const connection = new DynamicsConnection(plain.id, sandboxCredentials(tenant, 'secret', false), deps);
    await engine.run({ linkedAccountId: plain.id, connection, kind: 'full', trigger: 'test' });
    const state = (await sources(plain.id)).get('dependents');
    expect(state?.source).toBe('unavailable');
    expect(state?.source_reason).toMatch(/no F&O environment URL/);
  });

  it('an initial load links enrollments as their link rows arrive, and drops links to dependents it never stored', async () => {
    // Covered-dependent rows whose personal contact is gone: their links are inserted with the
    // link rows (both ends' ids derive from remote ids), then removed after the streams.
    const removedContacts = tenant.controls.deleteFnoRecords('WorkerPersonalContactPersons', { count: 6 });
    expect(removedContacts).toHaveLength(6);
    const { account: fresh } = await createTestTenant(db, `Prune ${Math.random()}`);
    const result = await engine.run({
      linkedAccountId: fresh.id,
      connection: new DynamicsConnection(
        fresh.id,
        {
          ...sandboxCredentials(tenant, 'secret', true),
          sources: { dependents: 'dmf', benefit_enrollments: 'dmf' },
        },
        deps,
      ),
      kind: 'full',
      trigger: 'test',
    });
    expect(result.status).toBe('succeeded');
    expect(await coverage(fresh.id)).toEqual(expectedCoverage());
    const { rows: dangling } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM benefit_enrollment_dependents c
       LEFT JOIN dependents d ON d.id = c.dependent_id AND NOT d.remote_was_deleted
       LEFT JOIN benefit_enrollments e ON e.id = c.benefit_enrollment_id
       WHERE c.linked_account_id = $1 AND (d.id IS NULL OR e.id IS NULL)`,
      [fresh.id],
    );
    expect(dangling[0]?.n).toBe(0);
  });
});
