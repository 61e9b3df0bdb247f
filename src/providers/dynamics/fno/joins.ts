import type { LinkRule, PickRule, PickStep, ReferenceRule } from '../../types.js';

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
 * Joins that are not a key match, stated as picks (src/sync/derived-fields.ts owns their SQL):
 * the position a worker is assigned to now, and managers two hops away through the position
 * hierarchy. They rebuild after the streams, so the result is exact whatever page each row arrived
 * on; F&O reads are whole snapshots, so every employee derives each run, and only changed rows are
 * written. (Coverage links are data too: fnoLinkRules.)
 */

/** HcmPositionV2Entity's worker assignment, dated: WorkerAssignmentStart / WorkerAssignmentEnd. */
const ASSIGNMENT_WINDOW = { from: 'WorkerAssignmentStart', to: 'WorkerAssignmentEnd' };
const LATEST_ASSIGNMENT = [{ key: 'WorkerAssignmentStart', latest: true }] as const;

/**
 * Employees' current position, department and title when positions come from F&O: the position
 * whose worker assignment (WorkerPersonnelNumber = the employee's number) is valid now, the latest
 * started first. (Company and dates roll up from the employments: employmentRollup in
 * dataverse/joins.ts, whichever source serves them.)
 */
function employeePosition(positionsSource: string): PickRule {
  return {
    model: 'employees',
    start: { column: 'employee_number' },
    target: {
      rows: { model: 'job_positions' },
      match: { key: 'WorkerPersonnelNumber' },
      window: ASSIGNMENT_WINDOW,
      order: LATEST_ASSIGNMENT,
    },
    columns: [
      { column: 'position_id', from: 'id' },
      { column: 'department_id', from: 'department_id' },
      { column: 'job_title', from: 'job_title' },
    ],
    rerunWhen: [positionsSource],
  };
}

/**
 * Employees' managers from F&O's reporting line: the worker holding now the position that the
 * employee's position reports to (HcmPositionHierarchyEntity rows valid now, the `Line` hierarchy
 * first when a position has several). The employee's position is the one of their latest
 * assignment, valid now or not, so a former worker keeps their last manager, as Dataverse's
 * Manager column does.
 */
function employeeManager(positionsSource: string, hierarchySource: string): PickRule {
  const latestPosition: PickStep = {
    rows: { model: 'job_positions' },
    match: { key: 'WorkerPersonnelNumber' },
    yields: { column: 'remote_id' },
    order: LATEST_ASSIGNMENT,
  };
  const parentPosition: PickStep = {
    rows: { sourceTable: hierarchySource },
    match: { key: 'PositionId' },
    yields: { key: 'ParentPositionId' },
    window: { from: 'ValidFrom', to: 'ValidTo' },
    order: [{ key: 'HierarchyTypeName', first: 'Line' }, { key: 'HierarchyTypeName' }],
  };
  const holder: PickStep = {
    rows: { model: 'job_positions' },
    match: { column: 'remote_id' },
    yields: { key: 'WorkerPersonnelNumber' },
    window: ASSIGNMENT_WINDOW,
  };
  return {
    model: 'employees',
    start: { column: 'employee_number' },
    through: [latestPosition, parentPosition, holder],
    target: { rows: { model: 'employees' }, match: { column: 'employee_number' } },
    columns: [{ column: 'manager_id', from: 'id' }],
    rerunWhen: [positionsSource, hierarchySource],
  };
}

export interface FnoSources {
  employments?: boolean;
  /**
   * Source table of the job positions when they come from F&O: their departments, and employees'
   * positions and managers, derive from them.
   */
  positions?: string | undefined;
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

/** The picks of employees' fields from F&O positions and the position hierarchy. */
export function fnoPickRules(options: FnoSources): PickRule[] {
  if (!options.positions) return [];
  return [
    employeePosition(options.positions),
    ...(options.hierarchySource ? [employeeManager(options.positions, options.hierarchySource)] : []),
  ];
}
