/**
 * The Microsoft publications every Dynamics name the gateway uses is checked against: each table,
 * column, entity, field and option-set code in the catalogs (dataverse/catalog.ts, fno/catalog.ts,
 * option-sets.ts, the sandbox's catalogs) names one of these ids. docs/microsoft-wire.md, section
 * "Tables, entities and option sets", says what each one confirms; a test keeps the two in step.
 *
 * `discovered` is not a publication: it marks a column Microsoft documents only by display name (or
 * not at all) whose logical name the gateway therefore never assumes exists. It is requested only
 * when the environment's own metadata lists it (EntityDefinitions/Attributes, F&O $metadata), and a
 * tenant without it gets the field left empty and a sentence in sync status, not a failed stream.
 * `unpublished` marks an option-set code no publication gives (the raw value is always stored beside
 * the mapped one); docs/microsoft-wire.md lists each as open.
 */
export interface PublishedSource {
  title: string;
  /** Where Microsoft publishes it. */
  url: string;
  /** The same text in a Microsoft repository on GitHub (owner/repo: path), when there is one. */
  repository?: string;
}

const DOCS = 'MicrosoftDocs/dynamics-365-unified-operations-public';
const CDM_DOCS = 'MicrosoftDocs/common-data-model-and-service';

export const PUBLISHED_SOURCES = {
  'hr-dataverse-tables': {
    title: 'Dataverse tables (Human Resources)',
    url: 'https://learn.microsoft.com/dynamics365/human-resources/hr-developer-entities',
    repository: `${DOCS}: articles/human-resources/hr-developer-entities.md`,
  },
  'hr-dataverse-integration': {
    title: 'Configure integration with Dataverse tables (dual-write template mappings)',
    url: 'https://learn.microsoft.com/dynamics365/human-resources/hr-dataverse-integration',
  },
  'hr-finance-integration': {
    title: 'Configure integration with Finance (Data Integrator template mappings)',
    url: 'https://learn.microsoft.com/dynamics365/human-resources/hr-admin-integration-finance',
    repository: `${DOCS}: articles/human-resources/hr-admin-integration-finance.md`,
  },
  'corehr-cds-entities': {
    title: 'Core HR entities in Common Data Service (fields by display name and type)',
    url: 'https://github.com/MicrosoftDocs/dynamics-365-unified-operations-public/blob/main/articles/talent/CoreHREntities.md',
    repository: `${DOCS}: articles/talent/CoreHREntities.md`,
  },
  'talent-whats-new-2018-12-14': {
    title:
      "What's new or changed in Dynamics 365 Talent - Core HR (December 14, 2018), 'Mapping errors in the integration with Finance' (cdm_gender values)",
    url: 'https://github.com/MicrosoftDocs/dynamics-365-unified-operations-public/tree/main/articles/talent',
  },
  'dual-write-mapping-reference': {
    title:
      'Dual-write mapping reference: column mappings of each template with their value maps (Worker (cdm_workers), Employment per company (cdm_employments))',
    url: 'https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/data-entities/dual-write/mapping-reference',
    repository: `${DOCS}: articles/fin-ops-core/dev-itpro/data-entities/dual-write/includes/mapping-tables.md`,
  },
  'integrated-hr': {
    title: 'Integrated worker, job, and position (dual-write)',
    url: 'https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/data-entities/dual-write/integrated-hr',
  },
  'payroll-api-introduction': {
    title: 'Payroll integration API introduction (mshr_ virtual tables)',
    url: 'https://learn.microsoft.com/dynamics365/human-resources/hr-admin-integration-payroll-api-introduction',
    repository: `${DOCS}: articles/human-resources/hr-admin-integration-payroll-api-introduction.md`,
  },
  'payroll-worker-benefit-plan': {
    title: 'Payroll worker benefit plan (mshr_payrollworkerbenefitplanentities)',
    url: 'https://learn.microsoft.com/dynamics365/human-resources/hr-admin-integration-payroll-api-payroll-worker-benefit-plan',
    repository: `${DOCS}: articles/human-resources/hr-admin-integration-payroll-api-payroll-worker-benefit-plan.md`,
  },
  'payroll-employee': {
    title: 'Payroll employee (mshr_payrollemployeeentity)',
    url: 'https://learn.microsoft.com/dynamics365/human-resources/hr-admin-integration-payroll-api-payroll-employee',
    repository: `${DOCS}: articles/human-resources/hr-admin-integration-payroll-api-payroll-employee.md`,
  },
  'benefit-plan-type-cover': {
    title: 'Benefit plan type cover option set (mserp_plantypecode)',
    url: 'https://learn.microsoft.com/dynamics365/human-resources/hr-admin-integration-payroll-api-benefit-plan-type-cover',
    repository: `${DOCS}: articles/human-resources/hr-admin-integration-payroll-api-benefit-plan-type-cover.md`,
  },
  'benefit-employee-plan-status': {
    title: 'Benefit employee plan status option set (mshr_status)',
    url: 'https://learn.microsoft.com/dynamics365/human-resources/hr-admin-integration-payroll-api-benefit-employee-plan-status',
    repository: `${DOCS}: articles/human-resources/hr-admin-integration-payroll-api-benefit-employee-plan-status.md`,
  },
  'dataverse-query-metadata': {
    title: 'Query table definitions using the Web API (EntityDefinitions, PrimaryIdAttribute, Attributes)',
    url: 'https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query-metadata-web-api',
  },
  'dataverse-table-reference': {
    title:
      'Dataverse table reference (e.g. account): the columns every user-owned table has (createdon, modifiedon, ownerid, statecode, statuscode, versionnumber)',
    url: 'https://learn.microsoft.com/power-apps/developer/data-platform/reference/entities/account',
  },
  'dataverse-change-tracking': {
    title: 'Use change tracking to synchronize data with external systems',
    url: 'https://learn.microsoft.com/power-apps/developer/data-platform/use-change-tracking-synchronize-data-external-systems',
  },
  'cdm-hcm-worker-entity': {
    title: 'HcmWorkerEntity (F&O data entity "Worker")',
    url: 'https://github.com/microsoft/CDM/blob/master/schemaDocuments/core/operationsCommon/Entities/HumanResources/HRM/HcmWorkerEntity.cdm.json',
    repository:
      'microsoft/CDM: schemaDocuments/core/operationsCommon/Entities/HumanResources/HRM/HcmWorkerEntity.cdm.json',
  },
  'cdm-hcm-employment-entity': {
    title: 'HcmEmploymentEntity (F&O data entity "Employment")',
    url: 'https://github.com/microsoft/CDM/blob/master/schemaDocuments/core/operationsCommon/Entities/HumanResources/HRM/HcmEmploymentEntity.cdm.json',
    repository:
      'microsoft/CDM: schemaDocuments/core/operationsCommon/Entities/HumanResources/HRM/HcmEmploymentEntity.cdm.json',
  },
  'cdm-hcm-personal-contact-person-entity': {
    title: 'HcmPersonalContactPersonEntity (F&O data entity "Worker personal contact person")',
    url: 'https://github.com/microsoft/CDM/blob/master/schemaDocuments/core/operationsCommon/Entities/HumanResources/HRM/HcmPersonalContactPersonEntity.cdm.json',
    repository:
      'microsoft/CDM: schemaDocuments/core/operationsCommon/Entities/HumanResources/HRM/HcmPersonalContactPersonEntity.cdm.json',
  },
  'cdm-payroll-worker-enrolled-benefit-inquiry-entity': {
    title: 'PayrollWorkerEnrolledBenefitInquiryEntity (F&O data entity "Worker enrolled benefit")',
    url: 'https://github.com/microsoft/CDM/blob/master/schemaDocuments/core/operationsCommon/Entities/HumanResources/Payroll/PayrollWorkerEnrolledBenefitInquiryEntity.cdm.json',
    repository:
      'microsoft/CDM: schemaDocuments/core/operationsCommon/Entities/HumanResources/Payroll/PayrollWorkerEnrolledBenefitInquiryEntity.cdm.json',
  },
  'cdm-hcm-covered-dependent-relationship-entity': {
    title:
      'HcmCoveredDependentRelationshipEntity (Common Data Model reference: covered dependents of an enrolled benefit)',
    url: 'https://learn.microsoft.com/common-data-model/schema/core/operationscommon/entities/humanresources/hrm/hcmcovereddependentrelationshipentity',
    repository: `${CDM_DOCS}: common-data-model/schema/core/operationsCommon/Entities/HumanResources/HRM/HcmCoveredDependentRelationshipEntity.md`,
  },
  'cdm-company-info-entity': {
    title: 'CompanyInfoEntity (F&O data entity "View companies")',
    url: 'https://github.com/microsoft/CDM/blob/master/schemaDocuments/core/operationsCommon/Entities/Common/GAB/CompanyInfoEntity.cdm.json',
    repository:
      'microsoft/CDM: schemaDocuments/core/operationsCommon/Entities/Common/GAB/CompanyInfoEntity.cdm.json',
  },
  'cdm-om-department-entity': {
    title: 'OMDepartmentEntity (F&O data entity "Department")',
    url: 'https://github.com/microsoft/CDM/blob/master/schemaDocuments/core/operationsCommon/Entities/Common/GAB/OMDepartmentEntity.cdm.json',
    repository:
      'microsoft/CDM: schemaDocuments/core/operationsCommon/Entities/Common/GAB/OMDepartmentEntity.cdm.json',
  },
  'cdm-hcm-position-v2-entity': {
    title: 'HcmPositionV2Entity (F&O data entity "Positions V2")',
    url: 'https://github.com/microsoft/CDM/blob/master/schemaDocuments/core/operationsCommon/Entities/HumanResources/HRM/HcmPositionV2Entity.cdm.json',
    repository:
      'microsoft/CDM: schemaDocuments/core/operationsCommon/Entities/HumanResources/HRM/HcmPositionV2Entity.cdm.json',
  },
  'cdm-hcm-position-hierarchy-entity': {
    title: 'HcmPositionHierarchyEntity (F&O data entity "Position hierarchies")',
    url: 'https://github.com/microsoft/CDM/blob/master/schemaDocuments/core/operationsCommon/Entities/HumanResources/HRM/HcmPositionHierarchyEntity.cdm.json',
    repository:
      'microsoft/CDM: schemaDocuments/core/operationsCommon/Entities/HumanResources/HRM/HcmPositionHierarchyEntity.cdm.json',
  },
  'cdm-hcm-benefit-plan-entity': {
    title: 'HcmBenefitPlanEntity (Common Data Model reference: benefit plans)',
    url: 'https://learn.microsoft.com/common-data-model/schema/core/operationscommon/entities/humanresources/hrm/hcmbenefitplanentity',
    repository: `${CDM_DOCS}: common-data-model/schema/core/operationsCommon/Entities/HumanResources/HRM/HcmBenefitPlanEntity.md`,
  },
  'fno-odata': {
    title:
      'Open Data Protocol (OData) in finance and operations apps (dataAreaId, cross-company, enum literals)',
    url: 'https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/data-entities/odata',
  },
  unpublished: {
    title:
      'Not found in any Microsoft publication: kept because environments send it, listed as open in docs/microsoft-wire.md',
    url: 'docs/microsoft-wire.md',
  },
  discovered: {
    title:
      'Not published by logical name: requested only when the environment metadata lists it (see docs/microsoft-wire.md)',
    url: 'docs/microsoft-wire.md',
  },
} as const satisfies Record<string, PublishedSource>;

export type SourceId = keyof typeof PUBLISHED_SOURCES;

export function isSourceId(value: string): value is SourceId {
  return Object.hasOwn(PUBLISHED_SOURCES, value);
}
