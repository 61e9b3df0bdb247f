import type { ModelName } from '../../../unified/models.js';
import type { StreamTarget } from '../../types.js';
import type { SourceId } from '../published-sources.js';
import {
  auxiliaryMapper,
  mapBenefitPlan,
  mapCompany,
  mapDepartment,
  mapEmployment,
  mapJobPosition,
  mapPayrollWorkerBenefitPlan,
  mapWorker,
  type RowMapper,
} from './mappers.js';

/**
 * Which Dataverse tables feed the gateway, the columns each needs and its mapper. Every table and
 * column names the Microsoft publication it comes from (published-sources.ts; what each confirms is
 * in docs/microsoft-wire.md, "Tables, entities and option sets"). A column whose logical name no
 * publication gives is `discovered`: like every column, it is `$select`ed only when the environment's
 * EntityDefinitions lists it (tables.ts), and `cost` says what the tenant loses without it.
 * Entity set names are read from EntityDefinitions at run time, never assumed.
 */
export interface DataverseColumn {
  /** Wire name: lookups as `_x_value`, as the Web API names them. */
  name: string;
  source: SourceId;
  /** What is left empty when the environment lacks the column, in words (shown in sync status). */
  cost: string;
  /**
   * Carries a sensitive unified field (see ModelSpec.sensitiveFields): cut from remote_data, its
   * annotations included, unless the caller may and asks to read sensitive data (docs/security.md).
   */
  sensitive?: true;
}

interface DataverseTableOf<Target extends StreamTarget> {
  logicalName: string;
  source: SourceId;
  /** The unified model it fills, or auxiliary (kept raw for derivations). */
  target: Target;
  /** For auxiliary tables: the model whose derived fields it feeds (where its missing columns are said). */
  informs?: ModelName;
  /** Primary key column (EntityDefinitions' PrimaryIdAttribute: `<table>id`). */
  key: string;
  columns: readonly DataverseColumn[];
  /** Maps a row to a record of `target`: a mapper for another model does not compile here. */
  map: RowMapper<Target>;
  /** Why an environment may lack the table, and the fix, in words (shown when it is missing). */
  whenMissing?: string;
}

/** A table, its target and its mapper agreeing (one member per target). */
export type DataverseTable = { [Target in StreamTarget]: DataverseTableOf<Target> }[StreamTarget];

const column = (name: string, source: SourceId, cost: string): DataverseColumn => ({ name, source, cost });

// Every user-owned table has them.
const AUDIT = [
  column('createdon', 'dataverse-table-reference', "records' remote creation time"),
  column('modifiedon', 'dataverse-table-reference', "records' remote modification time"),
];
const key = (name: string) =>
  column(name, 'dataverse-query-metadata', 'every row (the table cannot be read)');

export const DATAVERSE_TABLES: readonly DataverseTable[] = [
  {
    logicalName: 'cdm_company',
    source: 'hr-dataverse-tables',
    target: 'companies',
    key: 'cdm_companyid',
    columns: [
      key('cdm_companyid'),
      // Core HR lists Company's fields as "Company code" and "Name"; the dual-write keys name the code.
      column('cdm_name', 'discovered', "companies' names"),
      column('cdm_companycode', 'hr-dataverse-integration', "companies' codes (legal entity ids)"),
      ...AUDIT,
    ],
    map: mapCompany,
  },
  {
    logicalName: 'cdm_department',
    source: 'hr-dataverse-tables',
    target: 'departments',
    key: 'cdm_departmentid',
    columns: [
      key('cdm_departmentid'),
      column('cdm_name', 'hr-dataverse-integration', "departments' names"),
      column('cdm_departmentnumber', 'hr-dataverse-integration', "departments' codes"),
      ...AUDIT,
    ],
    map: mapDepartment,
  },
  {
    logicalName: 'cdm_job',
    source: 'hr-dataverse-tables',
    target: 'auxiliary',
    informs: 'job_positions',
    key: 'cdm_jobid',
    columns: [key('cdm_jobid'), column('cdm_name', 'hr-dataverse-integration', 'job titles'), ...AUDIT],
    map: auxiliaryMapper('cdm_jobid'),
  },
  {
    logicalName: 'cdm_jobposition',
    source: 'hr-dataverse-tables',
    target: 'job_positions',
    key: 'cdm_jobpositionid',
    columns: [
      key('cdm_jobpositionid'),
      column('cdm_jobpositionnumber', 'hr-dataverse-integration', "positions' numbers"),
      column('_cdm_jobid_value', 'hr-dataverse-integration', 'job titles of positions and employees'),
      column('cdm_description', 'hr-dataverse-integration', "positions' descriptions"),
      column('_cdm_departmentid_value', 'hr-dataverse-integration', 'departments of positions and employees'),
      column('cdm_fulltimeequivalent', 'hr-dataverse-integration', "positions' full-time equivalents"),
      column('cdm_validfrom', 'hr-dataverse-integration', "positions' start dates"),
      column('cdm_validto', 'hr-dataverse-integration', "positions' end dates"),
      ...AUDIT,
    ],
    map: mapJobPosition,
  },
  {
    logicalName: 'cdm_positionworkerassignmentmap',
    source: 'hr-dataverse-tables',
    target: 'auxiliary',
    informs: 'employees',
    key: 'cdm_positionworkerassignmentmapid',
    columns: [
      key('cdm_positionworkerassignmentmapid'),
      column(
        '_cdm_workerid_value',
        'hr-dataverse-integration',
        "employees' positions, departments and titles",
      ),
      column(
        '_cdm_jobpositionid_value',
        'hr-dataverse-integration',
        "employees' positions, departments and titles",
      ),
      column('cdm_validfrom', 'hr-dataverse-integration', 'which assignment is current'),
      column('cdm_validto', 'hr-dataverse-integration', 'which assignment is current'),
      ...AUDIT,
    ],
    map: auxiliaryMapper('cdm_positionworkerassignmentmapid', '_cdm_workerid_value'),
  },
  {
    logicalName: 'cdm_worker',
    source: 'hr-dataverse-tables',
    target: 'employees',
    key: 'cdm_workerid',
    columns: [
      key('cdm_workerid'),
      column('cdm_workernumber', 'hr-dataverse-integration', "employees' numbers"),
      column('cdm_firstname', 'hr-dataverse-integration', "employees' first names"),
      column('cdm_middlename', 'hr-dataverse-integration', "employees' middle names"),
      column('cdm_lastname', 'hr-dataverse-integration', "employees' last names"),
      column('cdm_fullname', 'hr-dataverse-integration', "employees' display names"),
      column('cdm_primaryemailaddress', 'hr-dataverse-integration', "employees' work email addresses"),
      // Core HR lists "Mobile Phone" and "Manager" on Worker by display name only.
      column('cdm_mobilephone', 'discovered', "employees' mobile phone numbers"),
      {
        ...column('cdm_birthdate', 'hr-dataverse-integration', "employees' dates of birth"),
        sensitive: true,
      },
      column('_cdm_managerworkerid_value', 'discovered', "employees' managers"),
      column('cdm_gender', 'hr-dataverse-integration', "employees' genders"),
      column('cdm_type', 'hr-dataverse-integration', "employees' worker types"),
      column('cdm_status', 'hr-dataverse-integration', "employees' employment statuses"),
      ...AUDIT,
    ],
    map: mapWorker,
  },
  {
    logicalName: 'cdm_employment',
    source: 'hr-dataverse-tables',
    target: 'employments',
    key: 'cdm_employmentid',
    columns: [
      key('cdm_employmentid'),
      column('_cdm_workerid_value', 'hr-dataverse-integration', "employments' employees"),
      column('_cdm_companyid_value', 'hr-dataverse-integration', "employments' and employees' companies"),
      column('cdm_workertype', 'hr-dataverse-integration', "employments' types"),
      column('cdm_employmentstartdate', 'hr-dataverse-integration', 'start and hire dates'),
      column('cdm_employmentenddate', 'hr-dataverse-integration', 'end and termination dates'),
      ...AUDIT,
    ],
    map: mapEmployment,
  },
  {
    logicalName: 'cdm_benefittype',
    source: 'hr-dataverse-tables',
    target: 'auxiliary',
    informs: 'benefit_plans',
    key: 'cdm_benefittypeid',
    // cdm_name holds the benefit type id (BENEFITTYPEID), which names the plan type.
    columns: [
      key('cdm_benefittypeid'),
      column('cdm_name', 'hr-dataverse-integration', "plans' types"),
      ...AUDIT,
    ],
    map: auxiliaryMapper('cdm_benefittypeid'),
  },
  {
    logicalName: 'cdm_benefitplan',
    source: 'hr-dataverse-tables',
    target: 'benefit_plans',
    key: 'cdm_benefitplanid',
    // Core HR lists Benefit plan's fields as "Name", "Description" and the "Benefit Type" lookup;
    // no publication gives their logical names, nor a plan id, company or coverage dates.
    columns: [
      key('cdm_benefitplanid'),
      column('cdm_name', 'discovered', "plans' names (and enrollments' plans)"),
      column('cdm_description', 'discovered', "plans' descriptions"),
      column('_cdm_benefittypeid_value', 'discovered', "plans' types"),
      ...AUDIT,
    ],
    map: mapBenefitPlan,
  },
  {
    // The payroll API's virtual table: one row per worker's benefit plan (an enrollment).
    logicalName: 'mshr_payrollworkerbenefitplanentity',
    source: 'payroll-worker-benefit-plan',
    target: 'benefit_enrollments',
    key: 'mshr_payrollworkerbenefitplanentityid',
    whenMissing:
      'The Human Resources virtual tables are not generated in it: an administrator generates them (docs/microsoft-wire.md, "Virtual tables").',
    columns: [
      key('mshr_payrollworkerbenefitplanentityid'),
      column('mshr_personnelnumber', 'payroll-worker-benefit-plan', "enrollments' employees"),
      column('mshr_planid', 'payroll-worker-benefit-plan', "enrollments' plans"),
      column('mshr_coverageoptionid', 'payroll-worker-benefit-plan', "enrollments' coverage levels"),
      column('mshr_deductionstartdatetime', 'payroll-worker-benefit-plan', "enrollments' start dates"),
      column('mshr_deductionenddatetime', 'payroll-worker-benefit-plan', "enrollments' end dates"),
      column('mshr_status', 'payroll-worker-benefit-plan', "enrollments' statuses"),
      column('mshr_amountemployee', 'payroll-worker-benefit-plan', 'employee contributions'),
      column('mshr_amountemployer', 'payroll-worker-benefit-plan', 'company contributions'),
      ...AUDIT,
    ],
    map: mapPayrollWorkerBenefitPlan,
  },
];

/** The source the adapter cites for a column, when it reads that column (the sandbox cites the same). */
export function adapterColumnSource(logicalName: string, wireName: string): SourceId | undefined {
  return DATAVERSE_TABLES.find((table) => table.logicalName === logicalName)?.columns.find(
    (entry) => entry.name === wireName,
  )?.source;
}

/** The Dataverse table that serves each unified model (models absent here come from F&O or nowhere). */
export const DATAVERSE_MODEL_TABLES: Partial<Record<ModelName, string>> = Object.fromEntries(
  DATAVERSE_TABLES.filter((table) => table.target !== 'auxiliary').map((table) => [
    table.target,
    table.logicalName,
  ]),
);
