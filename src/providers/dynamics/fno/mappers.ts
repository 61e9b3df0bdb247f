import { z } from 'zod';
import type { InvalidRow, MappedRecord } from '../../types.js';
import { mapFnoValue, WORKER_GENDER } from '../option-sets.js';

/**
 * F&O data-entity rows (fields and sources: catalog.ts, docs/microsoft-wire.md) → unified fields. The same mappers serve OData rows (JSON:
 * numbers are numbers, enums are strings) and DMF rows (CSV: every value is text, headers upper
 * case), so both paths store identical records: rows are first normalised to the entity's field
 * names and types (see normaliseRow), then mapped.
 *
 * References to workers and plans are not resolved here: F&O names workers by personnel number
 * and plans by plan id, while our employees and plans are keyed by Dataverse GUIDs. The derivations
 * (derivations.ts) resolve them in SQL after the rows are stored.
 */

/** A mapped row, the reason it is invalid, or null for a row this model does not take. */
export type FnoRowMapper = (row: Record<string, unknown>) => MappedRecord | InvalidRow | null;

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
const integer = z.preprocess(
  (value) => (value === '' || value === null || value === undefined ? undefined : Number(value)),
  z.number().int(),
);

function invalid(key: string, error: z.ZodError): InvalidRow {
  return {
    key,
    reason: error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '),
  };
}

function record(
  remoteId: string,
  data: Record<string, unknown>,
  fields: Record<string, unknown>,
): MappedRecord {
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

export const mapFnoWorker: FnoRowMapper = (row) => {
  const parsed = workerRow.safeParse(row);
  if (!parsed.success) return invalid(String(row.PersonnelNumber ?? '<no PersonnelNumber>'), parsed.error);
  const worker = parsed.data;
  const ended = fnoDate(worker.EmploymentEndDate);
  return record(worker.PersonnelNumber, row, {
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
 * Its employee and company are resolved in SQL by personnel number and company code (derivations.ts).
 * As from cdm_workertype, the worker type says employee or contractor: only contractors map.
 */
export const mapFnoEmployment: FnoRowMapper = (row) => {
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
  return record(`${employment.PersonnelNumber}:${employment.LegalEntityId.toLowerCase()}:${start}`, row, {
    employment_type: workerType === 'Contractor' ? 'CONTRACTOR' : null,
    employment_type_raw: workerType,
    start_date: fnoDate(employment.EmploymentStartDate),
    end_date: fnoDate(employment.EmploymentEndDate),
  });
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

const RELATIONSHIP: Record<string, string> = {
  Child: 'CHILD',
  Spouse: 'SPOUSE',
  DomesticPartner: 'DOMESTIC_PARTNER',
};

/**
 * The dependent's remote id. A contact person is a party that may be the contact of several
 * workers (two employees married to each other), so the key is the worker and the party together,
 * as in the entity's own key. Coverage links (covered beneficiaries) name the same pair.
 */
export function dependentRemoteId(personnelNumber: string, partyNumber: string): string {
  return `${personnelNumber}:${partyNumber}`;
}

export const mapPersonalContact: FnoRowMapper = (row) => {
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
  return record(dependentRemoteId(contact.WorkerPersonnelNumber, contact.ContactPersonPartyNumber), row, {
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
  });
};

// --- Worker enrolled benefits: benefit enrollments --------------------------------------------------

export const enrolledBenefitFields = [
  'dataAreaId',
  'EnrolledBenefitRecordId',
  'WorkerPersonnelNumber',
  'BenefitPlanId',
  'BenefitTypeId',
  'BenefitOptionId',
  'CoverageStartDate',
  'CoverageEndDate',
  'EmployeeContributionAmount',
  'EmployerContributionAmount',
  'EnrollmentStatus',
] as const;

const enrolledBenefitRow = z.object({
  dataAreaId: requiredText,
  EnrolledBenefitRecordId: integer,
  WorkerPersonnelNumber: requiredText,
  BenefitPlanId: text,
  BenefitOptionId: text,
  CoverageStartDate: text,
  CoverageEndDate: text,
  EmployeeContributionAmount: decimal,
  EmployerContributionAmount: decimal,
  EnrollmentStatus: enumText,
});

/** Enrollments are keyed by legal entity and RecId, as covered beneficiaries reference them. */
export function enrollmentRemoteId(dataAreaId: string, recordId: number | string): string {
  return `${dataAreaId.toLowerCase()}:${recordId}`;
}

const ENROLLMENT_STATUS: Record<string, string> = {
  Enrolled: 'ACTIVE',
  Ended: 'TERMINATED',
  Waived: 'WAIVED',
  Pending: 'PENDING',
};

// Benefit option ids → coverage levels, as for plans' options (dataverse/derivations.ts).
export const COVERAGE_LEVEL: Readonly<Record<string, string>> = {
  EE: 'EMPLOYEE_ONLY',
  'EE+SP': 'EMPLOYEE_SPOUSE',
  'EE+CH': 'EMPLOYEE_CHILDREN',
  'EE+FAM': 'EMPLOYEE_FAMILY',
  FAM: 'EMPLOYEE_FAMILY',
};

/** Amounts in minor units (F&O gives decimals in the company currency, which the entity omits). */
export const minor = (amount: number | null | undefined) =>
  amount === null || amount === undefined ? null : Math.round(amount * 100);

export const mapEnrolledBenefit: FnoRowMapper = (row) => {
  const parsed = enrolledBenefitRow.safeParse(row);
  if (!parsed.success) {
    return invalid(
      `${String(row.dataAreaId ?? '?')}:${String(row.EnrolledBenefitRecordId ?? '?')}`,
      parsed.error,
    );
  }
  const enrollment = parsed.data;
  const option = enrollment.BenefitOptionId ?? null;
  const status = enrollment.EnrollmentStatus ?? null;
  return record(enrollmentRemoteId(enrollment.dataAreaId, enrollment.EnrolledBenefitRecordId), row, {
    status: status ? (ENROLLMENT_STATUS[status] ?? null) : null,
    status_raw: status,
    coverage_level: option ? (COVERAGE_LEVEL[option.toUpperCase()] ?? 'OTHER') : null,
    coverage_level_raw: option,
    start_date: fnoDate(enrollment.CoverageStartDate),
    end_date: fnoDate(enrollment.CoverageEndDate),
    employee_contribution_amount_minor: minor(enrollment.EmployeeContributionAmount),
    employee_contribution_percent_bps: null,
    employee_contribution_currency: null,
    company_contribution_amount_minor: minor(enrollment.EmployerContributionAmount),
    company_contribution_percent_bps: null,
    company_contribution_currency: null,
  });
};

// --- Covered beneficiary relationships (HcmCoveredBeneficiaryRelationshipEntity): coverage links ---

export const coveredBeneficiaryFields = [
  'dataAreaId',
  'WorkerEnrolledBenefitRecordID',
  'ChildParty',
  'PartyRelationship',
  'Designated',
  'Percentage',
] as const;

const coveredBeneficiaryRow = z.object({
  dataAreaId: requiredText,
  WorkerEnrolledBenefitRecordID: integer,
  ChildParty: requiredText,
});

/**
 * Kept as auxiliary rows (provider_records): a derivation rebuilds the coverage links from them in
 * SQL, so links never need the enrollment and its beneficiaries on the same page, and memory stays
 * bounded (see derivations.ts). remote_data keeps the enrollment's key for the join.
 */
export const mapCoveredBeneficiary: FnoRowMapper = (row) => {
  const parsed = coveredBeneficiaryRow.safeParse(row);
  if (!parsed.success) {
    return invalid(
      `${String(row.dataAreaId ?? '?')}:${String(row.WorkerEnrolledBenefitRecordID ?? '?')}:${String(row.ChildParty ?? '?')}`,
      parsed.error,
    );
  }
  const link = parsed.data;
  const enrollment = enrollmentRemoteId(link.dataAreaId, link.WorkerEnrolledBenefitRecordID);
  return record(`${enrollment}:${link.ChildParty}`, { ...row, enrollment_remote_id: enrollment }, {});
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
