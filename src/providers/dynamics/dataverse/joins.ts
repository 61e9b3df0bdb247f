import type { AuxiliaryValueRule, PickRule, ReferenceRule, RollupRule } from '../../types.js';
import { PLAN_TYPE_BY_NORMALISED_NAME } from '../option-sets.js';

/**
 * Fields joined across Dataverse tables, stated as data for the sync layer to turn into SQL after
 * the tables are stored: an employee's current position, department and title (position–worker
 * assignments → positions; a pick), company and dates (their employments; a roll-up), a plan's
 * coverage levels (its enrollments; a roll-up), positions' titles and plans' types (copied values),
 * and the payroll enrollments' references. Each becomes a statement that writes only rows whose
 * values differ, so modified_at moves only on real change.
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

/**
 * An employee's current position, department and title: the position named by the worker's
 * cdm_positionworkerassignmentmap row (ref_id = the worker) valid now by cdm_validfrom /
 * cdm_validto, the latest started first. A change to assignments, positions or jobs can move any
 * employee; otherwise only the employees changed in a run derive, so an incremental sync of a few
 * workers stays as cheap on a 100k tenant as on a small one.
 */
function employeePosition(sources: DerivationSources): PickRule {
  return {
    model: 'employees',
    start: { column: 'remote_id' },
    through: [
      {
        rows: { sourceTable: sources.assignments },
        match: { column: 'ref_id' },
        yields: { key: '_cdm_jobpositionid_value' },
        window: { from: 'cdm_validfrom', to: 'cdm_validto' },
        order: [{ key: 'cdm_validfrom', latest: true }],
      },
    ],
    target: { rows: { model: 'job_positions' }, match: { column: 'remote_id' } },
    columns: [
      { column: 'position_id', from: 'id' },
      { column: 'department_id', from: 'department_id' },
      { column: 'job_title', from: 'job_title' },
    ],
    rerunWhen: [sources.assignments, sources.positions, sources.jobs],
  };
}

/**
 * An employee's company and dates from their employments, whichever source serves them (Dataverse
 * or F&O, `employmentsSource`): hired at the earliest start; start, termination and company of
 * the latest started employment.
 */
export function employmentRollup(employmentsSource: string): RollupRule {
  return {
    model: 'employees',
    over: { model: 'employments', field: 'employee_id' },
    latestBy: 'start_date',
    columns: [
      { column: 'hire_date', of: 'start_date', aggregate: 'min' },
      { column: 'start_date', of: 'start_date', aggregate: 'latest' },
      { column: 'termination_date', of: 'end_date', aggregate: 'latest' },
      { column: 'company_id', of: 'company_id', aggregate: 'latest' },
    ],
    rerunWhen: [employmentsSource],
  };
}

/**
 * Coverage levels a plan offers, as its enrollments show them: no publication links a
 * cdm_benefitoption to a plan (options are a list of their own, combined with plans in F&O), so
 * the levels come from the enrollments (F&O or the payroll virtual table) that name the plan.
 * `plansSource`: cdm_benefitplan or F&O's plans, whichever serves them.
 */
export function planCoverageLevels(plansSource: string): RollupRule {
  return {
    model: 'benefit_plans',
    over: { model: 'benefit_enrollments', field: 'benefit_plan_id' },
    columns: [{ column: 'coverage_levels_offered', of: 'coverage_level', aggregate: 'distinct' }],
    rerunWhen: [plansSource],
  };
}

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
 * Employees' position, department and title, when positions come from Dataverse (F&O positions:
 * fno/joins.ts picks them instead). Runs after dataverseValueRules' titles.
 */
export function dataversePickRules(
  sources: DerivationSources,
  fromDataverse: { positions: boolean } = { positions: true },
): PickRule[] {
  return fromDataverse.positions ? [employeePosition(sources)] : [];
}
