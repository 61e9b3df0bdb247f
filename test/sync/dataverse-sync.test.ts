import { describe, expect, it } from 'vitest';
import { isoDate } from '../../src/providers/dynamics/dataverse/mappers.js';
import { SyncEngine } from '../../src/sync/engine.js';
import { recordId } from '../../src/unified/record-id.js';
import { createTestDatabase } from '../helpers/database.js';
import { createTestTenant } from '../helpers/fixtures.js';
import { connectSandbox, sandboxDependencies, startFileSandbox } from '../helpers/sandbox.js';

const db = await createTestDatabase();
const sandbox = await startFileSandbox({ workers: 150, seed: 11 });
const deps = sandboxDependencies(sandbox);
const tenant = await createTestTenant(db);
const accountId = tenant.account.id;
const engine = new SyncEngine(db.pool);
const connection = connectSandbox(accountId, sandbox, deps);
const truth = sandbox.truth;

const GENDER: Record<number, string> = {
  754400000: 'MALE',
  754400001: 'FEMALE',
  754400002: 'PREFER_NOT_TO_DISCLOSE',
  754400003: 'NON_BINARY',
};

async function employees() {
  const { rows } = await db.pool.query(
    'SELECT * FROM employees WHERE linked_account_id = $1 AND NOT remote_was_deleted ORDER BY remote_id',
    [accountId],
  );
  return rows;
}

describe('full sync from Dataverse', () => {
  it('stores every worker, employment, company, department and position, mapped field by field', async () => {
    const result = await engine.run({
      linkedAccountId: accountId,
      connection,
      kind: 'full',
      trigger: 'test',
    });
    expect(result.errors.map((error) => String(error.error))).toEqual([]);
    expect(result.status).toBe('succeeded');

    const stored = await employees();
    expect(stored).toHaveLength(truth.workers.length);
    const byRemote = new Map(stored.map((row) => [row.remote_id, row]));
    for (const worker of truth.workers) {
      const employee = byRemote.get(worker.cdm_workerid);
      expect(employee, worker.cdm_workerid).toBeDefined();
      expect(employee).toMatchObject({
        id: recordId(accountId, 'employees', worker.cdm_workerid),
        employee_number: worker.cdm_workernumber,
        first_name: worker.cdm_firstname,
        middle_name: worker.cdm_middlename,
        last_name: worker.cdm_lastname,
        display_full_name: worker.cdm_fullname,
        work_email: worker.cdm_primaryemailaddress,
        mobile_phone_number: worker.cdm_mobilephone,
        date_of_birth: worker.cdm_birthdate,
        gender: GENDER[worker.cdm_gender],
        gender_raw: String(worker.cdm_gender),
        employment_status: worker.cdm_status === 754400000 ? 'ACTIVE' : 'INACTIVE',
        manager_id: worker._cdm_managerworkerid_value
          ? recordId(accountId, 'employees', worker._cdm_managerworkerid_value)
          : null,
      });
    }

    const { rows: employments } = await db.pool.query(
      'SELECT remote_id, employee_id, start_date, end_date FROM employments WHERE linked_account_id = $1',
      [accountId],
    );
    expect(employments).toHaveLength(truth.employments.length);
    const employmentByRemote = new Map(employments.map((row) => [row.remote_id, row]));
    for (const employment of truth.employments) {
      expect(employmentByRemote.get(employment.cdm_employmentid)).toEqual({
        remote_id: employment.cdm_employmentid,
        employee_id: recordId(accountId, 'employees', employment._cdm_workerid_value),
        start_date: isoDate(employment.cdm_employmentstartdate),
        end_date: isoDate(employment.cdm_employmentenddate),
      });
    }
    const counts = await db.pool.query(
      `SELECT (SELECT count(*) FROM companies WHERE linked_account_id = $1)::int AS companies,
              (SELECT count(*) FROM departments WHERE linked_account_id = $1)::int AS departments,
              (SELECT count(*) FROM job_positions WHERE linked_account_id = $1)::int AS positions,
              (SELECT count(*) FROM benefit_plans WHERE linked_account_id = $1)::int AS plans`,
      [accountId],
    );
    expect(counts.rows[0]).toEqual({
      companies: truth.companies.length,
      departments: truth.departments.length,
      positions: truth.positions.length,
      plans: truth.benefitPlans.length,
    });
  });

  it("derives each employee's current position, department and title from assignments", async () => {
    const now = Date.now();
    const current = new Map<string, string>();
    for (const assignment of truth.assignments) {
      if (Date.parse(assignment.cdm_validfrom) <= now && Date.parse(assignment.cdm_validto) > now) {
        current.set(assignment._cdm_workerid_value, assignment._cdm_jobpositionid_value);
      }
    }
    const positions = new Map(truth.positions.map((position) => [position.cdm_jobpositionid, position]));
    const jobs = new Map(truth.jobs.map((job) => [job.cdm_jobid, job]));
    const stored = await employees();
    let checked = 0;
    for (const employee of stored) {
      const positionRemoteId = current.get(employee.remote_id);
      if (!positionRemoteId) {
        expect(employee.position_id).toBeNull();
        continue;
      }
      const position = positions.get(positionRemoteId)!;
      expect(employee.position_id).toBe(recordId(accountId, 'job_positions', positionRemoteId));
      expect(employee.department_id).toBe(
        recordId(accountId, 'departments', position._cdm_departmentid_value),
      );
      expect(employee.job_title).toBe(jobs.get(position._cdm_jobid_value)?.cdm_name);
      checked++;
    }
    expect(checked).toBeGreaterThan(stored.length / 2);
  });

  it('records sources and a change event per created record', async () => {
    const { rows: states } = await db.pool.query(
      'SELECT model, source FROM sync_states WHERE linked_account_id = $1 ORDER BY model',
      [accountId],
    );
    expect(states).toContainEqual({ model: 'employees', source: 'dataverse:cdm_workers' });
    expect(states).toContainEqual({ model: 'dependents', source: 'unavailable' });
    const events = await db.pool.query(
      "SELECT count(*)::int AS n FROM change_events WHERE linked_account_id = $1 AND model = 'employees' AND kind = 'created'",
      [accountId],
    );
    expect(events.rows[0].n).toBe(truth.workers.length);
  });
});

describe('incremental sync', () => {
  it('applies creates, updates and deletes exactly, and touches nothing else', async () => {
    const before = new Map((await employees()).map((row) => [row.remote_id, row.modified_at.getTime()]));
    const created = sandbox.controls.createRecords('cdm_workers', 3);
    const updated = sandbox.controls.updateRecords(
      'cdm_workers',
      { count: 4 },
      { cdm_lastname: 'Renamed-Ø' },
    );
    const deleted = sandbox.controls.deleteRecords('cdm_workers', { count: 2 });
    const result = await engine.run({
      linkedAccountId: accountId,
      connection,
      kind: 'incremental',
      trigger: 'test',
    });
    expect(result.status).toBe('succeeded');
    expect(result.stats.employees).toMatchObject({ created: 3, deleted: 2 });

    const { rows: all } = await db.pool.query('SELECT * FROM employees WHERE linked_account_id = $1', [
      accountId,
    ]);
    const byRemote = new Map(all.map((row) => [row.remote_id, row]));
    for (const id of created) expect(byRemote.get(id)?.remote_was_deleted).toBe(false);
    for (const id of deleted) expect(byRemote.get(id)).toMatchObject({ remote_was_deleted: true });
    for (const id of updated.filter((id) => !deleted.includes(id))) {
      expect(byRemote.get(id)?.last_name).toBe('Renamed-Ø');
    }
    const changed = new Set([...created, ...updated, ...deleted]);
    for (const [remoteId, modifiedAt] of before) {
      if (!changed.has(remoteId))
        expect(byRemote.get(remoteId)?.modified_at.getTime(), remoteId).toBe(modifiedAt);
    }
  });

  it('moves an employee to another position when their assignment changes', async () => {
    const now = Date.now();
    const assignment = truth.assignments.find(
      (row) => Date.parse(row.cdm_validfrom) <= now && Date.parse(row.cdm_validto) > now,
    )!;
    const otherPosition = truth.positions.find(
      (position) => position.cdm_jobpositionid !== assignment._cdm_jobpositionid_value,
    )!;
    sandbox.controls.updateRecords(
      'cdm_positionworkerassignmentmaps',
      { ids: [assignment.cdm_positionworkerassignmentmapid] },
      { _cdm_jobpositionid_value: otherPosition.cdm_jobpositionid },
    );
    const result = await engine.run({
      linkedAccountId: accountId,
      connection,
      kind: 'incremental',
      trigger: 'test',
    });
    expect(result.status).toBe('succeeded');
    const { rows } = await db.pool.query('SELECT position_id, department_id FROM employees WHERE id = $1', [
      recordId(accountId, 'employees', assignment._cdm_workerid_value),
    ]);
    expect(rows[0]).toEqual({
      position_id: recordId(accountId, 'job_positions', otherPosition.cdm_jobpositionid),
      department_id: recordId(accountId, 'departments', otherPosition._cdm_departmentid_value),
    });
  });

  it('counts and reports an invalid source row with its key, and stores the rest', async () => {
    const [broken] = sandbox.controls.updateRecords(
      'cdm_workers',
      { count: 1 },
      { cdm_gender: 'not-a-code' },
    );
    const result = await engine.run({
      linkedAccountId: accountId,
      connection,
      kind: 'incremental',
      trigger: 'test',
    });
    expect(result.stats.employees?.invalid).toBe(1);
    expect(result.stats.employees?.invalidRows).toEqual([
      { key: broken, reason: expect.stringContaining('cdm_gender') },
    ]);
    const run = await db.pool.query('SELECT stats FROM sync_runs WHERE id = $1', [result.runId]);
    expect(run.rows[0].stats.employees.invalidRows[0].key).toBe(broken);
    // Fixed at the source, the row syncs again.
    sandbox.controls.updateRecords('cdm_workers', { ids: [broken!] }, { cdm_gender: 754400001 });
    const healed = await engine.run({
      linkedAccountId: accountId,
      connection,
      kind: 'incremental',
      trigger: 'test',
    });
    expect(healed.stats.employees?.invalid).toBe(0);
  });

  it('is a no-op when nothing changed', async () => {
    const result = await engine.run({
      linkedAccountId: accountId,
      connection,
      kind: 'incremental',
      trigger: 'test',
    });
    expect(result.status).toBe('succeeded');
    expect(result.stats.employees).toMatchObject({ created: 0, updated: 0, deleted: 0 });
  });

  it('resyncs in full and reconciles when the delta token expired', async () => {
    const fullLoadStarted = async () =>
      (
        await db.pool.query(
          "SELECT full_load_started_at FROM sync_cursors WHERE linked_account_id = $1 AND source_table = 'dataverse:cdm_workers'",
          [accountId],
        )
      ).rows[0].full_load_started_at.getTime();
    const firstFullLoad = await fullLoadStarted();
    sandbox.controls.expireDeltaTokens();
    const deleted = sandbox.controls.deleteRecords('cdm_workers', { count: 1 });
    const result = await engine.run({
      linkedAccountId: accountId,
      connection,
      kind: 'incremental',
      trigger: 'test',
    });
    sandbox.controls.restoreDeltaTokens();
    expect(result.status).toBe('succeeded');
    expect(await fullLoadStarted()).toBeGreaterThan(firstFullLoad);
    const live = await employees();
    expect(live.map((row) => row.remote_id).sort()).toEqual(
      truth.workers.map((worker) => worker.cdm_workerid).sort(),
    );
    expect(live.some((row) => deleted.includes(row.remote_id))).toBe(false);
  });
});
