import type { ModelName } from '../../../unified/models.js';
import type { SourceId } from '../published-sources.js';
import {
  coveredBeneficiaryFields,
  employmentFields,
  enrolledBenefitFields,
  type FnoRowMapper,
  mapCoveredBeneficiary,
  mapEnrolledBenefit,
  mapFnoEmployment,
  mapFnoWorker,
  mapPersonalContact,
  personalContactFields,
  workerFields,
} from './mappers.js';

/**
 * The F&O data entities the fallback reads, each entity and field citing its publication
 * (published-sources.ts; docs/microsoft-wire.md, "F&O data entities"). OData entity-set names are not
 * published, so an entity is recognised in `$metadata` by its properties (`signature`), preferring the
 * usual set name; DMF data files are named after the entity (`Worker personal contact person.csv`).
 * The enrolled-benefit and covered-beneficiary entities are `unpublished`: open work, see the docs.
 */
export interface FnoEntity {
  /** Stable id used in source names and settings. */
  id: 'workers' | 'employments' | 'personal-contacts' | 'enrolled-benefits' | 'covered-beneficiaries';
  target: ModelName | 'auxiliary';
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
  /** Company-specific entities need `cross-company=true` to return every legal entity. */
  companySpecific: boolean;
  map: FnoRowMapper;
}

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
    source: 'unpublished',
    fieldSources: cite(enrolledBenefitFields, 'unpublished', { dataAreaId: 'fno-odata' }),
    preferredSetName: 'WorkerEnrolledBenefits',
    signature: ['EnrolledBenefitRecordId', 'WorkerPersonnelNumber', 'BenefitPlanId'],
    dmfEntityName: 'Worker enrolled benefit',
    fields: enrolledBenefitFields,
    sensitive: [],
    numericFields: ['EnrolledBenefitRecordId', 'EmployeeContributionAmount', 'EmployerContributionAmount'],
    companySpecific: true,
    map: mapEnrolledBenefit,
  },
  {
    id: 'covered-beneficiaries',
    target: 'auxiliary',
    title: 'Covered beneficiary relationships',
    source: 'unpublished',
    fieldSources: cite(coveredBeneficiaryFields, 'unpublished', { dataAreaId: 'fno-odata' }),
    preferredSetName: 'CoveredBeneficiaryRelationships',
    signature: ['WorkerEnrolledBenefitRecordID', 'ChildParty'],
    dmfEntityName: 'Covered beneficiary relationship',
    fields: coveredBeneficiaryFields,
    sensitive: [],
    numericFields: ['WorkerEnrolledBenefitRecordID', 'Percentage'],
    companySpecific: true,
    map: mapCoveredBeneficiary,
  },
];

/** The F&O entities a model needs (enrollments bring their coverage links along). */
export function fnoEntitiesFor(model: ModelName): FnoEntity[] {
  if (model === 'benefit_enrollments') {
    return FNO_ENTITIES.filter(
      (entity) => entity.id === 'enrolled-benefits' || entity.id === 'covered-beneficiaries',
    );
  }
  return FNO_ENTITIES.filter((entity) => entity.target === model);
}

/** Models F&O can serve. */
export const FNO_MODELS: readonly ModelName[] = [
  'employees',
  'employments',
  'dependents',
  'benefit_enrollments',
];
