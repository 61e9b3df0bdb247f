import { randomBytes } from 'node:crypto';
import type { GeneratedOrganisation } from '../data/types.js';

/** One Finance & Operations environment: its data entities and DMF definition groups and executions. */
export type FnoExportOutcome = 'Succeeded' | 'PartiallySucceeded' | 'Failed';
/** Source formats of the data project ("XML-Element" is one of F&O's default formats besides CSV). */
export type DmfSourceFormat = 'CSV-Unicode' | 'CSV-UTF8' | 'XML-Element';

export interface DefinitionGroup {
  name: string;
  /** Entity sets exported (one data file each). */
  entitySets: Array<keyof GeneratedOrganisation['fno']>;
  sourceFormat: DmfSourceFormat;
  /**
   * Change tracking on the project's entities: an export holds only rows created or updated since the
   * project's last export ("Data management package REST API", ExportToPackage), never deletions.
   */
  changeTracking?: boolean;
  /** Change tracking: the row objects (rows are immutable) the last export saw, per entity set. */
  exportedRows?: Map<string, Set<object>>;
}

export interface DmfExecution {
  executionId: string;
  group: DefinitionGroup;
  packageName: string;
  legalEntityId: string;
  startedAt: number;
  durationMs: number;
  outcome: FnoExportOutcome;
  /** Before this time F&O answers "Execution details were not found" for the id (job not created yet). */
  visibleAt: number;
  /**
   * Rows of the project's entity sets as they were when the export ran (rows are immutable, so a shallow
   * copy is a snapshot); other entity sets are absent.
   */
  snapshot: Partial<GeneratedOrganisation['fno']>;
}

export interface FnoEnvironment {
  envName: string;
  url: string;
  tenantId: string;
  /** The user's default legal entity: company-specific entities without cross-company return only it. */
  defaultCompany: string;
  data: GeneratedOrganisation['fno'];
  definitionGroups: Map<string, DefinitionGroup>;
  executions: Map<string, DmfExecution>;
  exportOutcome: FnoExportOutcome;
  exportDurationMs: number;
  /** How long a new execution id stays unknown to the status actions ("execution not found"). */
  executionNotFoundMs: number;
  /** Exports whose execution F&O never creates: the status stays Unknown for good. */
  loseExecutions: boolean;
  packageUrlLifetimeSeconds: number;
  /** Signs package download URLs (the SAS of the blob). */
  packageSigningKey: Buffer;
  /** Fields an entity lacks in this environment (controls: removeFnoField), by entity set. */
  removedFields: Map<string, Set<string>>;
}

const allEntitySets: DefinitionGroup['entitySets'] = [
  'Workers',
  'WorkerPersonalContactPersons',
  'WorkerEnrolledBenefits',
  'CoveredDependentRelationships',
  'Employments',
  'Companies',
  'Departments',
  'PositionsV2',
  'PositionHierarchies',
  'BenefitPlans',
];

export function createFnoEnvironment(options: {
  envName: string;
  url: string;
  tenantId: string;
  organisation: GeneratedOrganisation;
  exportDurationMs: number;
  packageUrlLifetimeSeconds: number;
}): FnoEnvironment {
  const groups: DefinitionGroup[] = [
    { name: 'HR export', entitySets: allEntitySets, sourceFormat: 'CSV-Unicode' },
    { name: 'HR export UTF8', entitySets: allEntitySets, sourceFormat: 'CSV-UTF8' },
    { name: 'Export Workers', entitySets: ['Workers'], sourceFormat: 'CSV-Unicode' },
    { name: 'Export Dependents', entitySets: ['WorkerPersonalContactPersons'], sourceFormat: 'CSV-Unicode' },
    { name: 'HR export XML', entitySets: allEntitySets, sourceFormat: 'XML-Element' },
    {
      name: 'HR export tracked',
      entitySets: allEntitySets,
      sourceFormat: 'CSV-Unicode',
      changeTracking: true,
    },
  ];
  const firstCompany = options.organisation.dataverse.cdm_companies[0]?.cdm_companycode ?? 'USMF';
  return {
    envName: options.envName,
    url: options.url,
    tenantId: options.tenantId,
    defaultCompany: firstCompany.toLowerCase(),
    data: options.organisation.fno,
    definitionGroups: new Map(groups.map((group) => [group.name, group])),
    executions: new Map(),
    exportOutcome: 'Succeeded',
    exportDurationMs: options.exportDurationMs,
    executionNotFoundMs: 0,
    loseExecutions: false,
    packageUrlLifetimeSeconds: options.packageUrlLifetimeSeconds,
    removedFields: new Map(),
    packageSigningKey: randomBytes(32),
  };
}
