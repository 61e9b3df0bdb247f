import {
  benefitCategory,
  type OptionSet,
  stateCode,
  statusCode,
  workerGender,
  workerStatus,
  workerType,
} from '../data/option-sets.js';
import type { DataverseEntitySetName } from '../data/types.js';

/**
 * The cdm_ tables the sandbox serves (reference §5), described as data so EntityDefinitions, $select
 * validation, annotations and $expand all read one catalog. Columns marked `invented` are plausible
 * stand-ins where Microsoft does not document the table.
 */
export type ColumnKind =
  | 'Uniqueidentifier'
  | 'String'
  | 'Memo'
  | 'Integer'
  | 'Decimal'
  | 'BigInt'
  | 'DateTime'
  | 'DateOnly'
  | 'Picklist'
  | 'State'
  | 'Status'
  | 'Lookup'
  | 'Owner';

export interface ColumnDefinition {
  /** Logical name (`cdm_managerworkerid`); for lookups the wire key is `_cdm_managerworkerid_value`. */
  logicalName: string;
  kind: ColumnKind;
  optionSet?: OptionSet;
  /** Lookup target table (logical name). */
  target?: string;
  /** Single-valued navigation property for $expand and the associatednavigationproperty annotation [infer]. */
  navigationProperty?: string;
  invented?: boolean;
}

export interface TableDefinition {
  logicalName: string;
  entitySetName: DataverseEntitySetName;
  primaryIdAttribute: string;
  primaryNameAttribute: string;
  objectTypeCode: number;
  columns: ColumnDefinition[];
}

export function wireName(column: ColumnDefinition): string {
  return column.kind === 'Lookup' || column.kind === 'Owner'
    ? `_${column.logicalName}_value`
    : column.logicalName;
}

const commonColumns: ColumnDefinition[] = [
  { logicalName: 'createdon', kind: 'DateTime' },
  { logicalName: 'modifiedon', kind: 'DateTime' },
  { logicalName: 'versionnumber', kind: 'BigInt' },
  { logicalName: 'statecode', kind: 'State', optionSet: stateCode },
  { logicalName: 'statuscode', kind: 'Status', optionSet: statusCode },
  { logicalName: 'ownerid', kind: 'Owner', target: 'systemuser', navigationProperty: 'ownerid' },
];

const lookup = (
  logicalName: string,
  target: string,
  navigationProperty: string,
  invented = false,
): ColumnDefinition => ({
  logicalName,
  kind: 'Lookup',
  target,
  navigationProperty,
  invented,
});

function table(
  logicalName: string,
  entitySetName: DataverseEntitySetName,
  primaryNameAttribute: string,
  objectTypeCode: number,
  columns: ColumnDefinition[],
): TableDefinition {
  return {
    logicalName,
    entitySetName,
    primaryIdAttribute: `${logicalName}id`,
    primaryNameAttribute,
    objectTypeCode,
    columns: [{ logicalName: `${logicalName}id`, kind: 'Uniqueidentifier' }, ...columns, ...commonColumns],
  };
}

export const dataverseCatalog: readonly TableDefinition[] = [
  table('cdm_company', 'cdm_companies', 'cdm_name', 10_011, [
    { logicalName: 'cdm_name', kind: 'String' },
    { logicalName: 'cdm_companycode', kind: 'String' },
  ]),
  table('cdm_department', 'cdm_departments', 'cdm_name', 10_012, [
    { logicalName: 'cdm_name', kind: 'String' },
    { logicalName: 'cdm_departmentnumber', kind: 'String', invented: true },
    { logicalName: 'cdm_description', kind: 'Memo' },
    lookup('cdm_companyid', 'cdm_company', 'cdm_CompanyId', true),
  ]),
  table('cdm_job', 'cdm_jobs', 'cdm_name', 10_013, [
    { logicalName: 'cdm_name', kind: 'String' },
    { logicalName: 'cdm_description', kind: 'Memo' },
  ]),
  table('cdm_jobposition', 'cdm_jobpositions', 'cdm_jobpositionnumber', 10_014, [
    { logicalName: 'cdm_jobpositionnumber', kind: 'String' },
    lookup('cdm_jobid', 'cdm_job', 'cdm_JobId'),
    { logicalName: 'cdm_description', kind: 'Memo' },
    lookup('cdm_departmentid', 'cdm_department', 'cdm_DepartmentId'),
    { logicalName: 'cdm_fulltimeequivalent', kind: 'Decimal' },
    { logicalName: 'cdm_validfrom', kind: 'DateTime' },
    { logicalName: 'cdm_validto', kind: 'DateTime' },
  ]),
  table(
    'cdm_positionworkerassignmentmap',
    'cdm_positionworkerassignmentmaps',
    'cdm_positionworkerassignmentmapid',
    10_015,
    [
      lookup('cdm_workerid', 'cdm_worker', 'cdm_WorkerId'),
      lookup('cdm_jobpositionid', 'cdm_jobposition', 'cdm_JobPositionId'),
      { logicalName: 'cdm_validfrom', kind: 'DateTime' },
      { logicalName: 'cdm_validto', kind: 'DateTime' },
    ],
  ),
  table('cdm_worker', 'cdm_workers', 'cdm_fullname', 10_016, [
    { logicalName: 'cdm_workernumber', kind: 'String' },
    { logicalName: 'cdm_firstname', kind: 'String' },
    { logicalName: 'cdm_middlename', kind: 'String' },
    { logicalName: 'cdm_lastname', kind: 'String' },
    { logicalName: 'cdm_fullname', kind: 'String' },
    { logicalName: 'cdm_primaryemailaddress', kind: 'String' },
    { logicalName: 'cdm_primarytelephone', kind: 'String' },
    { logicalName: 'cdm_mobilephone', kind: 'String' },
    { logicalName: 'cdm_birthdate', kind: 'DateOnly' },
    lookup('cdm_managerworkerid', 'cdm_worker', 'cdm_ManagerWorkerId'),
    { logicalName: 'cdm_gender', kind: 'Picklist', optionSet: workerGender },
    { logicalName: 'cdm_type', kind: 'Picklist', optionSet: workerType },
    { logicalName: 'cdm_status', kind: 'Picklist', optionSet: workerStatus },
  ]),
  table('cdm_employment', 'cdm_employments', 'cdm_employmentid', 10_017, [
    lookup('cdm_workerid', 'cdm_worker', 'cdm_WorkerId'),
    lookup('cdm_companyid', 'cdm_company', 'cdm_CompanyId'),
    { logicalName: 'cdm_workertype', kind: 'Picklist', optionSet: workerType },
    { logicalName: 'cdm_employmentstartdate', kind: 'DateTime' },
    { logicalName: 'cdm_employmentenddate', kind: 'DateTime' },
    { logicalName: 'cdm_adjustedworkerstartdate', kind: 'DateTime' },
    { logicalName: 'cdm_lastdateworked', kind: 'DateTime' },
    { logicalName: 'cdm_validfrom', kind: 'DateTime' },
    { logicalName: 'cdm_validto', kind: 'DateTime' },
  ]),
  table('cdm_benefittype', 'cdm_benefittypes', 'cdm_name', 10_021, [
    { logicalName: 'cdm_name', kind: 'String', invented: true },
    { logicalName: 'cdm_description', kind: 'Memo', invented: true },
    { logicalName: 'cdm_category', kind: 'Picklist', optionSet: benefitCategory, invented: true },
  ]),
  table('cdm_benefitplan', 'cdm_benefitplans', 'cdm_name', 10_022, [
    { logicalName: 'cdm_planid', kind: 'String', invented: true },
    { logicalName: 'cdm_name', kind: 'String', invented: true },
    { logicalName: 'cdm_description', kind: 'Memo', invented: true },
    lookup('cdm_benefittypeid', 'cdm_benefittype', 'cdm_BenefitTypeId', true),
    lookup('cdm_companyid', 'cdm_company', 'cdm_CompanyId', true),
    { logicalName: 'cdm_coveragestartdate', kind: 'DateTime', invented: true },
    { logicalName: 'cdm_coverageenddate', kind: 'DateTime', invented: true },
  ]),
  table('cdm_benefitoption', 'cdm_benefitoptions', 'cdm_name', 10_023, [
    { logicalName: 'cdm_optionid', kind: 'String', invented: true },
    { logicalName: 'cdm_name', kind: 'String', invented: true },
    { logicalName: 'cdm_description', kind: 'Memo', invented: true },
    lookup('cdm_benefitplanid', 'cdm_benefitplan', 'cdm_BenefitPlanId', true),
  ]),
];
