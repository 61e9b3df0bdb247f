import type { ModelName } from '../../../unified/models.js';
import {
  auxiliaryMapper,
  mapBenefitPlan,
  mapCompany,
  mapDepartment,
  mapEmployment,
  mapJobPosition,
  mapWorker,
  type RowMapper,
} from './mappers.js';

/**
 * Which Dataverse tables feed the gateway, with exactly the columns each needs ($select) and its
 * mapper. Data, not code: adding a table (or the HR app's mshr_ virtual tables later) is adding an
 * entry. Entity set names are resolved from EntityDefinitions at run time, never assumed.
 */
export interface DataverseTable {
  logicalName: string;
  /** The unified model it fills, or auxiliary (kept raw for derivations). */
  target: ModelName | 'auxiliary';
  /** Primary key column. */
  key: string;
  /** Columns to $select (lookups as _x_value, as the Web API names them). */
  select: string[];
  /**
   * Selected columns that carry a sensitive unified field (see ModelSpec.sensitiveFields): they are
   * cut from remote_data, annotations included, unless the caller may and asks to read sensitive data.
   */
  sensitive: string[];
  map: RowMapper;
}

const AUDIT = ['createdon', 'modifiedon'];

export const DATAVERSE_TABLES: readonly DataverseTable[] = [
  {
    logicalName: 'cdm_company',
    target: 'companies',
    key: 'cdm_companyid',
    select: ['cdm_companyid', 'cdm_name', 'cdm_companycode', ...AUDIT],
    sensitive: [],
    map: mapCompany,
  },
  {
    logicalName: 'cdm_department',
    target: 'departments',
    key: 'cdm_departmentid',
    select: ['cdm_departmentid', 'cdm_name', 'cdm_departmentnumber', '_cdm_companyid_value', ...AUDIT],
    sensitive: [],
    map: mapDepartment,
  },
  {
    logicalName: 'cdm_job',
    target: 'auxiliary',
    key: 'cdm_jobid',
    select: ['cdm_jobid', 'cdm_name', ...AUDIT],
    sensitive: [],
    map: auxiliaryMapper('cdm_jobid'),
  },
  {
    logicalName: 'cdm_jobposition',
    target: 'job_positions',
    key: 'cdm_jobpositionid',
    select: [
      'cdm_jobpositionid',
      'cdm_jobpositionnumber',
      '_cdm_jobid_value',
      'cdm_description',
      '_cdm_departmentid_value',
      'cdm_fulltimeequivalent',
      'cdm_validfrom',
      'cdm_validto',
      ...AUDIT,
    ],
    sensitive: [],
    map: mapJobPosition,
  },
  {
    logicalName: 'cdm_positionworkerassignmentmap',
    target: 'auxiliary',
    key: 'cdm_positionworkerassignmentmapid',
    select: [
      'cdm_positionworkerassignmentmapid',
      '_cdm_workerid_value',
      '_cdm_jobpositionid_value',
      'cdm_validfrom',
      'cdm_validto',
      ...AUDIT,
    ],
    sensitive: [],
    map: auxiliaryMapper('cdm_positionworkerassignmentmapid', '_cdm_workerid_value'),
  },
  {
    logicalName: 'cdm_worker',
    target: 'employees',
    key: 'cdm_workerid',
    select: [
      'cdm_workerid',
      'cdm_workernumber',
      'cdm_firstname',
      'cdm_middlename',
      'cdm_lastname',
      'cdm_fullname',
      'cdm_primaryemailaddress',
      'cdm_mobilephone',
      'cdm_birthdate',
      '_cdm_managerworkerid_value',
      'cdm_gender',
      'cdm_type',
      'cdm_status',
      ...AUDIT,
    ],
    sensitive: ['cdm_birthdate'],
    map: mapWorker,
  },
  {
    logicalName: 'cdm_employment',
    target: 'employments',
    key: 'cdm_employmentid',
    select: [
      'cdm_employmentid',
      '_cdm_workerid_value',
      '_cdm_companyid_value',
      'cdm_workertype',
      'cdm_employmentstartdate',
      'cdm_employmentenddate',
      ...AUDIT,
    ],
    sensitive: [],
    map: mapEmployment,
  },
  {
    logicalName: 'cdm_benefittype',
    target: 'auxiliary',
    key: 'cdm_benefittypeid',
    // cdm_benefittype's columns are undocumented (reference §5): cdm_category is the sandbox's.
    select: ['cdm_benefittypeid', 'cdm_name', 'cdm_category', ...AUDIT],
    sensitive: [],
    map: auxiliaryMapper('cdm_benefittypeid'),
  },
  {
    logicalName: 'cdm_benefitplan',
    target: 'benefit_plans',
    key: 'cdm_benefitplanid',
    // Undocumented table (reference §5): columns as the sandbox defines them.
    select: [
      'cdm_benefitplanid',
      'cdm_planid',
      'cdm_name',
      'cdm_description',
      '_cdm_benefittypeid_value',
      // The plan's legal entity: F&O enrollments name plans by plan id within a company (fno/derivations.ts).
      '_cdm_companyid_value',
      'cdm_coveragestartdate',
      'cdm_coverageenddate',
      ...AUDIT,
    ],
    sensitive: [],
    map: mapBenefitPlan,
  },
  {
    logicalName: 'cdm_benefitoption',
    target: 'auxiliary',
    key: 'cdm_benefitoptionid',
    select: ['cdm_benefitoptionid', 'cdm_optionid', 'cdm_name', '_cdm_benefitplanid_value', ...AUDIT],
    sensitive: [],
    map: auxiliaryMapper('cdm_benefitoptionid', '_cdm_benefitplanid_value'),
  },
];

/** The Dataverse table that serves each unified model (models absent here come from F&O or nowhere). */
export const DATAVERSE_MODEL_TABLES: Partial<Record<ModelName, string>> = Object.fromEntries(
  DATAVERSE_TABLES.filter((table) => table.target !== 'auxiliary').map((table) => [
    table.target,
    table.logicalName,
  ]),
);
