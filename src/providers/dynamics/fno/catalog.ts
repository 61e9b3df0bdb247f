import type { ModelName } from '../../../unified/models.js';
import type { StreamTarget } from '../../types.js';
import type { SourceId } from '../published-sources.js';
import {
  benefitPlanFields,
  companyFields,
  coveredDependentFields,
  departmentFields,
  employmentFields,
  enrolledBenefitFields,
  type FnoRowMapper,
  mapCoveredDependent,
  mapEnrolledBenefit,
  mapFnoBenefitPlan,
  mapFnoCompany,
  mapFnoDepartment,
  mapFnoEmployment,
  mapFnoPosition,
  mapFnoWorker,
  mapPersonalContact,
  mapPositionHierarchy,
  personalContactFields,
  positionFields,
  positionHierarchyFields,
  workerFields,
} from './mappers.js';

/**
 * The F&O data entities the fallback reads, each entity and field citing its publication
 * (published-sources.ts; docs/microsoft-wire.md, "F&O data entities"). OData entity-set names are not
 * published, so an entity is recognised in `$metadata` by its properties (`signature`), preferring the
 * usual set name; DMF data files are named after the entity (`Worker personal contact person.csv`).
 */
interface FnoEntityOf<Target extends StreamTarget> {
  /** Stable id used in source names and settings. */
  id:
    | 'workers'
    | 'employments'
    | 'personal-contacts'
    | 'enrolled-benefits'
    | 'covered-dependents'
    | 'companies'
    | 'departments'
    | 'positions'
    | 'position-hierarchies'
    | 'benefit-plans';
  target: Target;
  /** Human name, for reasons shown in sync status. */
  title: string;
  /** The publication of the data entity. */
  source: SourceId;
  /** The publication of each field (`discovered`: read only where $metadata lists it). */
  fieldSources: Readonly<Record<string, SourceId>>;
  /** The entity-set name seen in Microsoft's environments or our sandbox; tried first. */
  preferredSetName: string;
  /** Properties an entity type must all have to be this entity. */
  signature: readonly string[];
  /** The entity's name in DMF (data project), i.e. the package's data file name without `.csv`. */
  dmfEntityName: string;
  fields: readonly string[];
  /** Fields that carry a sensitive unified field: cut from remote_data unless sensitive reads are allowed. */
  sensitive: readonly string[];
  numericFields: readonly string[];
  /** What the entity cannot fill that the Dataverse table does, said in sync status (docs/fno-fallback.md). */
  cannotFill?: string;
  /** Company-specific entities need `cross-company=true` to return every legal entity. */
  companySpecific: boolean;
  /** Maps a row to a record of `target`: a mapper for another model does not compile here. */
  map: FnoRowMapper<Target>;
}

/** An entity, its target and its mapper agreeing (one member per target). */
export type FnoEntity = { [Target in StreamTarget]: FnoEntityOf<Target> }[StreamTarget];

/** Every field from one publication, except those named otherwise. */
function cite(
  fields: readonly string[],
  source: SourceId,
  except: Readonly<Record<string, SourceId>> = {},
): Readonly<Record<string, SourceId>> {
  return Object.fromEntries(fields.map((field) => [field, except[field] ?? source]));
}

export const FNO_ENTITIES: readonly FnoEntity[] = [
  {
    id: 'workers',
    target: 'employees',
    title: 'Workers',
    source: 'cdm-hcm-worker-entity',
    // HcmWorkerEntity has no employment dates (the employment entities do).
    fieldSources: cite(workerFields, 'cdm-hcm-worker-entity', {
      EmploymentStartDate: 'discovered',
      EmploymentEndDate: 'discovered',
    }),
    preferredSetName: 'Workers',
    signature: ['PersonnelNumber', 'FirstName', 'LastName'],
    cannotFill:
      "F&O's Worker entity has no mobile phone: employees' mobile_phone_number stays empty. Managers come from the position hierarchy when positions are read from F&O too.",
    dmfEntityName: 'Worker',
    fields: workerFields,
    sensitive: ['BirthDate'],
    numericFields: [],
    companySpecific: false,
    map: mapFnoWorker,
  },
  {
    id: 'employments',
    target: 'employments',
    title: 'Employments',
    source: 'cdm-hcm-employment-entity',
    fieldSources: cite(employmentFields, 'cdm-hcm-employment-entity'),
    // No published entity-set name: recognised in $metadata by its fields alone.
    preferredSetName: '',
    signature: ['PersonnelNumber', 'LegalEntityId', 'EmploymentStartDate'],
    dmfEntityName: 'Employment',
    fields: employmentFields,
    sensitive: [],
    numericFields: [],
    companySpecific: false,
    map: mapFnoEmployment,
  },
  {
    id: 'personal-contacts',
    target: 'dependents',
    title: 'Worker personal contact persons',
    source: 'cdm-hcm-personal-contact-person-entity',
    fieldSources: cite(personalContactFields, 'cdm-hcm-personal-contact-person-entity'),
    preferredSetName: 'WorkerPersonalContactPersons',
    signature: ['WorkerPersonnelNumber', 'ContactPersonPartyNumber', 'IsDependent'],
    dmfEntityName: 'Worker personal contact person',
    fields: personalContactFields,
    sensitive: ['BirthDate'],
    numericFields: [],
    companySpecific: false,
    map: mapPersonalContact,
  },
  {
    id: 'enrolled-benefits',
    target: 'benefit_enrollments',
    title: 'Worker enrolled benefits',
    source: 'cdm-payroll-worker-enrolled-benefit-inquiry-entity',
    fieldSources: cite(enrolledBenefitFields, 'cdm-payroll-worker-enrolled-benefit-inquiry-entity'),
    preferredSetName: 'WorkerEnrolledBenefits',
    signature: ['PersonnelNumber', 'BenefitId', 'BenefitPlanID', 'ValidFrom'],
    dmfEntityName: 'Worker enrolled benefit',
    fields: enrolledBenefitFields,
    sensitive: [],
    numericFields: ['DeductionAmountCur', 'ContributionAmountCur'],
    // No company relationship is published for it (docs/microsoft-wire.md): read as a shared entity.
    companySpecific: false,
    map: mapEnrolledBenefit,
  },
  {
    id: 'covered-dependents',
    target: 'auxiliary',
    title: 'Covered dependent relationships',
    source: 'cdm-hcm-covered-dependent-relationship-entity',
    fieldSources: cite(coveredDependentFields, 'cdm-hcm-covered-dependent-relationship-entity'),
    preferredSetName: 'CoveredDependentRelationships',
    signature: ['PersonnelNumber', 'BenefitId', 'EnrollmentStart', 'ChildPartyId'],
    dmfEntityName: 'Covered dependent relationship',
    fields: coveredDependentFields,
    sensitive: [],
    numericFields: [],
    companySpecific: false,
    map: mapCoveredDependent,
  },
  {
    id: 'companies',
    target: 'companies',
    title: 'Legal entities',
    source: 'cdm-company-info-entity',
    fieldSources: cite(companyFields, 'cdm-company-info-entity'),
    preferredSetName: '',
    signature: ['DataArea', 'Name'],
    dmfEntityName: 'View companies',
    fields: companyFields,
    sensitive: [],
    numericFields: [],
    companySpecific: false,
    map: mapFnoCompany,
  },
  {
    id: 'departments',
    target: 'departments',
    title: 'Departments',
    source: 'cdm-om-department-entity',
    fieldSources: cite(departmentFields, 'cdm-om-department-entity'),
    preferredSetName: '',
    // SearchName tells the department entity from the operating-unit entity (which has NameAlias).
    signature: ['OperatingUnitNumber', 'Name', 'SearchName'],
    dmfEntityName: 'Department',
    fields: departmentFields,
    sensitive: [],
    numericFields: [],
    companySpecific: false,
    map: mapFnoDepartment,
  },
  {
    id: 'positions',
    target: 'job_positions',
    title: 'Positions',
    source: 'cdm-hcm-position-v2-entity',
    fieldSources: cite(positionFields, 'cdm-hcm-position-v2-entity'),
    preferredSetName: '',
    signature: ['PositionId', 'JobId', 'DepartmentNumber', 'WorkerPersonnelNumber'],
    dmfEntityName: 'Positions V2',
    fields: positionFields,
    sensitive: [],
    numericFields: ['FullTimeEquivalent'],
    companySpecific: false,
    map: mapFnoPosition,
  },
  {
    id: 'position-hierarchies',
    target: 'auxiliary',
    title: 'Position hierarchies',
    source: 'cdm-hcm-position-hierarchy-entity',
    fieldSources: cite(positionHierarchyFields, 'cdm-hcm-position-hierarchy-entity'),
    preferredSetName: '',
    signature: ['PositionId', 'ParentPositionId', 'HierarchyTypeName'],
    dmfEntityName: 'Position hierarchies',
    fields: positionHierarchyFields,
    sensitive: [],
    numericFields: [],
    companySpecific: false,
    map: mapPositionHierarchy,
  },
  {
    id: 'benefit-plans',
    target: 'benefit_plans',
    title: 'Benefit plans',
    source: 'cdm-hcm-benefit-plan-entity',
    fieldSources: cite(benefitPlanFields, 'cdm-hcm-benefit-plan-entity'),
    preferredSetName: '',
    signature: ['Plan', 'TypeId', 'Description'],
    dmfEntityName: 'Benefit plan',
    fields: benefitPlanFields,
    sensitive: [],
    numericFields: [],
    companySpecific: false,
    map: mapFnoBenefitPlan,
  },
];

/** Auxiliary entities read with a model: enrollments' coverage links, positions' reporting lines. */
const AUXILIARY: Partial<Record<ModelName, FnoEntity['id']>> = {
  benefit_enrollments: 'covered-dependents',
  job_positions: 'position-hierarchies',
};

/** The F&O entities a model needs (its own, then the auxiliary one it brings along). */
export function fnoEntitiesFor(model: ModelName): FnoEntity[] {
  return FNO_ENTITIES.filter((entity) => entity.target === model || entity.id === AUXILIARY[model]);
}

/** Models F&O can serve: every model. */
export const FNO_MODELS: readonly ModelName[] = [
  'companies',
  'departments',
  'job_positions',
  'employees',
  'employments',
  'dependents',
  'benefit_plans',
  'benefit_enrollments',
];
