import type { Derivation, LinkRule, ReferenceRule } from '../../types.js';

type Client = Parameters<Derivation['run']>[0];

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

/**
 * References F&O rows make by plain business key, stated as data (the sync layer writes their SQL,
 * src/sync/references.ts, docs/providers.md): each rule applies to the rows carrying an F&O field
 * (rows of the same model from Dataverse are left alone).
 * - workers by personnel number (F&O `WorkerPersonnelNumber` / `PersonnelNumber` = Dataverse
 *   `cdm_workernumber` = employees.employee_number), for employments, dependents and enrollments;
 * - plans by plan id (F&O `BenefitPlanID`): a plan's id in Human Resources is the benefit plan's
 *   cdm_name when plans come from Dataverse (benefit types' and options' ids are their cdm_name in
 *   the dual-write mappings, docs/microsoft-wire.md), or `Plan` when plans come from F&O;
 * - companies by legal entity id (= companies.company_code, compared case-insensitively: the
 *   same legal entity may be spelt in either case by the two sources, docs/fno-fallback.md keys
 *   companies by the lower-cased DataArea);
 * - positions' departments by operating unit number (= departments.code, from either source).
 * An empty department or company is normal for those rows; a dependent or enrollment without its
 * worker or plan is reported.
 */
const WORKER_NOT_SYNCED = 'worker {key} (personnel number) is not among the synced employees';

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
  },
];

const positionRules: ReferenceRule[] = [
  {
    model: 'job_positions',
    field: 'department_id',
    appliesTo: { remoteDataKey: 'PositionId' },
    key: 'DepartmentNumber',
    target: { model: 'departments', by: { column: 'code' } },
    // departments.code has no index: a lookup per inserted position tripled the F&O-only shape's
    // position load at 100k (docs/PERFORMANCE.md, "Tenant shapes"); the rebuild's hash join is cheap.
    lookupOnInsert: false,
  },
];

const dependentRules: ReferenceRule[] = [
  {
    model: 'dependents',
    field: 'employee_id',
    appliesTo: { remoteDataKey: 'WorkerPersonnelNumber' },
    key: 'WorkerPersonnelNumber',
    target: { model: 'employees', by: { column: 'employee_number' } },
    unresolved: 'worker {key} (personnel number) is not among the employees synced from Dataverse',
  },
];

const enrollmentRules: ReferenceRule[] = [
  {
    model: 'benefit_enrollments',
    field: 'employee_id',
    appliesTo: { remoteDataKey: 'BenefitId' },
    key: 'PersonnelNumber',
    target: { model: 'employees', by: { column: 'employee_number' } },
    unresolved: WORKER_NOT_SYNCED,
  },
  {
    model: 'benefit_enrollments',
    field: 'benefit_plan_id',
    appliesTo: { remoteDataKey: 'BenefitId' },
    key: 'BenefitPlanID',
    target: { model: 'benefit_plans', by: { remoteData: ['cdm_name', 'Plan'] } },
    unresolved: 'benefit plan {key} is not among the synced plans (cdm_benefitplan.cdm_name or F&O Plan)',
  },
];

/**
 * The joins below are not a key match, so they stay SQL: employees' fields from the assignment valid
 * now and aggregates over employments, and managers two hops away through the position hierarchy.
 * Rebuilding them here rather than in the stream keeps the result exact whatever page each row
 * arrived on. Statements write only rows whose value differs, so modified_at moves on real change
 * only, and return the ids they changed. (Coverage links are data: fnoLinkRules.)
 */

const EMPLOYEES_BY_NUMBER = `SELECT DISTINCT ON (employee_number) employee_number, id
  FROM employees WHERE linked_account_id = $1 AND employee_number IS NOT NULL
  ORDER BY employee_number, remote_was_deleted, modified_at DESC`;

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

export interface FnoSources {
  employments?: boolean;
  /** Job positions come from F&O: their departments, and employees' positions, derive from them. */
  positions?: boolean;
  dependents: boolean;
  enrollments: boolean;
  /** provider_records source table of the covered dependents, when enrollments come from F&O. */
  coverageSource?: string | undefined;
  /** provider_records source table of the position hierarchy, when employees' managers come from it. */
  hierarchySource?: string | undefined;
}

/** The references F&O rows make by business key, for the models F&O serves. */
export function fnoReferenceRules(options: FnoSources): ReferenceRule[] {
  return [
    ...(options.employments ? employmentRules : []),
    ...(options.positions ? positionRules : []),
    ...(options.dependents ? dependentRules : []),
    ...(options.enrollments ? enrollmentRules : []),
  ];
}

/**
 * Coverage links of F&O enrollments: their covered dependent relationships
 * (HcmCoveredDependentRelationshipEntity rows, ref_id = the enrollment's remote id, mappers.ts) to
 * the worker's personal contacts stored as dependents.
 */
export function fnoLinkRules(options: FnoSources): LinkRule[] {
  if (!options.enrollments || !options.coverageSource) return [];
  return [
    {
      model: 'benefit_enrollments',
      linked: 'dependents',
      appliesTo: { remoteDataKey: 'BenefitId' },
      source: options.coverageSource,
      linkedKey: 'dependent_remote_id',
    },
  ];
}

/** The joins that stay SQL, in order (run after the reference rules, whose results they read). */
export function fnoDerivations(options: FnoSources): Derivation[] {
  const derivations: Derivation[] = [];
  if (options.positions) derivations.push(employeeFieldsFromPositions);
  if (options.hierarchySource) derivations.push(employeeManagers(options.hierarchySource));
  return derivations;
}
