import type { SourceId } from '../../providers/dynamics/published-sources.js';
import type { FnoEntitySetName } from '../data/types.js';

/**
 * F&O data entities served by the sandbox, each citing the publication of the adapter's entity
 * (src/providers/dynamics/fno/catalog.ts, docs/microsoft-wire.md). OData entity-set names are not
 * published: clients should read them from /data/$metadata. The enrolled-benefit and
 * covered-beneficiary entities are `unpublished` (open work, see the docs).
 */
export interface FnoField {
  name: string;
  edmType: 'Edm.String' | 'Edm.DateTimeOffset' | 'Edm.Int64' | 'Edm.Decimal' | 'Enum';
  /** For enums: the type name used in filter literals, e.g. `Microsoft.Dynamics.DataEntities.Gender`. */
  enumType?: string;
}

export interface FnoEntityDefinition {
  entitySetName: FnoEntitySetName;
  /** The publication of the data entity (the adapter catalog's). */
  source: SourceId;
  /** Singular OData entity type name. */
  entityTypeName: string;
  /** DMF entity name (data file `${dmfEntityName}.csv`) and target entity. */
  dmfEntityName: string;
  targetEntity: string;
  companySpecific: boolean;
  keys: string[];
  fields: FnoField[];
}

const enumNamespace = 'Microsoft.Dynamics.DataEntities';
const noYes: FnoField['enumType'] = `${enumNamespace}.NoYes`;
const text = (name: string): FnoField => ({ name, edmType: 'Edm.String' });
const date = (name: string): FnoField => ({ name, edmType: 'Edm.DateTimeOffset' });
const flag = (name: string): FnoField => ({ name, edmType: 'Enum', enumType: noYes });
const enumeration = (name: string, type: string): FnoField => ({
  name,
  edmType: 'Enum',
  enumType: `${enumNamespace}.${type}`,
});

const fnoCatalogEntities: FnoEntityDefinition[] = [
  {
    entitySetName: 'Workers',
    source: 'cdm-hcm-worker-entity',
    entityTypeName: 'Worker',
    dmfEntityName: 'Worker',
    targetEntity: 'HcmWorkerEntity',
    companySpecific: false,
    keys: ['PersonnelNumber'],
    fields: [
      text('PersonnelNumber'),
      text('PartyNumber'),
      text('Name'),
      text('FirstName'),
      text('MiddleName'),
      text('LastName'),
      enumeration('Gender', 'Gender'),
      date('BirthDate'),
      text('PrimaryContactEmail'),
      text('PrimaryContactPhone'),
      enumeration('WorkerType', 'HcmWorkerType'),
      date('EmploymentStartDate'),
      date('EmploymentEndDate'),
    ],
  },
  {
    entitySetName: 'WorkerPersonalContactPersons',
    source: 'cdm-hcm-personal-contact-person-entity',
    entityTypeName: 'WorkerPersonalContactPerson',
    dmfEntityName: 'Worker personal contact person',
    targetEntity: 'HcmPersonalContactPersonEntity',
    companySpecific: false,
    keys: ['WorkerPersonnelNumber', 'ContactPersonPartyNumber'],
    fields: [
      text('WorkerPersonnelNumber'),
      text('ContactPersonPartyNumber'),
      text('RelationshipType'),
      text('ContactFirstName'),
      text('ContactMiddleName'),
      text('ContactLastName'),
      flag('IsDependent'),
      flag('IsBeneficiary'),
      flag('IsEmergencyContact'),
      flag('IsDependentCourtOrdered'),
      flag('IsDependentDomesticPartnerVerified'),
      enumeration('Gender', 'Gender'),
      date('BirthDate'),
      flag('IsFulltimeStudent'),
      flag('IsDisabled'),
    ],
  },
  {
    entitySetName: 'WorkerEnrolledBenefits',
    source: 'unpublished',
    entityTypeName: 'WorkerEnrolledBenefit',
    dmfEntityName: 'Worker enrolled benefit',
    targetEntity: 'HcmWorkerEnrolledBenefitEntity',
    companySpecific: true,
    keys: ['dataAreaId', 'EnrolledBenefitRecordId'],
    fields: [
      text('dataAreaId'),
      { name: 'EnrolledBenefitRecordId', edmType: 'Edm.Int64' },
      text('WorkerPersonnelNumber'),
      text('BenefitPlanId'),
      text('BenefitTypeId'),
      text('BenefitOptionId'),
      date('CoverageStartDate'),
      date('CoverageEndDate'),
      { name: 'EmployeeContributionAmount', edmType: 'Edm.Decimal' },
      { name: 'EmployerContributionAmount', edmType: 'Edm.Decimal' },
      enumeration('EnrollmentStatus', 'HcmBenefitEnrollmentStatus'),
    ],
  },
  {
    entitySetName: 'CoveredBeneficiaryRelationships',
    source: 'unpublished',
    entityTypeName: 'CoveredBeneficiaryRelationship',
    dmfEntityName: 'Covered beneficiary relationship',
    targetEntity: 'HcmCoveredBeneficiaryRelationshipEntity',
    companySpecific: true,
    keys: ['dataAreaId', 'WorkerEnrolledBenefitRecordID', 'ChildParty'],
    fields: [
      text('dataAreaId'),
      { name: 'WorkerEnrolledBenefitRecordID', edmType: 'Edm.Int64' },
      text('ChildParty'),
      text('PartyRelationship'),
      flag('Designated'),
      { name: 'Percentage', edmType: 'Edm.Decimal' },
    ],
  },
];

// The Employment entity (HcmEmploymentEntity), after the four above so older definition groups keep their files.
fnoCatalogEntities.push({
  entitySetName: 'Employments',
  source: 'cdm-hcm-employment-entity',
  entityTypeName: 'Employment',
  dmfEntityName: 'Employment',
  targetEntity: 'HcmEmploymentEntity',
  companySpecific: false,
  keys: ['PersonnelNumber', 'LegalEntityId', 'EmploymentStartDate'],
  fields: [
    text('PersonnelNumber'),
    text('LegalEntityId'),
    date('EmploymentStartDate'),
    date('EmploymentEndDate'),
    enumeration('WorkerType', 'HcmWorkerType'),
  ],
});

export const fnoCatalog: readonly FnoEntityDefinition[] = fnoCatalogEntities;

export function findFnoEntity(entitySetName: string): FnoEntityDefinition | undefined {
  return fnoCatalog.find((entity) => entity.entitySetName === entitySetName);
}
