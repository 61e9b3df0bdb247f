import type { AuxiliaryValueRule, Derivation, DerivationScope, ReferenceRule } from '../../types.js';
import { PLAN_TYPE_BY_NORMALISED_NAME } from '../option-sets.js';

/**
 * Fields joined across Dataverse tables, filled after the tables are stored: an employee's current
 * position, department and title (position–worker assignments → positions → jobs), company and
 * dates (employments), and a plan's coverage levels (its enrollments). None of them is a plain key
 * match (a validity window, an aggregate), so they stay SQL. What is data: the payroll
 * enrollments' references (payrollEnrollmentReferences) and the values copied from an auxiliary
 * row, positions' titles and plans' types (dataverseValueRules).
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
}

/** Whether any of these source tables changed in the run or was read in full. */
function touched(scope: DerivationScope, sources: string[]): boolean {
  return sources.some((source) => scope.fullSources.has(source) || scope.changedSources.has(source));
}

async function ids(
  client: Parameters<Derivation['run']>[0],
  sql: string,
  params: unknown[],
): Promise<string[]> {
  const { rows } = await client.query<{ id: string }>(sql, params);
  return rows.map((row) => row.id);
}

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

/**
 * Coverage levels a plan offers, as its enrollments show them (run after the F&O derivations, which
 * link enrollments to plans): no publication links a
 * cdm_benefitoption to a plan (options are a list of their own, combined with plans in F&O), so the
 * levels come from the enrollments (F&O) that name the plan.
 */
export const planCoverageLevels = (sources: Pick<DerivationSources, 'plans'>): Derivation => ({
  model: 'benefit_plans',
  description: "coverage levels the plan offers (its enrollments' levels)",
  run: async (client, accountId, scope) =>
    !touched(scope, [sources.plans]) && (scope.changedRecords.get('benefit_enrollments') ?? []).length === 0
      ? []
      : ids(
          client,
          `WITH target AS (
         SELECT p.id,
                coalesce(array_agg(DISTINCT e.coverage_level ORDER BY e.coverage_level)
                         FILTER (WHERE e.coverage_level IS NOT NULL), '{}') AS levels
         FROM benefit_plans p
         LEFT JOIN benefit_enrollments e
           ON e.linked_account_id = p.linked_account_id AND e.benefit_plan_id = p.id AND NOT e.remote_was_deleted
         WHERE p.linked_account_id = $1
         GROUP BY p.id)
       UPDATE benefit_plans p SET coverage_levels_offered = t.levels, modified_at = now()
       FROM target t
       WHERE p.id = t.id AND p.coverage_levels_offered IS DISTINCT FROM t.levels
       RETURNING p.id`,
          [accountId],
        ),
});

/**
 * Enrollments from the payroll API's virtual table name their worker by personnel number and their
 * plan by plan id (= cdm_benefitplan.cdm_name, as for F&O enrollments): references stated as data,
 * resolved by the sync layer (src/sync/references.ts).
 */
export const payrollEnrollmentReferences: ReferenceRule[] = [
  {
    model: 'benefit_enrollments',
    field: 'employee_id',
    appliesTo: { remoteDataKey: 'mshr_personnelnumber' },
    key: 'mshr_personnelnumber',
    target: { model: 'employees', by: { column: 'employee_number' } },
  },
  {
    model: 'benefit_enrollments',
    field: 'benefit_plan_id',
    appliesTo: { remoteDataKey: 'mshr_personnelnumber' },
    key: 'mshr_planid',
    target: { model: 'benefit_plans', by: { remoteData: ['cdm_name'] } },
  },
];

/**
 * Values copied from auxiliary rows, stated as data (applied by src/sync/auxiliary-values.ts, before
 * the derivations: employees copy the position's title):
 * - a position's job title: its job's cdm_name (cdm_jobs row named by _cdm_jobid_value);
 * - a plan's type: its benefit type's cdm_name, which is the type's id in Human Resources (e.g.
 *   "Dental"), looked up normalised among the published plan types (option-sets.ts); ids an
 *   organisation made up map to OTHER, the id itself kept as plan_type_raw.
 * Positions or plans that come from F&O instead (its mappers give theirs) are left out: these
 * rules apply to every row of the model and would empty what F&O rows carry.
 */
export function dataverseValueRules(
  sources: DerivationSources,
  fromDataverse: { positions: boolean; plans: boolean } = { positions: true, plans: true },
): AuxiliaryValueRule[] {
  const positionTitles: AuxiliaryValueRule = {
    model: 'job_positions',
    auxiliary: { sourceTable: sources.jobs, remoteDataKey: '_cdm_jobid_value' },
    columns: [{ column: 'job_title', from: 'cdm_name' }],
    rerunWhen: [sources.jobs, sources.positions],
  };
  const planTypes: AuxiliaryValueRule = {
    model: 'benefit_plans',
    auxiliary: { sourceTable: sources.benefitTypes, remoteDataKey: '_cdm_benefittypeid_value' },
    columns: [
      {
        column: 'plan_type',
        from: 'cdm_name',
        through: {
          normalise: 'alphanumeric-lowercase',
          values: PLAN_TYPE_BY_NORMALISED_NAME,
          default: 'OTHER',
        },
      },
      { column: 'plan_type_raw', from: 'cdm_name' },
    ],
    rerunWhen: [sources.plans, sources.benefitTypes],
  };
  return [...(fromDataverse.positions ? [positionTitles] : []), ...(fromDataverse.plans ? [planTypes] : [])];
}

/**
 * Employees' fields from positions and employments, when positions come from Dataverse (F&O
 * positions: fno/derivations.ts derives them instead). Runs after dataverseValueRules' titles.
 */
export function dataverseDerivations(
  sources: DerivationSources,
  fromDataverse: { positions: boolean } = { positions: true },
): Derivation[] {
  return fromDataverse.positions ? [employeeFields(sources)] : [];
}
