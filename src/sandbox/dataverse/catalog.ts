import { adapterColumnSource } from '../../providers/dynamics/dataverse/catalog.js';
import type { SourceId } from '../../providers/dynamics/published-sources.js';
import {
  benefitEmployeePlanStatus,
  type OptionSet,
  stateCode,
  statusCode,
  workerGender,
  workerStatus,
  workerType,
} from '../data/option-sets.js';
import type { DataverseEntitySetName } from '../data/types.js';

/**
 * The cdm_ tables the sandbox serves, described as data so EntityDefinitions, $select validation,
 * annotations and $expand all read one catalog. Every column cites a Microsoft publication
 * (src/providers/dynamics/published-sources.ts, docs/microsoft-wire.md): a column the adapter reads
 * takes the adapter catalog's citation (so the two cannot disagree about a column Microsoft lacks),
 * any other must name its own. Columns the adapter marks `discovered` are served as a tenant may
 * have them; controls can remove a column to play a tenant without it.
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
  /** The publication the column comes from. */
  source: SourceId;
}

export interface TableDefinition {
  logicalName: string;
  entitySetName: DataverseEntitySetName;
  primaryIdAttribute: string;
  primaryNameAttribute: string;
  objectTypeCode: number;
  columns: ColumnDefinition[];
}

export function wireName(column: Pick<ColumnDefinition, 'kind' | 'logicalName'>): string {
  return column.kind === 'Lookup' || column.kind === 'Owner'
    ? `_${column.logicalName}_value`
    : column.logicalName;
}

type ColumnSpec = Omit<ColumnDefinition, 'source'> & { source?: SourceId };

const commonColumns: ColumnSpec[] = [
  { logicalName: 'createdon', kind: 'DateTime', source: 'dataverse-table-reference' },
  { logicalName: 'modifiedon', kind: 'DateTime', source: 'dataverse-table-reference' },
  { logicalName: 'versionnumber', kind: 'BigInt', source: 'dataverse-table-reference' },
  { logicalName: 'statecode', kind: 'State', optionSet: stateCode, source: 'dataverse-table-reference' },
  { logicalName: 'statuscode', kind: 'Status', optionSet: statusCode, source: 'dataverse-table-reference' },
  {
    logicalName: 'ownerid',
    kind: 'Owner',
    target: 'systemuser',
    navigationProperty: 'ownerid',
    source: 'dataverse-table-reference',
  },
];

const lookup = (logicalName: string, target: string, navigationProperty: string): ColumnSpec => ({
  logicalName,
  kind: 'Lookup',
  target,
  navigationProperty,
});

/** The column's citation: the adapter's for a column it reads, else the one given here. */
function cite(table: string, spec: ColumnSpec): ColumnDefinition {
  const adapter = adapterColumnSource(table, wireName(spec));
  const source = adapter ?? spec.source;
  if (!source) throw new Error(`sandbox catalog: ${table}.${spec.logicalName} cites no publication`);
  if (adapter && spec.source && spec.source !== adapter) {
    throw new Error(
      `sandbox catalog: ${table}.${spec.logicalName} cites ${spec.source}, the adapter ${adapter}`,
    );
  }
  return { ...spec, source };
}

function table(
  logicalName: string,
  entitySetName: DataverseEntitySetName,
  primaryNameAttribute: string,
  objectTypeCode: number,
  columns: ColumnSpec[],
): TableDefinition {
  return {
    logicalName,
    entitySetName,
    primaryIdAttribute: `${logicalName}id`,
    primaryNameAttribute,
    objectTypeCode,
    columns: [
      {
        logicalName: `${logicalName}id`,
        kind: 'Uniqueidentifier',
        source: 'dataverse-query-metadata',
      } as const,
      ...columns,
      ...commonColumns,
    ].map((spec: ColumnSpec) => cite(logicalName, spec)),
  };
}

const integration = 'hr-dataverse-integration' as const;
const payroll = 'payroll-worker-benefit-plan' as const;

export const dataverseCatalog: readonly TableDefinition[] = [
  table('cdm_company', 'cdm_companies', 'cdm_name', 10_011, [
    { logicalName: 'cdm_name', kind: 'String' },
    { logicalName: 'cdm_companycode', kind: 'String' },
  ]),
  table('cdm_department', 'cdm_departments', 'cdm_name', 10_012, [
    { logicalName: 'cdm_name', kind: 'String' },
    { logicalName: 'cdm_departmentnumber', kind: 'String' },
    { logicalName: 'cdm_description', kind: 'Memo', source: integration },
  ]),
  table('cdm_job', 'cdm_jobs', 'cdm_name', 10_013, [
    { logicalName: 'cdm_name', kind: 'String' },
    { logicalName: 'cdm_description', kind: 'Memo', source: integration },
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
    { logicalName: 'cdm_primarytelephone', kind: 'String', source: integration },
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
    { logicalName: 'cdm_adjustedworkerstartdate', kind: 'DateTime', source: integration },
    { logicalName: 'cdm_lastdateworked', kind: 'DateTime', source: integration },
    { logicalName: 'cdm_validfrom', kind: 'DateTime', source: integration },
    { logicalName: 'cdm_validto', kind: 'DateTime', source: integration },
  ]),
  table('cdm_benefittype', 'cdm_benefittypes', 'cdm_name', 10_021, [
    { logicalName: 'cdm_name', kind: 'String' },
    { logicalName: 'cdm_description', kind: 'Memo', source: integration },
  ]),
  table('cdm_benefitplan', 'cdm_benefitplans', 'cdm_name', 10_022, [
    { logicalName: 'cdm_name', kind: 'String' },
    { logicalName: 'cdm_description', kind: 'Memo' },
    lookup('cdm_benefittypeid', 'cdm_benefittype', 'cdm_BenefitTypeId'),
  ]),
  table('cdm_benefitoption', 'cdm_benefitoptions', 'cdm_name', 10_023, [
    { logicalName: 'cdm_name', kind: 'String', source: integration },
    { logicalName: 'cdm_description', kind: 'Memo', source: integration },
  ]),
  // A virtual table of the payroll API (served by tenants of the virtual-tables shape only).
  table(
    'mshr_payrollworkerbenefitplanentity',
    'mshr_payrollworkerbenefitplanentities',
    'mshr_primaryfield',
    10_031,
    [
      { logicalName: 'mshr_primaryfield', kind: 'String', source: payroll },
      { logicalName: 'mshr_personnelnumber', kind: 'String' },
      { logicalName: 'mshr_legalentityid', kind: 'String', source: payroll },
      { logicalName: 'mshr_planid', kind: 'String' },
      { logicalName: 'mshr_coverageoptionid', kind: 'String' },
      { logicalName: 'mshr_deductionstartdatetime', kind: 'DateTime' },
      { logicalName: 'mshr_deductionenddatetime', kind: 'DateTime' },
      { logicalName: 'mshr_status', kind: 'Picklist', optionSet: benefitEmployeePlanStatus },
      { logicalName: 'mshr_plantypeid', kind: 'String', source: payroll },
      { logicalName: 'mshr_amountemployee', kind: 'Decimal' },
      { logicalName: 'mshr_amountemployer', kind: 'Decimal' },
    ],
  ),
];
