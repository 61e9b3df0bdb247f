import { z } from 'zod';
import type { CoverageLevel, Relationship } from '../../../generated/prisma/enums.js';
import type { InvalidRow, MappedRecord, RecordFields, StreamTarget } from '../../types.js';
import { mapFnoValue, planTypeFromName, WORKER_GENDER } from '../option-sets.js';

/**
 * F&O data-entity rows (fields and sources: catalog.ts, docs/microsoft-wire.md) → unified fields. The same mappers serve OData rows (JSON:
 * numbers are numbers, enums are strings) and DMF rows (CSV: every value is text, headers upper
 * case), so both paths store identical records: rows are first normalised to the entity's field
 * names and types (see normaliseRow), then mapped.
 *
 * References to workers and plans are not resolved here: F&O names workers by personnel number
 * and plans by plan id, while our employees and plans are keyed by Dataverse GUIDs. The join rules
 * (joins.ts) resolve them in SQL after the rows are stored.
 */

/**
 * A mapped row of `Target` (typed: only that model's fields, with their types), the reason it is
 * invalid, or null for a row this model does not take.
 */
export type FnoRowMapper<Target extends StreamTarget = StreamTarget> = (
  row: Record<string, unknown>,
) => MappedRecord<Target> | InvalidRow | null;

/** F&O's "no date" (`1900-01-01`) and open-ended dates (year 2154) mean null. */
export function fnoDate(value: string | null | undefined): string | null {
  if (!value) return null;
  const date = value.slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return null;
  const year = Number(date.slice(0, 4));
  return year <= 1900 || year >= 2154 ? null : date;
}

/** Enum values: plain `Male`, or the literal form `Microsoft.Dynamics.DataEntities.Gender'Male'`. */
export function enumValue(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null;
  const text = String(value);
  return /^[\w.]+'(.*)'$/.exec(text)?.[1] ?? text;
}

const text = z.preprocess((value) => (value === '' ? null : value), z.string().nullish());
const requiredText = z.string().min(1);
const enumText = z.preprocess(enumValue, z.string().nullish());
const noYes = z.preprocess(enumValue, z.enum(['Yes', 'No']).nullish());
const decimal = z.preprocess(
  (value) => (value === '' || value === null || value === undefined ? null : Number(value)),
  z.number().finite().nullish(),
);

function invalid(key: string, error: z.ZodError): InvalidRow {
  return {
    key,
    reason: error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '),
  };
}

function record<Target extends StreamTarget>(
  remoteId: string,
  data: Record<string, unknown>,
  fields: RecordFields<Target>,
): MappedRecord<Target> {
  return { remoteId, fields, remoteData: data, remoteCreatedAt: null, remoteModifiedAt: null };
}

const flag = (value: 'Yes' | 'No' | null | undefined) =>
  value === 'Yes' ? true : value === 'No' ? false : null;

function gender(raw: string | null | undefined) {
  const mapped = mapFnoValue(WORKER_GENDER, raw, 'OTHER');
  return { gender: mapped.value, gender_raw: mapped.raw };
}

// --- Workers (HcmWorkerEntity): employees, when Dataverse lacks cdm_worker -------------------------

export const workerFields = [
  'PersonnelNumber',
  'PartyNumber',
  'Name',
  'FirstName',
  'MiddleName',
  'LastName',
  'Gender',
  'BirthDate',
  'PrimaryContactEmail',
  'PrimaryContactPhone',
  'WorkerType',
  'EmploymentStartDate',
  'EmploymentEndDate',
] as const;

const workerRow = z.object({
  PersonnelNumber: requiredText,
  Name: text,
  FirstName: text,
  MiddleName: text,
  LastName: text,
  Gender: enumText,
  BirthDate: text,
  PrimaryContactEmail: text,
  PrimaryContactPhone: text,
  WorkerType: enumText,
  EmploymentEndDate: text,
});

export const mapFnoWorker: FnoRowMapper<'employees'> = (row) => {
  const parsed = workerRow.safeParse(row);
  if (!parsed.success) return invalid(String(row.PersonnelNumber ?? '<no PersonnelNumber>'), parsed.error);
  const worker = parsed.data;
  const ended = fnoDate(worker.EmploymentEndDate);
  return record<'employees'>(worker.PersonnelNumber, row, {
    employee_number: worker.PersonnelNumber,
    first_name: worker.FirstName ?? null,
    middle_name: worker.MiddleName ?? null,
    last_name: worker.LastName ?? null,
    display_full_name: worker.Name ?? null,
    work_email: worker.PrimaryContactEmail ?? null,
    date_of_birth: fnoDate(worker.BirthDate),
    ...gender(worker.Gender),
    worker_type:
      worker.WorkerType === 'Employee'
        ? 'EMPLOYEE'
        : worker.WorkerType === 'Contractor'
          ? 'CONTRACTOR'
          : worker.WorkerType
            ? 'OTHER'
            : null,
    worker_type_raw: worker.WorkerType ?? null,
    employment_status: ended && ended <= new Date().toISOString().slice(0, 10) ? 'INACTIVE' : 'ACTIVE',
    employment_status_raw: null,
  });
};

// --- Employments (HcmEmploymentEntity): employments, when Dataverse lacks cdm_employment ------------

export const employmentFields = [
  'PersonnelNumber',
  'LegalEntityId',
  'EmploymentStartDate',
  'EmploymentEndDate',
  'WorkerType',
] as const;

const employmentRow = z.object({
  PersonnelNumber: requiredText,
  LegalEntityId: requiredText,
  EmploymentStartDate: requiredText,
  EmploymentEndDate: text,
  WorkerType: enumText,
});

/**
 * An employment, keyed by personnel number, legal entity and start date (the entity's natural key).
 * Its employee and company are resolved in SQL by personnel number and company code (joins.ts).
 * As from cdm_workertype, the worker type says employee or contractor: only contractors map.
 */
export const mapFnoEmployment: FnoRowMapper<'employments'> = (row) => {
  const parsed = employmentRow.safeParse(row);
  if (!parsed.success) {
    return invalid(
      `${String(row.PersonnelNumber ?? '?')}:${String(row.LegalEntityId ?? '?')}:${String(row.EmploymentStartDate ?? '?')}`,
      parsed.error,
    );
  }
  const employment = parsed.data;
  const start = employment.EmploymentStartDate.slice(0, 10);
  const workerType = employment.WorkerType ?? null;
  return record<'employments'>(
    `${employment.PersonnelNumber}:${employment.LegalEntityId.toLowerCase()}:${start}`,
    row,
    {
      employment_type: workerType === 'Contractor' ? 'CONTRACTOR' : null,
      employment_type_raw: workerType,
      start_date: fnoDate(employment.EmploymentStartDate),
      end_date: fnoDate(employment.EmploymentEndDate),
    },
  );
};

// --- Worker personal contact persons (HcmPersonalContactPersonEntity): dependents ------------------

export const personalContactFields = [
  'WorkerPersonnelNumber',
  'ContactPersonPartyNumber',
  'RelationshipType',
  'ContactFirstName',
  'ContactMiddleName',
  'ContactLastName',
  'IsDependent',
  'IsBeneficiary',
  'IsEmergencyContact',
  'IsDependentCourtOrdered',
  'IsDependentDomesticPartnerVerified',
  'Gender',
  'BirthDate',
  'IsFulltimeStudent',
  'IsDisabled',
] as const;

const personalContactRow = z.object({
  WorkerPersonnelNumber: requiredText,
  ContactPersonPartyNumber: requiredText,
  RelationshipType: enumText,
  ContactFirstName: text,
  ContactMiddleName: text,
  ContactLastName: text,
  IsDependent: noYes,
  IsBeneficiary: noYes,
  IsEmergencyContact: noYes,
  IsDependentCourtOrdered: noYes,
  IsDependentDomesticPartnerVerified: noYes,
  Gender: enumText,
  BirthDate: text,
  IsFulltimeStudent: noYes,
  IsDisabled: noYes,
});

const RELATIONSHIP: Readonly<Record<string, Relationship>> = {
  Child: 'CHILD',
  Spouse: 'SPOUSE',
  DomesticPartner: 'DOMESTIC_PARTNER',
};

/**
 * The dependent's remote id. A contact person is a party that may be the contact of several
 * workers (two employees married to each other), so the key is the worker and the party together,
 * as in the entity's own key. Coverage links (covered dependents) name the same pair.
 */
export function dependentRemoteId(personnelNumber: string, partyNumber: string): string {
  return `${personnelNumber}:${partyNumber}`;
}

export const mapPersonalContact: FnoRowMapper<'dependents'> = (row) => {
  const parsed = personalContactRow.safeParse(row);
  if (!parsed.success) {
    return invalid(
      `${String(row.WorkerPersonnelNumber ?? '?')}:${String(row.ContactPersonPartyNumber ?? '?')}`,
      parsed.error,
    );
  }
  const contact = parsed.data;
  // Only contacts flagged as dependents are dependents; the others (emergency contacts, adult
  // children) are not stored, and one that stops being a dependent is deleted by the snapshot diff.
  if (contact.IsDependent !== 'Yes') return null;
  const relationship = contact.RelationshipType ?? null;
  return record<'dependents'>(
    dependentRemoteId(contact.WorkerPersonnelNumber, contact.ContactPersonPartyNumber),
    row,
    {
      first_name: contact.ContactFirstName ?? null,
      middle_name: contact.ContactMiddleName ?? null,
      last_name: contact.ContactLastName ?? null,
      relationship: relationship ? (RELATIONSHIP[relationship] ?? 'OTHER') : null,
      relationship_raw: relationship,
      date_of_birth: fnoDate(contact.BirthDate),
      ...gender(contact.Gender),
      is_student: flag(contact.IsFulltimeStudent),
      is_disabled: flag(contact.IsDisabled),
      is_court_ordered: flag(contact.IsDependentCourtOrdered),
      is_domestic_partner_verified: flag(contact.IsDependentDomesticPartnerVerified),
      is_beneficiary: flag(contact.IsBeneficiary),
      is_emergency_contact: flag(contact.IsEmergencyContact),
    },
  );
};

// --- Worker enrolled benefits (PayrollWorkerEnrolledBenefitInquiryEntity): benefit enrollments ------

export const enrolledBenefitFields = [
  'PersonnelNumber',
  'BenefitId',
  'BenefitPlanID',
  'BenefitOptionID',
  'BenefitTypeId',
  'ValidFrom',
  'ValidTo',
  'DeductionAmountCur',
  'ContributionAmountCur',
] as const;

const enrolledBenefitRow = z.object({
  PersonnelNumber: requiredText,
  BenefitId: requiredText,
  BenefitPlanID: text,
  BenefitOptionID: text,
  ValidFrom: requiredText,
  ValidTo: text,
  DeductionAmountCur: decimal,
  ContributionAmountCur: decimal,
});

/**
 * An enrollment's remote id. The published entity has no record id and no company (the Payroll
 * manifest gives it no company relationship), so an enrollment is keyed by what identifies it and
 * what the covered-dependent entity names it by: the worker, the benefit (plan and option) and the
 * coverage start date (docs/microsoft-wire.md, "F&O data entities"). Stable across syncs and paths.
 */
export function enrollmentRemoteId(personnelNumber: string, benefitId: string, start: string): string {
  return `${personnelNumber}:${benefitId}:${start.slice(0, 10)}`;
}

// Benefit option ids → coverage levels, as for plans' options (dataverse/joins.ts).
export const COVERAGE_LEVEL: Readonly<Record<string, CoverageLevel>> = {
  EE: 'EMPLOYEE_ONLY',
  'EE+SP': 'EMPLOYEE_SPOUSE',
  'EE+CH': 'EMPLOYEE_CHILDREN',
  'EE+FAM': 'EMPLOYEE_FAMILY',
  FAM: 'EMPLOYEE_FAMILY',
};

/** Amounts in minor units (F&O gives decimals in the company currency, which the entity omits). */
export const minor = (amount: number | null | undefined) =>
  amount === null || amount === undefined ? null : Math.round(amount * 100);

/**
 * The entity has no status field: an enrollment whose coverage ended (ValidTo before today) is
 * terminated, else active, as the payroll API's worker benefit plans are read (dataverse/mappers.ts).
 * The worker pays the deduction; the employer pays the contribution.
 */
export const mapEnrolledBenefit: FnoRowMapper<'benefit_enrollments'> = (row) => {
  const parsed = enrolledBenefitRow.safeParse(row);
  if (!parsed.success) {
    return invalid(
      `${String(row.PersonnelNumber ?? '?')}:${String(row.BenefitId ?? '?')}:${String(row.ValidFrom ?? '?')}`,
      parsed.error,
    );
  }
  const enrollment = parsed.data;
  const option = enrollment.BenefitOptionID ?? null;
  const end = fnoDate(enrollment.ValidTo);
  return record<'benefit_enrollments'>(
    enrollmentRemoteId(enrollment.PersonnelNumber, enrollment.BenefitId, enrollment.ValidFrom),
    row,
    {
      status: end && end < new Date().toISOString().slice(0, 10) ? 'TERMINATED' : 'ACTIVE',
      status_raw: null,
      coverage_level: option ? (COVERAGE_LEVEL[option.toUpperCase()] ?? 'OTHER') : null,
      coverage_level_raw: option,
      start_date: fnoDate(enrollment.ValidFrom),
      end_date: end,
      employee_contribution_amount_minor: minor(enrollment.DeductionAmountCur),
      employee_contribution_percent_bps: null,
      employee_contribution_currency: null,
      company_contribution_amount_minor: minor(enrollment.ContributionAmountCur),
      company_contribution_percent_bps: null,
      company_contribution_currency: null,
    },
  );
};

// --- Covered dependent relationships (HcmCoveredDependentRelationshipEntity): coverage links -------

export const coveredDependentFields = [
  'PersonnelNumber',
  'BenefitId',
  'EnrollmentStart',
  'EnrollmentEnd',
  'ChildPartyId',
  'RelationshipTypeId',
] as const;

const coveredDependentRow = z.object({
  PersonnelNumber: requiredText,
  BenefitId: requiredText,
  EnrollmentStart: requiredText,
  ChildPartyId: requiredText,
});

/**
 * Kept as auxiliary rows (provider_records) naming both ends of a coverage link, which the sync
 * layer builds from them (a LinkRule, joins.ts), so links never need the enrollment and its
 * dependents on the same page, and memory stays bounded. ref_id is the enrollment's remote id; the
 * data adds the dependent's remote id: the worker's personal contact with that party number
 * (dependentRemoteId).
 */
export const mapCoveredDependent: FnoRowMapper<'auxiliary'> = (row) => {
  const parsed = coveredDependentRow.safeParse(row);
  if (!parsed.success) {
    return invalid(
      `${String(row.PersonnelNumber ?? '?')}:${String(row.BenefitId ?? '?')}:${String(row.ChildPartyId ?? '?')}`,
      parsed.error,
    );
  }
  const link = parsed.data;
  const enrollment = enrollmentRemoteId(link.PersonnelNumber, link.BenefitId, link.EnrollmentStart);
  return {
    ...record<'auxiliary'>(
      `${enrollment}:${link.ChildPartyId}`,
      {
        ...row,
        dependent_remote_id: dependentRemoteId(link.PersonnelNumber, link.ChildPartyId),
      },
      {},
    ),
    refId: enrollment,
  };
};

// --- Legal entities (CompanyInfoEntity): companies, when Dataverse lacks cdm_company ---------------

export const companyFields = ['DataArea', 'Name'] as const;

const companyRow = z.object({ DataArea: requiredText, Name: text });

/** A legal entity, keyed by its company code (DataArea; case-insensitive in F&O, so lower case). */
export const mapFnoCompany: FnoRowMapper<'companies'> = (row) => {
  const parsed = companyRow.safeParse(row);
  if (!parsed.success) return invalid(String(row.DataArea ?? '<no DataArea>'), parsed.error);
  const company = parsed.data;
  return record<'companies'>(company.DataArea.toLowerCase(), row, {
    name: company.Name ?? null,
    legal_name: company.Name ?? null,
    company_code: company.DataArea,
  });
};

// --- Departments (OMDepartmentEntity): departments, when Dataverse lacks cdm_department ------------

export const departmentFields = ['OperatingUnitNumber', 'Name', 'SearchName'] as const;

const departmentRow = z.object({ OperatingUnitNumber: requiredText, Name: text });

/** A department by its operating unit number; like cdm_department it has no company. */
export const mapFnoDepartment: FnoRowMapper<'departments'> = (row) => {
  const parsed = departmentRow.safeParse(row);
  if (!parsed.success) return invalid(String(row.OperatingUnitNumber ?? '<no number>'), parsed.error);
  const department = parsed.data;
  return record<'departments'>(department.OperatingUnitNumber, row, {
    name: department.Name ?? null,
    code: department.OperatingUnitNumber,
    company_id: null,
  });
};

// --- Positions (HcmPositionV2Entity): job positions, when Dataverse lacks cdm_jobposition ----------

export const positionFields = [
  'PositionId',
  'JobId',
  'Description',
  'DepartmentNumber',
  'FullTimeEquivalent',
  'Activation',
  'Retirement',
  'WorkerPersonnelNumber',
  'WorkerAssignmentStart',
  'WorkerAssignmentEnd',
] as const;

const positionRow = z.object({
  PositionId: requiredText,
  JobId: text,
  Description: text,
  FullTimeEquivalent: decimal,
  Activation: text,
  Retirement: text,
});

/**
 * A position by its id. The job id is the job's title (cdm_job.cdm_name is the JOBID in Microsoft's
 * dual-write mapping); the department is resolved by number in SQL (joins.ts), and so is the
 * worker assignment the employees take their position, department and title from.
 */
export const mapFnoPosition: FnoRowMapper<'job_positions'> = (row) => {
  const parsed = positionRow.safeParse(row);
  if (!parsed.success) return invalid(String(row.PositionId ?? '<no PositionId>'), parsed.error);
  const position = parsed.data;
  return record<'job_positions'>(position.PositionId, row, {
    position_number: position.PositionId,
    job_title: position.JobId ?? null,
    description: position.Description ?? null,
    full_time_equivalent: position.FullTimeEquivalent ?? null,
    valid_from: fnoDate(position.Activation),
    valid_to: fnoDate(position.Retirement),
  });
};

// --- Position hierarchies (HcmPositionHierarchyEntity): employees' managers -----------------------

export const positionHierarchyFields = [
  'PositionId',
  'ParentPositionId',
  'HierarchyTypeName',
  'ValidFrom',
  'ValidTo',
] as const;

const positionHierarchyRow = z.object({
  PositionId: requiredText,
  ParentPositionId: requiredText,
  HierarchyTypeName: text,
  ValidFrom: text,
});

/**
 * Kept as auxiliary rows (provider_records): F&O's Worker has no manager; a worker's manager is the
 * worker holding the position the worker's position reports to, resolved in SQL (joins.ts).
 */
export const mapPositionHierarchy: FnoRowMapper<'auxiliary'> = (row) => {
  const parsed = positionHierarchyRow.safeParse(row);
  if (!parsed.success) return invalid(String(row.PositionId ?? '<no PositionId>'), parsed.error);
  const link = parsed.data;
  return record<'auxiliary'>(
    `${link.PositionId}:${link.HierarchyTypeName ?? ''}:${fnoDate(link.ValidFrom) ?? ''}`,
    row,
    {},
  );
};

// --- Benefit plans (HcmBenefitPlanEntity): benefit plans, when Dataverse lacks cdm_benefitplan ------

export const benefitPlanFields = ['Plan', 'Description', 'TypeId'] as const;

const benefitPlanRow = z.object({ Plan: requiredText, Description: text, TypeId: text });

/** A plan by its id (enrollments' BenefitPlanID); its type from the benefit type's id, as for cdm_. */
export const mapFnoBenefitPlan: FnoRowMapper<'benefit_plans'> = (row) => {
  const parsed = benefitPlanRow.safeParse(row);
  if (!parsed.success) return invalid(String(row.Plan ?? '<no Plan>'), parsed.error);
  const plan = parsed.data;
  return record<'benefit_plans'>(plan.Plan, row, {
    name: plan.Plan,
    description: plan.Description ?? null,
    plan_type: planTypeFromName(plan.TypeId),
    plan_type_raw: plan.TypeId ?? null,
    plan_year_start: null,
    plan_year_end: null,
  });
};

/**
 * A row with the entity's field names: OData rows lose their annotations; DMF rows (upper-case
 * headers, every value text) get the entity's casing and typed numbers, so both store the same.
 */
export function normaliser(
  fields: readonly string[],
  numeric: readonly string[],
): {
  fromHeaders(headers: string[]): (values: string[]) => Record<string, unknown>;
  fromOData(row: Record<string, unknown>): Record<string, unknown>;
} {
  const byUpper = new Map(fields.map((field) => [field.toUpperCase(), field]));
  const numbers = new Set(numeric);
  const coerce = (name: string, value: unknown): unknown => {
    if (value === '' || value === null || value === undefined) return null;
    if (numbers.has(name)) {
      const number = Number(value);
      return Number.isFinite(number) ? number : value;
    }
    // Enum literals are unwrapped by the mappers (only enum fields may look like X'...').
    return value;
  };
  return {
    fromHeaders(headers) {
      const names = headers.map((header) => byUpper.get(header.trim().toUpperCase()) ?? header.trim());
      return (values) => {
        const row: Record<string, unknown> = {};
        for (let i = 0; i < names.length; i++)
          row[names[i] as string] = coerce(names[i] as string, values[i] ?? '');
        return row;
      };
    },
    fromOData(source) {
      const row: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(source)) {
        if (name.startsWith('@odata.')) continue;
        row[name] = coerce(name, value);
      }
      return row;
    },
  };
}
