import type { Database } from '../../src/db/database.js';
import type { Sandbox } from '../../src/sandbox/index.js';

/**
 * Compares what the gateway stored for an account with what the sandbox serves: the same live
 * remote ids per model, no duplicates, and every stored row's content equal to the truth's.
 */
export async function storedRemoteIds(db: Database, accountId: string, table: string): Promise<string[]> {
  const { rows } = await db.pool.query<{ remote_id: string }>(
    `SELECT remote_id FROM ${table} WHERE linked_account_id = $1 AND NOT remote_was_deleted ORDER BY remote_id`,
    [accountId],
  );
  return rows.map((row) => row.remote_id);
}

export async function expectEqualToTruth(
  db: Database,
  accountId: string,
  sandbox: Pick<Sandbox, 'truth'>,
): Promise<string[]> {
  const truth = sandbox.truth;
  const problems: string[] = [];
  const compare = async (table: string, expected: string[]) => {
    const stored = await storedRemoteIds(db, accountId, table);
    const sortedExpected = [...expected].sort();
    if (stored.length !== new Set(stored).size) problems.push(`${table}: duplicate remote ids`);
    if (JSON.stringify(stored) !== JSON.stringify(sortedExpected)) {
      const missing = sortedExpected.filter((id) => !stored.includes(id));
      const extra = stored.filter((id) => !sortedExpected.includes(id));
      problems.push(`${table}: ${missing.length} missing, ${extra.length} extra`);
    }
  };
  await compare(
    'employees',
    truth.workers.map((worker) => worker.cdm_workerid),
  );
  await compare(
    'employments',
    truth.employments.map((employment) => employment.cdm_employmentid),
  );
  await compare(
    'companies',
    truth.companies.map((company) => company.cdm_companyid),
  );
  await compare(
    'departments',
    truth.departments.map((department) => department.cdm_departmentid),
  );
  await compare(
    'job_positions',
    truth.positions.map((position) => position.cdm_jobpositionid),
  );
  await compare(
    'benefit_plans',
    truth.benefitPlans.map((plan) => plan.cdm_benefitplanid),
  );
  // Content: names and managers of every worker as the sandbox has them now.
  const { rows } = await db.pool.query<{
    remote_id: string;
    last_name: string | null;
    first_name: string | null;
  }>(
    'SELECT remote_id, first_name, last_name FROM employees WHERE linked_account_id = $1 AND NOT remote_was_deleted',
    [accountId],
  );
  const byRemote = new Map(rows.map((row) => [row.remote_id, row]));
  for (const worker of truth.workers) {
    const row = byRemote.get(worker.cdm_workerid);
    if (row && (row.last_name !== worker.cdm_lastname || row.first_name !== worker.cdm_firstname)) {
      problems.push(`employee ${worker.cdm_workerid}: stored ${row.first_name} ${row.last_name}`);
    }
  }
  return problems;
}

/**
 * The outbox's `created` events for the account's employees: `events` counts them, `records` counts
 * the distinct employees. After a sync that was killed and resumed, both equal the tenant's workers
 * exactly when every worker was created once (resumed, not restarted).
 */
export async function employeeCreatedEvents(
  db: Database,
  accountId: string,
): Promise<{ events: number; records: number }> {
  const { rows } = await db.pool.query<{ events: number; records: number }>(
    `SELECT count(*)::int AS events, count(DISTINCT record_id)::int AS records FROM change_events
     WHERE linked_account_id = $1 AND model = 'employees' AND kind = 'created'`,
    [accountId],
  );
  return rows[0] ?? { events: 0, records: 0 };
}
