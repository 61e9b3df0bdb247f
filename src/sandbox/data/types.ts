/**
 * The generated organisation ("truth"), stored in wire shape: Dataverse rows exactly as the Web API returns
 * them without annotations (cdm_ columns, `_x_value` lookups, option-set integers), and F&O rows exactly
 * as the OData entities return them (PascalCase fields, enums and NoYes as strings).
 * Gateway tests compare what they stored against these rows.
 */

/** Columns every Dataverse row carries. Dates are `YYYY-MM-DDTHH:mm:ssZ`. */
export interface DataverseRowBase {
  versionnumber: number;
  createdon: string;
  modifiedon: string;
  statecode: 0 | 1;
  statuscode: 1 | 2;
  _ownerid_value: string;
}

export interface CompanyRow extends DataverseRowBase {
  cdm_companyid: string;
  cdm_name: string;
  /** The F&O legal entity (dataAreaId), upper case here as in F&O's company list. */
  cdm_companycode: string;
}

export interface DepartmentRow extends DataverseRowBase {
  cdm_departmentid: string;
  cdm_name: string;
  /** The operating unit number. */
  cdm_departmentnumber: string;
  cdm_description: string | null;
}

export interface JobRow extends DataverseRowBase {
  cdm_jobid: string;
  cdm_name: string;
  cdm_description: string | null;
}

export interface JobPositionRow extends DataverseRowBase {
  cdm_jobpositionid: string;
  cdm_jobpositionnumber: string;
  _cdm_jobid_value: string;
  cdm_description: string | null;
  _cdm_departmentid_value: string;
  cdm_fulltimeequivalent: number;
  cdm_validfrom: string;
  cdm_validto: string;
}

export interface PositionWorkerAssignmentRow extends DataverseRowBase {
  cdm_positionworkerassignmentmapid: string;
  _cdm_workerid_value: string;
  _cdm_jobpositionid_value: string;
  cdm_validfrom: string;
  cdm_validto: string;
}

export interface WorkerRow extends DataverseRowBase {
  cdm_workerid: string;
  cdm_workernumber: string;
  cdm_firstname: string;
  cdm_middlename: string | null;
  cdm_lastname: string;
  cdm_fullname: string;
  cdm_primaryemailaddress: string | null;
  cdm_primarytelephone: string | null;
  cdm_mobilephone: string | null;
  /** Date only: `YYYY-MM-DD`. */
  cdm_birthdate: string | null;
  _cdm_managerworkerid_value: string | null;
  cdm_gender: number;
  cdm_type: number;
  cdm_status: number;
}

export interface EmploymentRow extends DataverseRowBase {
  cdm_employmentid: string;
  _cdm_workerid_value: string;
  _cdm_companyid_value: string;
  cdm_workertype: number;
  cdm_employmentstartdate: string;
  cdm_employmentenddate: string | null;
  cdm_adjustedworkerstartdate: string | null;
  cdm_lastdateworked: string | null;
  cdm_validfrom: string;
  cdm_validto: string;
}

/** Benefit type: cdm_name is its id in Human Resources (e.g. `Dental`). */
export interface BenefitTypeRow extends DataverseRowBase {
  cdm_benefittypeid: string;
  cdm_name: string;
  cdm_description: string | null;
}

/** Benefit plan: cdm_name is the plan id F&O enrollments name (`BenefitPlanId`). */
export interface BenefitPlanRow extends DataverseRowBase {
  cdm_benefitplanid: string;
  cdm_name: string;
  cdm_description: string | null;
  _cdm_benefittypeid_value: string;
}

/** Benefit option (coverage option): cdm_name is its id (`BenefitOptionId`), e.g. `EE+SP`. */
export interface BenefitOptionRow extends DataverseRowBase {
  cdm_benefitoptionid: string;
  cdm_name: string;
  cdm_description: string | null;
}

/**
 * A row of the Human Resources payroll API's virtual table `mshr_payrollworkerbenefitplanentities`
 * (fields as published, docs/microsoft-wire.md "Virtual tables"): one per worker's benefit plan.
 */
export interface PayrollWorkerBenefitPlanRow extends DataverseRowBase {
  mshr_payrollworkerbenefitplanentityid: string;
  mshr_primaryfield: string;
  mshr_personnelnumber: string;
  mshr_legalentityid: string;
  mshr_planid: string;
  mshr_coverageoptionid: string;
  mshr_deductionstartdatetime: string;
  /** 2154-12-31T23:59:59Z when open, as the payroll API example shows. */
  mshr_deductionenddatetime: string;
  /** Benefit employee plan status: 200000001 Selected, 200000002 Waived. */
  mshr_status: number;
  mshr_plantypeid: string;
  mshr_amountemployee: number;
  mshr_amountemployer: number;
}

export type NoYes = 'No' | 'Yes';
/** Microsoft.Dynamics.DataEntities.Gender (values: src/providers/dynamics/option-sets.ts) */
export type FnoGender = 'None' | 'Male' | 'Female' | 'NonSpecific';

export interface FnoWorkerRow {
  PersonnelNumber: string;
  PartyNumber: string;
  Name: string;
  FirstName: string;
  MiddleName: string;
  LastName: string;
  Gender: FnoGender;
  /** F&O returns dates as DateTimeOffset at noon UTC, e.g. `1985-04-02T12:00:00Z`. */
  BirthDate: string;
  PrimaryContactEmail: string;
  PrimaryContactPhone: string;
  WorkerType: 'Employee' | 'Contractor';
  EmploymentStartDate: string;
  /** `1900-01-01T00:00:00Z` (F&O's empty date) while employed. */
  EmploymentEndDate: string;
}

/** Worker personal contact person (HcmPersonalContactPersonEntity), fields per docs/microsoft-wire.md. */
export interface FnoPersonalContactRow {
  WorkerPersonnelNumber: string;
  ContactPersonPartyNumber: string;
  RelationshipType: 'Spouse' | 'DomesticPartner' | 'Child';
  ContactFirstName: string;
  ContactMiddleName: string;
  ContactLastName: string;
  IsDependent: NoYes;
  IsBeneficiary: NoYes;
  IsEmergencyContact: NoYes;
  IsDependentCourtOrdered: NoYes;
  IsDependentDomesticPartnerVerified: NoYes;
  Gender: FnoGender;
  BirthDate: string;
  IsFulltimeStudent: NoYes;
  IsDisabled: NoYes;
}

/**
 * Worker enrolled benefit (PayrollWorkerEnrolledBenefitInquiryEntity, fields as published,
 * docs/microsoft-wire.md "F&O data entities"): a worker's benefit (plan and option) and its dates. The
 * entity publishes no record id and no company: an enrollment is a worker, a benefit and a start.
 */
export interface FnoEnrolledBenefitRow {
  PersonnelNumber: string;
  /** The benefit: a plan with one of its options (`MED-PPO-EE+FAM` here). */
  BenefitId: string;
  BenefitPlanID: string;
  /** The coverage option, e.g. `EE+FAM`. */
  BenefitOptionID: string;
  BenefitTypeId: string;
  ValidFrom: string;
  /** `2154-12-31T23:59:59Z` (F&O's "never") while enrolled. */
  ValidTo: string;
  /** What the worker pays (deduction) and the employer contributes, in the plan's currency. */
  DeductionAmountCur: number;
  ContributionAmountCur: number;
}

/**
 * Covered dependent relationship (HcmCoveredDependentRelationshipEntity, fields as published): a
 * dependent covered by a worker's enrolled benefit, naming the enrollment by worker, benefit and start.
 */
export interface FnoCoveredDependentRow {
  PersonnelNumber: string;
  BenefitId: string;
  EnrollmentStart: string;
  EnrollmentEnd: string;
  /** The dependent's party number (the personal contact's ContactPersonPartyNumber). */
  ChildPartyId: string;
  RelationshipTypeId: 'Spouse' | 'DomesticPartner' | 'Child';
}

/** Legal entity (CompanyInfoEntity, "View companies"): DataArea is the company code. */
export interface FnoCompanyRow {
  DataArea: string;
  Name: string;
}

/** Department (OMDepartmentEntity): the operating unit number is the department's code. */
export interface FnoDepartmentRow {
  OperatingUnitNumber: string;
  Name: string;
  SearchName: string;
}

/** Position (HcmPositionV2Entity) with its department, job and current worker assignment. */
export interface FnoPositionRow {
  PositionId: string;
  /** The job's id, which is its title (the job's cdm_name in Dataverse). */
  JobId: string;
  Description: string;
  DepartmentNumber: string;
  FullTimeEquivalent: number;
  Activation: string;
  Retirement: string;
  /** Empty, with F&O's empty dates, for a vacant position. */
  WorkerPersonnelNumber: string;
  WorkerAssignmentStart: string;
  WorkerAssignmentEnd: string;
}

/** Position hierarchy (HcmPositionHierarchyEntity): the position a position reports to. */
export interface FnoPositionHierarchyRow {
  PositionId: string;
  ParentPositionId: string;
  HierarchyTypeName: string;
  ValidFrom: string;
  ValidTo: string;
}

/** Benefit plan (HcmBenefitPlanEntity): the plan id, its description and its benefit type's id. */
export interface FnoBenefitPlanRow {
  Plan: string;
  Description: string;
  TypeId: string;
}

/** Employment (HcmEmploymentEntity, docs/microsoft-wire.md): the same employments as cdm_employment. */
export interface FnoEmploymentRow {
  PersonnelNumber: string;
  LegalEntityId: string;
  EmploymentStartDate: string;
  /** F&O's empty date (1900-01-01) when the employment has no end. */
  EmploymentEndDate: string;
  WorkerType: 'Employee' | 'Contractor';
}

/**
 * Tables derived from others (F&O's view of the Dataverse organisation, the payroll virtual table) are
 * built on first read and kept from then on (src/sandbox/data/lazy-table.ts): reading a table, or
 * serialising the organisation, gives the same rows as building them all at once.
 */
export interface GeneratedOrganisation {
  seed: number;
  workerCount: number;
  /** Every generated timestamp lies before this instant (deterministic, not the wall clock). */
  asOf: string;
  /** The highest row version of the generated Dataverse rows (an environment's writes continue after it). */
  lastRowVersion: number;
  dataverse: {
    cdm_companies: CompanyRow[];
    cdm_departments: DepartmentRow[];
    cdm_jobs: JobRow[];
    cdm_jobpositions: JobPositionRow[];
    cdm_positionworkerassignmentmaps: PositionWorkerAssignmentRow[];
    cdm_workers: WorkerRow[];
    cdm_employments: EmploymentRow[];
    cdm_benefittypes: BenefitTypeRow[];
    cdm_benefitplans: BenefitPlanRow[];
    cdm_benefitoptions: BenefitOptionRow[];
    /** Served only by tenants of the virtual-tables shape. */
    mshr_payrollworkerbenefitplanentities: PayrollWorkerBenefitPlanRow[];
  };
  fno: {
    Workers: FnoWorkerRow[];
    WorkerPersonalContactPersons: FnoPersonalContactRow[];
    WorkerEnrolledBenefits: FnoEnrolledBenefitRow[];
    CoveredDependentRelationships: FnoCoveredDependentRow[];
    Employments: FnoEmploymentRow[];
    Companies: FnoCompanyRow[];
    Departments: FnoDepartmentRow[];
    PositionsV2: FnoPositionRow[];
    PositionHierarchies: FnoPositionHierarchyRow[];
    BenefitPlans: FnoBenefitPlanRow[];
  };
}

export type DataverseEntitySetName = keyof GeneratedOrganisation['dataverse'];
export type FnoEntitySetName = keyof GeneratedOrganisation['fno'];
