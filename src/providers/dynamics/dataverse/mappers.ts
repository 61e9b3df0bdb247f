import { z } from 'zod';
import type { ModelName } from '../../../unified/models.js';
import type { InvalidRow, MappedRecord, RecordFields, StreamTarget } from '../../types.js';
import { COVERAGE_LEVEL, minor } from '../fno/mappers.js';
import {
  BENEFIT_EMPLOYEE_PLAN_STATUS,
  EMPLOYMENT_WORKER_TYPE,
  mapCode,
  WORKER_GENDER,
  WORKER_STATUS,
  WORKER_TYPE,
} from '../option-sets.js';

/**
 * Dataverse rows → unified fields (columns and codes: catalog.ts and option-sets.ts, sources in
 * docs/microsoft-wire.md). Pure functions: a raw row and a way to name
 * referenced records in, a mapped record (or the reason it is invalid) out. Fields filled from
 * other tables (an employee's position, a plan's type) are not set here: see joins.ts.
 */

export interface MapContext {
  /** Our id of the record `remoteId` of `model` in this linked account (null for a null lookup). */
  ref(model: ModelName, remoteId: string | null | undefined): string | null;
}

/** Maps a row of a table feeding `Target` (typed: only that model's fields, with their types). */
export type RowMapper<Target extends StreamTarget = StreamTarget> = (
  row: Record<string, unknown>,
  context: MapContext,
) => MappedRecord<Target> | InvalidRow;

const guid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
const nullableString = z.string().nullish();
const nullableGuid = guid.nullish();
const timestamp = z.string().nullish();

const rowBase = z.object({ createdon: timestamp, modifiedon: timestamp });

/** Dynamics uses far-future dates for "no end" (validto 2154-12-31); those mean null. */
const OPEN_ENDED_YEAR = 2154;

/** An ISO date-time or date → YYYY-MM-DD (the date as Dynamics stored it, in UTC). */
export function isoDate(value: string | null | undefined): string | null {
  if (!value) return null;
  const date = value.slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return null;
  return Number(date.slice(0, 4)) >= OPEN_ENDED_YEAR ? null : date;
}

function invalid(row: Record<string, unknown>, keyColumn: string, error: z.ZodError): InvalidRow {
  const key = typeof row[keyColumn] === 'string' ? (row[keyColumn] as string) : `<row without ${keyColumn}>`;
  return {
    key,
    reason: error.issues.map((issue) => `${issue.path.join('.') || keyColumn}: ${issue.message}`).join('; '),
  };
}

/** The raw row as remote_data: everything Dataverse sent, minus the OData envelope noise. */
function remoteData(row: Record<string, unknown>): Record<string, unknown> {
  const { '@odata.etag': _etag, ...rest } = row;
  return rest;
}

function record<Target extends StreamTarget>(
  row: Record<string, unknown>,
  remoteId: string,
  base: z.infer<typeof rowBase>,
  fields: RecordFields<Target>,
): MappedRecord<Target> {
  return {
    remoteId,
    fields,
    remoteData: remoteData(row),
    remoteCreatedAt: base.createdon ?? null,
    remoteModifiedAt: base.modifiedon ?? null,
  };
}

const workerRow = rowBase.extend({
  cdm_workerid: guid,
  cdm_workernumber: nullableString,
  cdm_firstname: nullableString,
  cdm_middlename: nullableString,
  cdm_lastname: nullableString,
  cdm_fullname: nullableString,
  cdm_primaryemailaddress: nullableString,
  cdm_mobilephone: nullableString,
  cdm_birthdate: nullableString,
  _cdm_managerworkerid_value: nullableGuid,
  cdm_gender: z.number().int().nullish(),
  cdm_type: z.number().int().nullish(),
  cdm_status: z.number().int().nullish(),
});

export const mapWorker: RowMapper<'employees'> = (row, context) => {
  const parsed = workerRow.safeParse(row);
  if (!parsed.success) return invalid(row, 'cdm_workerid', parsed.error);
  const worker = parsed.data;
  const gender = mapCode(WORKER_GENDER, worker.cdm_gender, 'OTHER');
  const workerType = mapCode(WORKER_TYPE, worker.cdm_type, 'OTHER');
  const status = mapCode(WORKER_STATUS, worker.cdm_status, null);
  return record<'employees'>(row, worker.cdm_workerid, worker, {
    employee_number: worker.cdm_workernumber ?? null,
    first_name: worker.cdm_firstname ?? null,
    middle_name: worker.cdm_middlename ?? null,
    last_name: worker.cdm_lastname ?? null,
    display_full_name: worker.cdm_fullname ?? null,
    work_email: worker.cdm_primaryemailaddress ?? null,
    mobile_phone_number: worker.cdm_mobilephone ?? null,
    manager_id: context.ref('employees', worker._cdm_managerworkerid_value),
    date_of_birth: isoDate(worker.cdm_birthdate),
    gender: gender.value,
    gender_raw: gender.raw,
    worker_type: workerType.value,
    worker_type_raw: workerType.raw,
    employment_status: status.value,
    employment_status_raw: status.raw,
  });
};

const employmentRow = rowBase.extend({
  cdm_employmentid: guid,
  _cdm_workerid_value: nullableGuid,
  _cdm_companyid_value: nullableGuid,
  cdm_workertype: z.number().int().nullish(),
  cdm_employmentstartdate: timestamp,
  cdm_employmentenddate: timestamp,
});

export const mapEmployment: RowMapper<'employments'> = (row, context) => {
  const parsed = employmentRow.safeParse(row);
  if (!parsed.success) return invalid(row, 'cdm_employmentid', parsed.error);
  const employment = parsed.data;
  const employmentType = mapCode(EMPLOYMENT_WORKER_TYPE, employment.cdm_workertype, null);
  return record<'employments'>(row, employment.cdm_employmentid, employment, {
    employee_id: context.ref('employees', employment._cdm_workerid_value),
    company_id: context.ref('companies', employment._cdm_companyid_value),
    employment_type: employmentType.value,
    employment_type_raw: employmentType.raw,
    start_date: isoDate(employment.cdm_employmentstartdate),
    end_date: isoDate(employment.cdm_employmentenddate),
  });
};

const companyRow = rowBase.extend({
  cdm_companyid: guid,
  cdm_name: nullableString,
  cdm_companycode: nullableString,
});

export const mapCompany: RowMapper<'companies'> = (row) => {
  const parsed = companyRow.safeParse(row);
  if (!parsed.success) return invalid(row, 'cdm_companyid', parsed.error);
  const company = parsed.data;
  return record<'companies'>(row, company.cdm_companyid, company, {
    name: company.cdm_name ?? null,
    legal_name: company.cdm_name ?? null,
    company_code: company.cdm_companycode ?? null,
  });
};

const departmentRow = rowBase.extend({
  cdm_departmentid: guid,
  cdm_name: nullableString,
  cdm_departmentnumber: nullableString,
});

export const mapDepartment: RowMapper<'departments'> = (row) => {
  const parsed = departmentRow.safeParse(row);
  if (!parsed.success) return invalid(row, 'cdm_departmentid', parsed.error);
  const department = parsed.data;
  return record<'departments'>(row, department.cdm_departmentid, department, {
    name: department.cdm_name ?? null,
    code: department.cdm_departmentnumber ?? null,
    // No publication gives cdm_department a company: departments (operating units) span companies.
    company_id: null,
  });
};

const jobPositionRow = rowBase.extend({
  cdm_jobpositionid: guid,
  cdm_jobpositionnumber: nullableString,
  cdm_description: nullableString,
  _cdm_departmentid_value: nullableGuid,
  cdm_fulltimeequivalent: z.number().nullish(),
  cdm_validfrom: timestamp,
  cdm_validto: timestamp,
});

export const mapJobPosition: RowMapper<'job_positions'> = (row, context) => {
  const parsed = jobPositionRow.safeParse(row);
  if (!parsed.success) return invalid(row, 'cdm_jobpositionid', parsed.error);
  const position = parsed.data;
  // The job lookup's FormattedValue annotation is the job's primary name, i.e. its title, so the
  // title arrives with the position (joins.ts corrects it when a job is renamed later).
  const jobTitle = row['_cdm_jobid_value@OData.Community.Display.V1.FormattedValue'];
  return record<'job_positions'>(row, position.cdm_jobpositionid, position, {
    position_number: position.cdm_jobpositionnumber ?? null,
    job_title: typeof jobTitle === 'string' ? jobTitle : null,
    description: position.cdm_description ?? null,
    department_id: context.ref('departments', position._cdm_departmentid_value),
    full_time_equivalent: position.cdm_fulltimeequivalent ?? null,
    valid_from: isoDate(position.cdm_validfrom),
    valid_to: isoDate(position.cdm_validto),
  });
};

const benefitPlanRow = rowBase.extend({
  cdm_benefitplanid: guid,
  cdm_name: nullableString,
  cdm_description: nullableString,
});

export const mapBenefitPlan: RowMapper<'benefit_plans'> = (row) => {
  const parsed = benefitPlanRow.safeParse(row);
  if (!parsed.success) return invalid(row, 'cdm_benefitplanid', parsed.error);
  const plan = parsed.data;
  return record<'benefit_plans'>(row, plan.cdm_benefitplanid, plan, {
    name: plan.cdm_name ?? null,
    description: plan.cdm_description ?? null,
    // cdm_benefitplan has no published coverage dates; the plan year stays empty.
    plan_year_start: null,
    plan_year_end: null,
  });
};

const payrollBenefitPlanRow = rowBase.extend({
  mshr_payrollworkerbenefitplanentityid: guid,
  mshr_personnelnumber: nullableString,
  mshr_planid: nullableString,
  mshr_coverageoptionid: nullableString,
  mshr_deductionstartdatetime: timestamp,
  mshr_deductionenddatetime: timestamp,
  mshr_status: z.number().int().nullish(),
  mshr_amountemployee: z.number().nullish(),
  mshr_amountemployer: z.number().nullish(),
});

/**
 * The payroll API's virtual table of worker benefit plans → an enrollment (fields as published,
 * docs/microsoft-wire.md "Virtual tables"). The worker and the plan are named by personnel number and
 * plan id and resolved in SQL after the rows are stored (joins.ts), as for F&O enrollments. A
 * Selected plan whose deductions ended is terminated. The table carries no covered dependents.
 * Amounts are "amount or percentage" in the table; they are stored as amounts, like F&O's.
 */
export const mapPayrollWorkerBenefitPlan: RowMapper<'benefit_enrollments'> = (row) => {
  const parsed = payrollBenefitPlanRow.safeParse(row);
  if (!parsed.success) return invalid(row, 'mshr_payrollworkerbenefitplanentityid', parsed.error);
  const plan = parsed.data;
  const status = mapCode(BENEFIT_EMPLOYEE_PLAN_STATUS, plan.mshr_status, null);
  const end = isoDate(plan.mshr_deductionenddatetime);
  const ended = status.value === 'ACTIVE' && end !== null && end <= new Date().toISOString().slice(0, 10);
  const option = plan.mshr_coverageoptionid ?? null;
  return record<'benefit_enrollments'>(row, plan.mshr_payrollworkerbenefitplanentityid, plan, {
    status: ended ? 'TERMINATED' : status.value,
    status_raw: status.raw,
    coverage_level: option ? (COVERAGE_LEVEL[option.toUpperCase()] ?? 'OTHER') : null,
    coverage_level_raw: option,
    start_date: isoDate(plan.mshr_deductionstartdatetime),
    end_date: end,
    employee_contribution_amount_minor: minor(plan.mshr_amountemployee),
    employee_contribution_percent_bps: null,
    employee_contribution_currency: null,
    company_contribution_amount_minor: minor(plan.mshr_amountemployer),
    company_contribution_percent_bps: null,
    company_contribution_currency: null,
  });
};

/**
 * Auxiliary rows are kept raw; they need a valid key, and `refColumn` names the lookup to the record
 * they hang from (stored as ref_id, indexed, for derivations).
 */
export function auxiliaryMapper(keyColumn: string, refColumn?: string): RowMapper<'auxiliary'> {
  const schema = z.object({ [keyColumn]: guid });
  return (row) => {
    const parsed = schema.safeParse(row);
    if (!parsed.success) return invalid(row, keyColumn, parsed.error);
    const base = rowBase.safeParse(row);
    const mapped = record<'auxiliary'>(row, row[keyColumn] as string, base.success ? base.data : {}, {});
    const ref = refColumn ? row[refColumn] : undefined;
    return { ...mapped, refId: typeof ref === 'string' ? ref : null };
  };
}
