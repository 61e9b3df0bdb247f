import type { Derivation, InvalidRow } from '../../types.js';

type Client = Parameters<Derivation['run']>[0];

/** How many unresolved rows are listed with their keys (all are counted). */
const LISTED = 20;

async function unresolvedRows(
  client: Client,
  sql: string,
  params: unknown[],
  reason: (row: Record<string, string | null>) => string,
): Promise<{ count: number; first: InvalidRow[] }> {
  const { rows } = await client.query<Record<string, string | null> & { remote_id: string; total: number }>(
    `SELECT *, count(*) OVER ()::int AS total FROM (${sql}) u ORDER BY remote_id LIMIT ${LISTED}`,
    params,
  );
  return {
    count: rows[0]?.total ?? 0,
    first: rows.map((row): InvalidRow => ({ key: row.remote_id, reason: reason(row) })),
  };
}

/**
 * References F&O rows make by business key, resolved in SQL after the streams are stored:
 * - workers by personnel number (F&O `WorkerPersonnelNumber` / `PersonnelNumber` = Dataverse
 *   `cdm_workernumber` = employees.employee_number), for dependents and enrollments;
 * - plans by plan id (F&O `BenefitPlanID` = Dataverse `cdm_benefitplan.cdm_name` = F&O plan `Plan`);
 * - coverage links from the covered-dependent rows kept in provider_records: the enrollment is
 *   `{PersonnelNumber}:{BenefitId}:{EnrollmentStart}`, the dependent `{PersonnelNumber}:{ChildPartyId}`;
 * - positions' departments by operating unit number, and employees' position, department, title,
 *   company and dates from the position's worker assignment and the employments.
 * Rebuilding links here rather than in the stream keeps memory bounded (no map of 300k links) and
 * the result exact whatever page each row arrived on. Statements write only rows whose value
 * differs, so modified_at moves on real change only, and return the ids they changed.
 * References that stay unresolved are reported (unresolved()), never dropped silently.
 */

async function ids(client: Client, sql: string, params: unknown[]): Promise<string[]> {
  const { rows } = await client.query<{ id: string }>(sql, params);
  return rows.map((row) => row.id);
}

/**
 * Runs a whole-account statement with nested loops off. Its joins go through jsonb expressions
 * (remote_data->>'...'), whose selectivity Postgres can only guess; it then picks nested loops
 * (rows × rows: seconds for a few thousand rows, hours at 300k). Hash joins are right for a
 * rebuild over every row of the account. SET LOCAL lasts until the transaction ends, so it is
 * switched back on right after.
 */
async function hashJoinedIds(client: Client, sql: string, params: unknown[]): Promise<string[]> {
  await client.query('SET LOCAL enable_nestloop = off');
  try {
    return await ids(client, sql, params);
  } finally {
    await client.query('SET LOCAL enable_nestloop = on');
  }
}

// Rows that came from F&O carry the worker's personnel number in remote_data (dependents) or the
// benefit id (enrollments).
const FROM_FNO = `remote_data ? 'WorkerPersonnelNumber'`;
const ENROLLMENT_FROM_FNO = `remote_data ? 'BenefitId'`;

/**
 * The employee of an incoming row `r` by its personnel number, as EMPLOYEES_BY_NUMBER picks it (a
 * live employee first, then the most recently modified): a lookup on employees' (account, number)
 * index, for resolveOnInsert.
 */
const employeeOf = (personnelNumber: string) => `SELECT e.id FROM employees e
  WHERE e.linked_account_id = $1 AND e.employee_number = ${personnelNumber}
  ORDER BY e.remote_was_deleted, e.modified_at DESC LIMIT 1`;

function employeeLink(model: 'dependents'): Derivation {
  return {
    model,
    description: `${model.replace('_', ' ')}' employee, by personnel number`,
    resolveOnInsert: { employee_id: employeeOf(`r.remote_data->>'WorkerPersonnelNumber'`) },
    run: (client, accountId) =>
      hashJoinedIds(
        client,
        `WITH employee AS (
           SELECT DISTINCT ON (employee_number) employee_number, id
           FROM employees WHERE linked_account_id = $1 AND employee_number IS NOT NULL
           ORDER BY employee_number, remote_was_deleted, modified_at DESC
         ), target AS (
           SELECT r.id, e.id AS employee_id
           FROM ${model} r LEFT JOIN employee e ON e.employee_number = r.remote_data->>'WorkerPersonnelNumber'
           WHERE r.linked_account_id = $1 AND r.${FROM_FNO})
         UPDATE ${model} r SET employee_id = t.employee_id, modified_at = now()
         FROM target t
         WHERE r.id = t.id AND r.employee_id IS DISTINCT FROM t.employee_id
         RETURNING r.id`,
        [accountId],
      ),
    unresolved: (client, accountId) =>
      unresolvedRows(
        client,
        `SELECT remote_id, remote_data->>'WorkerPersonnelNumber' AS worker FROM ${model}
         WHERE linked_account_id = $1 AND ${FROM_FNO} AND employee_id IS NULL AND NOT remote_was_deleted`,
        [accountId],
        (row) =>
          `worker ${row.worker} (personnel number) is not among the employees synced from Dataverse; stored without employee_id`,
      ),
  };
}

const EMPLOYEES_BY_NUMBER = `SELECT DISTINCT ON (employee_number) employee_number, id
  FROM employees WHERE linked_account_id = $1 AND employee_number IS NOT NULL
  ORDER BY employee_number, remote_was_deleted, modified_at DESC`;

/**
 * An enrollment's employee (by personnel number) and plan (by plan id), in one
 * statement so each enrollment row is rewritten at most once. A plan's id in Human Resources is the
 * cdm_name of its cdm_benefitplan row (as benefit types' and options' ids are their cdm_name in the
 * dual-write mappings, docs/microsoft-wire.md), or `Plan` when plans come from F&O; neither has a
 * published company, so plans match by id alone, a live plan winning over a deleted one.
 * Plain hash joins: a correlated lookup per enrollment costs seconds per 100k rows.
 */
const enrollmentReferences: Derivation = {
  model: 'benefit_enrollments',
  description:
    "enrollment's employee (personnel number) and benefit plan (plan id = cdm_benefitplan.cdm_name)",
  resolveOnInsert: {
    employee_id: employeeOf(`r.remote_data->>'PersonnelNumber'`),
    benefit_plan_id: `SELECT p.id FROM benefit_plans p
      WHERE p.linked_account_id = $1
        AND coalesce(p.remote_data->>'cdm_name', p.remote_data->>'Plan') = r.remote_data->>'BenefitPlanID'
      ORDER BY p.remote_was_deleted, p.id LIMIT 1`,
  },
  run: (client, accountId) =>
    hashJoinedIds(
      client,
      `WITH employee AS MATERIALIZED (${EMPLOYEES_BY_NUMBER}),
       plan AS MATERIALIZED (
         SELECT DISTINCT ON (plan_id) plan_id, id
         FROM (SELECT coalesce(p.remote_data->>'cdm_name', p.remote_data->>'Plan') AS plan_id, p.id,
                      p.remote_was_deleted
               FROM benefit_plans p WHERE p.linked_account_id = $1) named
         WHERE plan_id IS NOT NULL
         ORDER BY plan_id, remote_was_deleted, id
       ), target AS (
         SELECT r.id, e.id AS employee_id, pl.id AS plan_id
         FROM benefit_enrollments r
         LEFT JOIN employee e ON e.employee_number = r.remote_data->>'PersonnelNumber'
         LEFT JOIN plan pl ON pl.plan_id = r.remote_data->>'BenefitPlanID'
         WHERE r.linked_account_id = $1 AND r.${ENROLLMENT_FROM_FNO})
       UPDATE benefit_enrollments r SET employee_id = t.employee_id, benefit_plan_id = t.plan_id, modified_at = now()
       FROM target t
       WHERE r.id = t.id AND (r.employee_id, r.benefit_plan_id) IS DISTINCT FROM (t.employee_id, t.plan_id)
       RETURNING r.id`,
      [accountId],
    ),
  unresolved: (client, accountId) =>
    unresolvedRows(
      client,
      `SELECT remote_id, remote_data->>'PersonnelNumber' AS worker, remote_data->>'BenefitPlanID' AS plan,
              (employee_id IS NULL)::text AS no_employee, (benefit_plan_id IS NULL)::text AS no_plan
       FROM benefit_enrollments
       WHERE linked_account_id = $1 AND ${ENROLLMENT_FROM_FNO} AND (employee_id IS NULL OR benefit_plan_id IS NULL)
         AND NOT remote_was_deleted`,
      [accountId],
      (row) =>
        `${[
          row.no_employee === 'true' &&
            `worker ${row.worker} (personnel number) is not among the synced employees`,
          row.no_plan === 'true' &&
            `benefit plan ${row.plan ?? '(none)'} is not among the synced plans (cdm_benefitplan.cdm_name or F&O Plan)`,
        ]
          .filter(Boolean)
          .join('; ')}; stored without the reference`,
    ),
};

/** Coverage links of F&O enrollments = their covered dependents that are (live) dependents. */
function coverageLinks(coverageSource: string): Derivation {
  return {
    model: 'benefit_enrollments',
    description: 'dependents covered by each enrollment (covered dependent relationships)',
    run: (client, accountId) =>
      hashJoinedIds(
        client,
        `WITH scope AS (
           SELECT id, remote_id, remote_data->>'PersonnelNumber' AS worker
           FROM benefit_enrollments WHERE linked_account_id = $1 AND ${ENROLLMENT_FROM_FNO}
         ), wanted AS (
           SELECT DISTINCT s.id AS benefit_enrollment_id, d.id AS dependent_id
           FROM provider_records p
           JOIN scope s ON s.remote_id = p.data->>'enrollment_remote_id'
           JOIN dependents d ON d.linked_account_id = $1 AND d.remote_id = s.worker || ':' || (p.data->>'ChildPartyId')
                            AND NOT d.remote_was_deleted
           WHERE p.linked_account_id = $1 AND p.source_table = $2
         ), removed AS (
           -- An anti-join (hashable), not NOT EXISTS against the CTE, which would rescan it per link.
           DELETE FROM benefit_enrollment_dependents c
           USING (SELECT c2.benefit_enrollment_id, c2.dependent_id
                  FROM benefit_enrollment_dependents c2
                  JOIN scope s ON s.id = c2.benefit_enrollment_id
                  LEFT JOIN wanted w ON w.benefit_enrollment_id = c2.benefit_enrollment_id AND w.dependent_id = c2.dependent_id
                  WHERE c2.linked_account_id = $1 AND w.benefit_enrollment_id IS NULL) gone
           WHERE c.benefit_enrollment_id = gone.benefit_enrollment_id AND c.dependent_id = gone.dependent_id
           RETURNING c.benefit_enrollment_id AS id
         ), added AS (
           INSERT INTO benefit_enrollment_dependents (linked_account_id, benefit_enrollment_id, dependent_id)
           SELECT $1, w.benefit_enrollment_id, w.dependent_id FROM wanted w
           ON CONFLICT DO NOTHING
           RETURNING benefit_enrollment_id AS id
         ), changed AS (SELECT id FROM removed UNION SELECT id FROM added)
         -- Rows another derivation already touched in this transaction (modified_at = now(), stored at
         -- millisecond precision like the column) are
         -- not rewritten again; they already have their change event.
         UPDATE benefit_enrollments e SET modified_at = now() FROM changed
         WHERE e.id = changed.id AND e.modified_at IS DISTINCT FROM now()::timestamptz(3)
         RETURNING e.id`,
        [accountId, coverageSource],
      ),
  };
}

/** F&O employments' employee (personnel number) and company (legal entity id = company code). */
const employmentReferences: Derivation = {
  model: 'employments',
  description: "employment's employee (personnel number) and company (legal entity id)",
  resolveOnInsert: {
    employee_id: employeeOf(`r.remote_data->>'PersonnelNumber'`),
    company_id: `SELECT c.id FROM companies c
      WHERE c.linked_account_id = $1 AND c.company_code IS NOT NULL
        AND lower(c.company_code) = lower(r.remote_data->>'LegalEntityId')
      ORDER BY c.remote_was_deleted, c.id LIMIT 1`,
  },
  run: (client, accountId) =>
    hashJoinedIds(
      client,
      `WITH employee AS MATERIALIZED (${EMPLOYEES_BY_NUMBER}),
       company AS MATERIALIZED (
         SELECT DISTINCT ON (lower(company_code)) lower(company_code) AS code, id FROM companies
         WHERE linked_account_id = $1 AND company_code IS NOT NULL
         ORDER BY lower(company_code), remote_was_deleted, id
       ), target AS (
         SELECT r.id, e.id AS employee_id, c.id AS company_id
         FROM employments r
         LEFT JOIN employee e ON e.employee_number = r.remote_data->>'PersonnelNumber'
         LEFT JOIN company c ON c.code = lower(r.remote_data->>'LegalEntityId')
         WHERE r.linked_account_id = $1 AND r.remote_data ? 'LegalEntityId')
       UPDATE employments r SET employee_id = t.employee_id, company_id = t.company_id, modified_at = now()
       FROM target t
       WHERE r.id = t.id AND (r.employee_id, r.company_id) IS DISTINCT FROM (t.employee_id, t.company_id)
       RETURNING r.id`,
      [accountId],
    ),
};

/** F&O positions' department, by operating unit number (= departments.code, from either source). */
const positionDepartments: Derivation = {
  model: 'job_positions',
  description: "position's department (operating unit number)",
  run: (client, accountId) =>
    hashJoinedIds(
      client,
      `WITH department AS MATERIALIZED (
         SELECT DISTINCT ON (code) code, id FROM departments
         WHERE linked_account_id = $1 AND code IS NOT NULL
         ORDER BY code, remote_was_deleted, id
       ), target AS (
         SELECT p.id, d.id AS department_id
         FROM job_positions p LEFT JOIN department d ON d.code = p.remote_data->>'DepartmentNumber'
         WHERE p.linked_account_id = $1 AND p.remote_data ? 'PositionId')
       UPDATE job_positions p SET department_id = t.department_id, modified_at = now()
       FROM target t
       WHERE p.id = t.id AND p.department_id IS DISTINCT FROM t.department_id
       RETURNING p.id`,
      [accountId],
    ),
};

/**
 * Employees' current position, department and title when positions come from F&O: the position
 * whose worker assignment (HcmPositionV2Entity's WorkerPersonnelNumber, WorkerAssignmentStart/End)
 * is valid now. Company and dates come from the employments, as in the Dataverse derivation
 * (dataverse/derivations.ts, which this replaces for such accounts). F&O reads are whole snapshots,
 * so every employee is derived each run; only changed rows are written.
 */
const employeeFieldsFromPositions: Derivation = {
  model: 'employees',
  description: "employee's current position (F&O worker assignment), department, title, company and dates",
  run: (client, accountId) =>
    hashJoinedIds(
      client,
      `WITH assignment AS MATERIALIZED (
         SELECT DISTINCT ON (p.remote_data->>'WorkerPersonnelNumber')
                p.remote_data->>'WorkerPersonnelNumber' AS worker, p.id, p.department_id, p.job_title
         FROM job_positions p
         WHERE p.linked_account_id = $1 AND NOT p.remote_was_deleted
           AND coalesce(p.remote_data->>'WorkerPersonnelNumber', '') <> ''
           AND coalesce((p.remote_data->>'WorkerAssignmentStart')::timestamptz, '-infinity') <= now()
           AND coalesce((p.remote_data->>'WorkerAssignmentEnd')::timestamptz, 'infinity') > now()
         ORDER BY p.remote_data->>'WorkerPersonnelNumber', (p.remote_data->>'WorkerAssignmentStart')::timestamptz DESC
       ), employment AS MATERIALIZED (
         SELECT m.employee_id,
                min(m.start_date) AS hire_date,
                (array_agg(m.start_date ORDER BY m.start_date DESC NULLS LAST))[1] AS start_date,
                (array_agg(m.end_date ORDER BY m.start_date DESC NULLS LAST))[1] AS termination_date,
                (array_agg(m.company_id ORDER BY m.start_date DESC NULLS LAST))[1] AS company_id
         FROM employments m
         WHERE m.linked_account_id = $1 AND NOT m.remote_was_deleted AND m.employee_id IS NOT NULL
         GROUP BY m.employee_id
       ), target AS (
         SELECT e.id, a.id AS position_id, a.department_id, a.job_title,
                m.company_id, m.hire_date, m.start_date, m.termination_date
         FROM employees e
         LEFT JOIN assignment a ON a.worker = e.employee_number
         LEFT JOIN employment m ON m.employee_id = e.id
         WHERE e.linked_account_id = $1)
       UPDATE employees e
       SET position_id = t.position_id, department_id = t.department_id, job_title = t.job_title,
           company_id = t.company_id, hire_date = t.hire_date, start_date = t.start_date,
           termination_date = t.termination_date, modified_at = now()
       FROM target t
       WHERE e.id = t.id
         AND (e.position_id, e.department_id, e.job_title, e.company_id, e.hire_date, e.start_date, e.termination_date)
             IS DISTINCT FROM (t.position_id, t.department_id, t.job_title, t.company_id, t.hire_date, t.start_date, t.termination_date)
       RETURNING e.id`,
      [accountId],
    ),
};

/**
 * Employees' managers from F&O's reporting line: the worker currently holding the position that the
 * employee's position reports to (HcmPositionHierarchyEntity, valid now; the `Line` hierarchy first
 * when a position has several). The employee's position is the one of their latest assignment, so a
 * former worker keeps the last manager, as Dataverse's Manager column does.
 */
function employeeManagers(hierarchySource: string): Derivation {
  return {
    model: 'employees',
    description: "employee's manager (position hierarchy: the holder of the position reported to)",
    run: (client, accountId) =>
      hashJoinedIds(
        client,
        `WITH assigned AS MATERIALIZED (
           SELECT p.remote_id AS position, p.remote_data->>'WorkerPersonnelNumber' AS worker,
                  (p.remote_data->>'WorkerAssignmentStart')::timestamptz AS starts,
                  coalesce((p.remote_data->>'WorkerAssignmentEnd')::timestamptz, 'infinity') AS ends
           FROM job_positions p
           WHERE p.linked_account_id = $1 AND NOT p.remote_was_deleted
             AND coalesce(p.remote_data->>'WorkerPersonnelNumber', '') <> ''
         ), latest AS (
           SELECT DISTINCT ON (worker) worker, position FROM assigned ORDER BY worker, starts DESC
         ), holder AS (
           SELECT DISTINCT ON (position) position, worker FROM assigned
           WHERE coalesce(starts, '-infinity') <= now() AND ends > now()
           ORDER BY position, starts DESC
         ), parent AS (
           SELECT DISTINCT ON (h.data->>'PositionId') h.data->>'PositionId' AS position,
                  h.data->>'ParentPositionId' AS parent
           FROM provider_records h
           WHERE h.linked_account_id = $1 AND h.source_table = $2
             AND coalesce((h.data->>'ValidFrom')::timestamptz, '-infinity') <= now()
             AND coalesce((h.data->>'ValidTo')::timestamptz, 'infinity') > now()
           ORDER BY h.data->>'PositionId', (h.data->>'HierarchyTypeName' = 'Line') DESC, h.data->>'HierarchyTypeName'
         ), employee AS MATERIALIZED (${EMPLOYEES_BY_NUMBER}), target AS (
           SELECT e.id, m.id AS manager_id
           FROM employees e
           LEFT JOIN latest l ON l.worker = e.employee_number
           LEFT JOIN parent p ON p.position = l.position
           LEFT JOIN holder h ON h.position = p.parent
           LEFT JOIN employee m ON m.employee_number = h.worker
           WHERE e.linked_account_id = $1)
         UPDATE employees e SET manager_id = t.manager_id, modified_at = now()
         FROM target t
         WHERE e.id = t.id AND e.manager_id IS DISTINCT FROM t.manager_id
         RETURNING e.id`,
        [accountId, hierarchySource],
      ),
  };
}

export function fnoDerivations(options: {
  employments?: boolean;
  /** Job positions come from F&O: their departments, and employees' positions, derive from them. */
  positions?: boolean;
  dependents: boolean;
  enrollments: boolean;
  /** provider_records source table of the covered dependents, when enrollments come from F&O. */
  coverageSource?: string | undefined;
  /** provider_records source table of the position hierarchy, when employees' managers come from it. */
  hierarchySource?: string | undefined;
}): Derivation[] {
  const derivations: Derivation[] = [];
  if (options.employments) derivations.push(employmentReferences);
  if (options.positions) derivations.push(positionDepartments, employeeFieldsFromPositions);
  if (options.hierarchySource) derivations.push(employeeManagers(options.hierarchySource));
  if (options.dependents) derivations.push(employeeLink('dependents'));
  if (options.enrollments) {
    derivations.push(enrollmentReferences);
    if (options.coverageSource) derivations.push(coverageLinks(options.coverageSource));
  }
  return derivations;
}
