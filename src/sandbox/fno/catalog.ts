import type { SourceId } from '../../providers/dynamics/published-sources.js';
import type { FnoEntitySetName } from '../data/types.js';

/**
 * F&O data entities served by the sandbox, each citing the publication of the adapter's entity
 * (src/providers/dynamics/fno/catalog.ts, docs/microsoft-wire.md). OData entity-set names are not
 * published: clients should read them from /data/$metadata; DMF entity names are the entities'
 * display names where the Common Data Model gives one (docs/microsoft-wire.md, "F&O data entities").
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
const decimal = (name: string): FnoField => ({ name, edmType: 'Edm.Decimal' });
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
    source: 'cdm-payroll-worker-enrolled-benefit-inquiry-entity',
    entityTypeName: 'WorkerEnrolledBenefit',
    dmfEntityName: 'Worker enrolled benefit',
    targetEntity: 'PayrollWorkerEnrolledBenefitInquiryEntity',
    // No company relationship in the Payroll manifest (docs/microsoft-wire.md): a shared entity.
    companySpecific: false,
    keys: ['PersonnelNumber', 'ValidFrom', 'BenefitId'],
    fields: [
      text('PersonnelNumber'),
      text('BenefitId'),
      text('BenefitPlanID'),
      text('BenefitOptionID'),
      text('BenefitTypeId'),
      date('ValidFrom'),
      date('ValidTo'),
      decimal('DeductionAmountCur'),
      decimal('ContributionAmountCur'),
    ],
  },
  {
    entitySetName: 'CoveredDependentRelationships',
    source: 'cdm-hcm-covered-dependent-relationship-entity',
    entityTypeName: 'CoveredDependentRelationship',
    dmfEntityName: 'Covered dependent relationship',
    targetEntity: 'HcmCoveredDependentRelationshipEntity',
    companySpecific: false,
    keys: ['PersonnelNumber', 'BenefitId', 'EnrollmentStart', 'ChildPartyId'],
    fields: [
      text('PersonnelNumber'),
      text('BenefitId'),
      date('EnrollmentStart'),
      date('EnrollmentEnd'),
      text('ChildPartyId'),
      text('RelationshipTypeId'),
    ],
  },
];

// After the four above so older definition groups keep their files.
fnoCatalogEntities.push(
  {
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
  },
  {
    entitySetName: 'Companies',
    source: 'cdm-company-info-entity',
    entityTypeName: 'Company',
    dmfEntityName: 'View companies',
    targetEntity: 'CompanyInfoEntity',
    companySpecific: false,
    keys: ['DataArea'],
    fields: [text('DataArea'), text('Name')],
  },
  {
    entitySetName: 'Departments',
    source: 'cdm-om-department-entity',
    entityTypeName: 'Department',
    dmfEntityName: 'Department',
    targetEntity: 'OMDepartmentEntity',
    companySpecific: false,
    keys: ['OperatingUnitNumber'],
    fields: [text('OperatingUnitNumber'), text('Name'), text('SearchName')],
  },
  {
    entitySetName: 'PositionsV2',
    source: 'cdm-hcm-position-v2-entity',
    entityTypeName: 'PositionV2',
    dmfEntityName: 'Positions V2',
    targetEntity: 'HcmPositionV2Entity',
    companySpecific: false,
    keys: ['PositionId'],
    fields: [
      text('PositionId'),
      text('JobId'),
      text('Description'),
      text('DepartmentNumber'),
      decimal('FullTimeEquivalent'),
      date('Activation'),
      date('Retirement'),
      text('WorkerPersonnelNumber'),
      date('WorkerAssignmentStart'),
      date('WorkerAssignmentEnd'),
    ],
  },
  {
    entitySetName: 'PositionHierarchies',
    source: 'cdm-hcm-position-hierarchy-entity',
    entityTypeName: 'PositionHierarchy',
    dmfEntityName: 'Position hierarchies',
    targetEntity: 'HcmPositionHierarchyEntity',
    companySpecific: false,
    keys: ['PositionId', 'ValidFrom', 'HierarchyTypeName'],
    fields: [
      text('PositionId'),
      text('ParentPositionId'),
      text('HierarchyTypeName'),
      date('ValidFrom'),
      date('ValidTo'),
    ],
  },
  {
    entitySetName: 'BenefitPlans',
    source: 'cdm-hcm-benefit-plan-entity',
    entityTypeName: 'BenefitPlan',
    dmfEntityName: 'Benefit plan',
    targetEntity: 'HcmBenefitPlanEntity',
    companySpecific: false,
    keys: ['Plan'],
    fields: [text('Plan'), text('Description'), text('TypeId')],
  },
);

export const fnoCatalog: readonly FnoEntityDefinition[] = fnoCatalogEntities;

export function findFnoEntity(entitySetName: string): FnoEntityDefinition | undefined {
  return fnoCatalog.find((entity) => entity.entitySetName === entitySetName);
}
