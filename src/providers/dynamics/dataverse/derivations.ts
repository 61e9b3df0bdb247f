import type { Derivation, DerivationScope } from '../../types.js';

/**
 * Fields joined across Dataverse tables, filled after the tables are stored: an employee's current
 * position, department and title (position–worker assignments → positions → jobs), company and
 * dates (employments), a plan's type (benefit type category) and coverage levels (benefit options).
 * Each statement only writes rows whose derived values differ, so modified_at moves only on real
 * change, and returns the ids it changed (for change events).
 *
 * Auxiliary rows live raw in provider_records under their source table ("dataverse:cdm_jobs").
 */

/** Source tables ("dataverse:<entity set>") as the plan resolved them. */
export interface DerivationSources {
  employments: string;
  positions: string;
  jobs: string;
  assignments: string;
  plans: string;
  benefitTypes: string;
  benefitOptions: string;
}

/** Whether any of these source tables changed in the run (or everything must be derived). */
function touched(scope: DerivationScope, sources: string[]): boolean {
  return scope.full || sources.some((source) => scope.changedSources.has(source));
}

async function ids(
  client: Parameters<Derivation['run']>[0],
  sql: string,
  params: unknown[],
): Promise<string[]> {
  const { rows } = await client.query<{ id: string }>(sql, params);
  return rows.map((row) => row.id);
}

const positionTitles = (sources: DerivationSources): Derivation => ({
  model: 'job_positions',
  description: "position's job title (cdm_job.cdm_name)",
  run: async (client, accountId, scope) =>
    !touched(scope, [sources.jobs, sources.positions])
      ? []
      : ids(
          client,
          `WITH target AS (
         SELECT p.id, j.data->>'cdm_name' AS job_title
         FROM job_positions p
         LEFT JOIN provider_records j
           ON j.linked_account_id = p.linked_account_id AND j.source_table = $2
          AND j.remote_id = p.remote_data->>'_cdm_jobid_value'
         WHERE p.linked_account_id = $1)
       UPDATE job_positions p SET job_title = t.job_title, modified_at = now()
       FROM target t
       WHERE p.id = t.id AND p.job_title IS DISTINCT FROM t.job_title
       RETURNING p.id`,
          [accountId, sources.jobs],
        ),
});

/**
 * Everything an employee takes from other tables, in one statement (one new row version per
 * changed employee, not one per derived field group): current position, department and title from
 * the assignment valid now; company, hire, start and termination dates from the employments.
 */
const employeeFields = (sources: DerivationSources): Derivation => ({
  model: 'employees',
  description: "employee's current position, department, title, company and employment dates",
  run: async (client, accountId, scope) => {
    // A change to assignments, positions, jobs or employments can move any employee; otherwise only
    // the employees changed in this run need deriving (an incremental sync of a few workers stays
    // as cheap on a 100k tenant as on a small one).
    const everyone = touched(scope, [
      sources.assignments,
      sources.positions,
      sources.jobs,
      sources.employments,
    ]);
    const changed = scope.changedRecords.get('employees') ?? [];
    if (!everyone && changed.length === 0) return [];
    const only = everyone ? '' : 'AND e.id = ANY($3::uuid[])';
    return ids(
      client,
      `WITH scoped AS (
         SELECT e.id, e.remote_id FROM employees e WHERE e.linked_account_id = $1 ${only}
       ), current_assignment AS (
         SELECT DISTINCT ON (a.ref_id) a.ref_id AS worker, a.data->>'_cdm_jobpositionid_value' AS position
         FROM provider_records a
         JOIN scoped s ON s.remote_id = a.ref_id
         WHERE a.linked_account_id = $1 AND a.source_table = $2
           AND coalesce((a.data->>'cdm_validfrom')::timestamptz, '-infinity') <= now()
           AND coalesce((a.data->>'cdm_validto')::timestamptz, 'infinity') > now()
         ORDER BY a.ref_id, (a.data->>'cdm_validfrom')::timestamptz DESC
       ), employment AS (
         SELECT m.employee_id,
                min(m.start_date) AS hire_date,
                (array_agg(m.start_date ORDER BY m.start_date DESC NULLS LAST))[1] AS start_date,
                (array_agg(m.end_date ORDER BY m.start_date DESC NULLS LAST))[1] AS termination_date,
                (array_agg(m.company_id ORDER BY m.start_date DESC NULLS LAST))[1] AS company_id
         FROM employments m JOIN scoped s ON s.id = m.employee_id
         WHERE m.linked_account_id = $1 AND NOT m.remote_was_deleted
         GROUP BY m.employee_id
       ), target AS (
         SELECT s.id, p.id AS position_id, p.department_id, p.job_title,
                m.company_id, m.hire_date, m.start_date, m.termination_date
         FROM scoped s
         LEFT JOIN current_assignment c ON c.worker = s.remote_id
         LEFT JOIN job_positions p ON p.linked_account_id = $1 AND p.remote_id = c.position
         LEFT JOIN employment m ON m.employee_id = s.id)
       UPDATE employees e
       SET position_id = t.position_id, department_id = t.department_id, job_title = t.job_title,
           company_id = t.company_id, hire_date = t.hire_date, start_date = t.start_date,
           termination_date = t.termination_date, modified_at = now()
       FROM target t
       WHERE e.id = t.id
         AND (e.position_id, e.department_id, e.job_title, e.company_id, e.hire_date, e.start_date, e.termination_date)
             IS DISTINCT FROM (t.position_id, t.department_id, t.job_title, t.company_id, t.hire_date, t.start_date, t.termination_date)
       RETURNING e.id`,
      everyone ? [accountId, sources.assignments] : [accountId, sources.assignments, changed],
    );
  },
});

// cdm_benefittype.cdm_category (invented in the sandbox: the column is undocumented) → plan_type.
const PLAN_TYPE_BY_CATEGORY = `CASE t.data->>'cdm_category'
  WHEN '754400000' THEN 'MEDICAL' WHEN '754400001' THEN 'DENTAL' WHEN '754400002' THEN 'VISION'
  WHEN '754400003' THEN 'LIFE' WHEN '754400004' THEN 'DISABILITY' WHEN '754400005' THEN 'RETIREMENT'
  WHEN '754400006' THEN 'HSA' WHEN '754400007' THEN 'FSA' ELSE 'OTHER' END`;

const planTypes = (sources: DerivationSources): Derivation => ({
  model: 'benefit_plans',
  description: "plan type from the plan's benefit type",
  run: async (client, accountId, scope) =>
    !touched(scope, [sources.plans, sources.benefitTypes])
      ? []
      : ids(
          client,
          `WITH target AS (
         SELECT p.id,
                CASE WHEN t.remote_id IS NULL THEN NULL ELSE (${PLAN_TYPE_BY_CATEGORY})::plan_type END AS plan_type,
                t.data->>'cdm_category' AS plan_type_raw
         FROM benefit_plans p
         LEFT JOIN provider_records t
           ON t.linked_account_id = p.linked_account_id AND t.source_table = $2
          AND t.remote_id = p.remote_data->>'_cdm_benefittypeid_value'
         WHERE p.linked_account_id = $1)
       UPDATE benefit_plans p SET plan_type = t.plan_type, plan_type_raw = t.plan_type_raw, modified_at = now()
       FROM target t
       WHERE p.id = t.id AND (p.plan_type, p.plan_type_raw) IS DISTINCT FROM (t.plan_type, t.plan_type_raw)
       RETURNING p.id`,
          [accountId, sources.benefitTypes],
        ),
});

// Benefit option ids (EE, EE+SP, EE+CH, EE+FAM) → coverage levels.
const COVERAGE_BY_OPTION = `CASE upper(o.data->>'cdm_optionid')
  WHEN 'EE' THEN 'EMPLOYEE_ONLY' WHEN 'EE+SP' THEN 'EMPLOYEE_SPOUSE' WHEN 'EE+CH' THEN 'EMPLOYEE_CHILDREN'
  WHEN 'EE+FAM' THEN 'EMPLOYEE_FAMILY' WHEN 'FAM' THEN 'EMPLOYEE_FAMILY' ELSE 'OTHER' END`;

const planCoverageLevels = (sources: DerivationSources): Derivation => ({
  model: 'benefit_plans',
  description: 'coverage levels the plan offers (benefit options)',
  run: async (client, accountId, scope) =>
    !touched(scope, [sources.plans, sources.benefitOptions])
      ? []
      : ids(
          client,
          `WITH target AS (
         SELECT p.id,
                coalesce(array_agg(DISTINCT (${COVERAGE_BY_OPTION})::coverage_level ORDER BY (${COVERAGE_BY_OPTION})::coverage_level)
                         FILTER (WHERE o.remote_id IS NOT NULL), '{}') AS levels
         FROM benefit_plans p
         LEFT JOIN provider_records o
           ON o.linked_account_id = p.linked_account_id AND o.source_table = $2
          AND o.ref_id = p.remote_id
         WHERE p.linked_account_id = $1
         GROUP BY p.id)
       UPDATE benefit_plans p SET coverage_levels_offered = t.levels, modified_at = now()
       FROM target t
       WHERE p.id = t.id AND p.coverage_levels_offered IS DISTINCT FROM t.levels
       RETURNING p.id`,
          [accountId, sources.benefitOptions],
        ),
});

/** In order: positions before employees (employees copy the position's title). */
export function dataverseDerivations(sources: DerivationSources): Derivation[] {
  return [positionTitles(sources), employeeFields(sources), planTypes(sources), planCoverageLevels(sources)];
}
