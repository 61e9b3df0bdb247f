import { z } from 'zod';
import type {
  CoverageLevel,
  EmploymentType,
  EnrollmentStatus,
  Gender,
  PayFrequency,
  PayPeriod,
  PlanType,
  Relationship,
  WorkerType,
} from '../../generated/prisma/enums.js';
import type { ModelName } from '../../unified/models.js';
import type { InvalidRow, MappedRecord } from '../types.js';

/**
 * BambooHR rows → unified records. Pure functions: a raw row (validated with zod) and a way to name
 * referenced records in, a record typed as the unified model's fields out, or the reason the row is
 * invalid. Wire names and values: docs/bamboohr.md. Values the unified enums have no place for keep
 * their raw value beside a null (never guessed).
 */

export interface BambooMapContext {
  /** Our id of the record `remoteId` of `model` in this linked account (null for none). */
  ref(model: ModelName, remoteId: string | null | undefined): string | null;
  /** The department list option id for a department name (meta/lists), if known. */
  departmentId(name: string | null | undefined): string | null;
}

/** A record of `Model`, typed by the unified model's fields (src/unified/fields.ts), or why the row is invalid. */
type Mapped<Model extends ModelName> = MappedRecord<Model> | InvalidRow;

const text = z.string().nullish();
/** BambooHR ids are integers, sent as strings by most endpoints and as numbers by the benefits ones. */
const id = z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform(String);

/** `YYYY-MM-DD`, or null for empty and BambooHR's "0000-00-00" no-date. */
export function bambooDate(value: string | null | undefined): string | null {
  if (!value || value.startsWith('0000')) return null;
  return /^\d{4}-\d{2}-\d{2}$/.test(value.slice(0, 10)) ? value.slice(0, 10) : null;
}

const lookup = <Unified extends string>(
  table: Record<string, Unified>,
  raw: string | null | undefined,
  otherwise: Unified | null,
): { value: Unified | null; raw: string | null } =>
  raw ? { value: table[raw.toLowerCase()] ?? otherwise, raw } : { value: null, raw: null };

function invalid(row: unknown, error: z.ZodError): InvalidRow {
  const key = (row as { id?: unknown } | null)?.id;
  return {
    key: typeof key === 'string' || typeof key === 'number' ? String(key) : '<row without id>',
    reason: error.issues.map((issue) => `${issue.path.join('.') || 'row'}: ${issue.message}`).join('; '),
  };
}

const GENDER: Record<string, Gender> = { male: 'MALE', female: 'FEMALE', 'non-binary': 'NON_BINARY' };

/** The custom report's employee row (docs/bamboohr.md, "Fields"). */
export const reportEmployeeSchema = z.object({
  id,
  employeeNumber: text,
  firstName: text,
  middleName: text,
  lastName: text,
  preferredName: text,
  displayName: text,
  workEmail: text,
  homeEmail: text,
  mobilePhone: text,
  dateOfBirth: text,
  gender: text,
  status: text,
  employmentHistoryStatus: text,
  hireDate: text,
  originalHireDate: text,
  terminationDate: text,
  department: text,
  jobTitle: text,
  supervisorEId: z.union([z.string(), z.number()]).nullish(),
});
export type ReportEmployee = z.infer<typeof reportEmployeeSchema>;

export function mapEmployee(row: unknown, context: BambooMapContext): Mapped<'employees'> {
  const parsed = reportEmployeeSchema.safeParse(row);
  if (!parsed.success) return invalid(row, parsed.error);
  const employee = parsed.data;
  const gender = lookup(GENDER, employee.gender, 'OTHER');
  const status = lookup<'ACTIVE' | 'INACTIVE'>(
    { active: 'ACTIVE', inactive: 'INACTIVE' },
    employee.status,
    null,
  );
  // The employment status list is account-defined; only Contractor is built in (docs/bamboohr.md, "Tables").
  const history = employee.employmentHistoryStatus ?? null;
  const workerType: WorkerType | null =
    history === null ? null : history.toLowerCase() === 'contractor' ? 'CONTRACTOR' : 'EMPLOYEE';
  return {
    remoteId: employee.id,
    remoteData: row as Record<string, unknown>,
    remoteCreatedAt: null,
    remoteModifiedAt: null,
    fields: {
      employee_number: employee.employeeNumber ?? null,
      first_name: employee.firstName ?? null,
      middle_name: employee.middleName || null,
      last_name: employee.lastName ?? null,
      preferred_name: employee.preferredName || null,
      display_full_name: employee.displayName ?? null,
      work_email: employee.workEmail || null,
      personal_email: employee.homeEmail || null,
      mobile_phone_number: employee.mobilePhone || null,
      manager_id: context.ref('employees', employee.supervisorEId ? String(employee.supervisorEId) : null),
      department_id: context.departmentId(employee.department),
      job_title: employee.jobTitle || null,
      date_of_birth: bambooDate(employee.dateOfBirth),
      gender: gender.value,
      gender_raw: gender.raw,
      worker_type: workerType,
      worker_type_raw: history,
      employment_status: status.value,
      employment_status_raw: status.raw,
      // hireDate moves to the rehire date; the first hire is originalHireDate (docs/bamboohr.md, "Tables").
      hire_date: bambooDate(employee.originalHireDate) ?? bambooDate(employee.hireDate),
      start_date: bambooDate(employee.hireDate),
      termination_date: bambooDate(employee.terminationDate),
    },
  };
}

const tableRow = z.record(z.string(), z.unknown());
/** An employee's rows of the three tables an employment is built from. */
export interface EmployeeTables {
  jobInfo: Record<string, unknown>[];
  employmentStatus: Record<string, unknown>[];
  compensation: Record<string, unknown>[];
}

const EMPLOYMENT_TYPE: Record<string, EmploymentType> = {
  'full-time': 'FULL_TIME',
  'part-time': 'PART_TIME',
  contractor: 'CONTRACTOR',
  intern: 'INTERN',
  freelance: 'FREELANCE',
};
const PAY_PERIOD: Record<string, PayPeriod> = {
  hour: 'HOUR',
  day: 'DAY',
  week: 'WEEK',
  month: 'MONTH',
  quarter: 'QUARTER',
  year: 'YEAR',
};
/** The pay schedule names of the tables page's payPeriod column (docs/bamboohr.md, "Tables"). */
const PAY_FREQUENCY: Record<string, PayFrequency> = {
  daily: 'DAILY',
  weekly: 'WEEKLY',
  'every other week': 'BIWEEKLY',
  'twice a month': 'SEMIMONTHLY',
  monthly: 'MONTHLY',
  quarterly: 'QUARTERLY',
  'twice a year': 'SEMIANNUALLY',
  yearly: 'ANNUALLY',
};

const dateOf = (row: Record<string, unknown>, column: string): string =>
  typeof row[column] === 'string' ? (row[column] as string) : '';

/** The row in effect today: the latest one whose date has come (dates are YYYY-MM-DD, so they sort). */
function current(
  rows: Record<string, unknown>[],
  column: string,
  today: string,
): Record<string, unknown> | undefined {
  return [...rows]
    .filter((row) => dateOf(row, column) !== '' && dateOf(row, column) <= today)
    .sort((a, b) => dateOf(a, column).localeCompare(dateOf(b, column)))
    .at(-1);
}

/** "75000.00 USD" → 75000 and USD. */
export function parseRate(value: unknown): { amount: number | null; currency: string | null } {
  if (typeof value !== 'string') return { amount: null, currency: null };
  const match = /^\s*([\d.,]+)\s*([A-Z]{3})?\s*$/.exec(value);
  if (!match) return { amount: null, currency: null };
  const amount = Number((match[1] ?? '').replaceAll(',', ''));
  return { amount: Number.isFinite(amount) ? amount : null, currency: match[2] ?? null };
}

/**
 * One employment per employee, from its job info, employment status and compensation rows as of
 * today (the history stays in remote_data). The remote id is the employee's id.
 */
export function mapEmployment(
  employeeId: string,
  tables: EmployeeTables,
  context: BambooMapContext,
  today: string,
): Mapped<'employments'> {
  const rows = z.array(tableRow);
  for (const [table, value] of Object.entries(tables)) {
    const parsed = rows.safeParse(value);
    if (!parsed.success) return { key: employeeId, reason: `${table}: ${parsed.error.issues[0]?.message}` };
  }
  const job = current(tables.jobInfo, 'date', today);
  const status = current(tables.employmentStatus, 'date', today);
  const pay = current(tables.compensation, 'startDate', today);
  const statusName = typeof status?.employmentStatus === 'string' ? status.employmentStatus : null;
  const type = lookup(EMPLOYMENT_TYPE, statusName, null);
  const starts = tables.employmentStatus
    .map((row) => dateOf(row, 'date'))
    .filter(Boolean)
    .sort();
  const rate = parseRate(pay?.rate);
  const period = lookup(PAY_PERIOD, typeof pay?.paidPer === 'string' ? pay.paidPer : null, null);
  const frequency = lookup(
    PAY_FREQUENCY,
    typeof pay?.paySchedule === 'string' ? pay.paySchedule : null,
    null,
  );
  const terminated = statusName?.toLowerCase() === 'terminated';
  return {
    remoteId: employeeId,
    remoteData: { employeeId, ...tables },
    remoteCreatedAt: null,
    remoteModifiedAt: null,
    fields: {
      employee_id: context.ref('employees', employeeId),
      job_title: typeof job?.jobTitle === 'string' ? job.jobTitle : null,
      // A terminated employee keeps the type they had; the raw value says Terminated.
      employment_type: type.value,
      employment_type_raw: type.raw,
      start_date: bambooDate(starts[0]),
      end_date: terminated ? bambooDate(dateOf(status ?? {}, 'date')) : null,
      pay_rate: rate.amount,
      pay_period: period.value,
      pay_period_raw: period.raw,
      pay_frequency: frequency.value,
      pay_frequency_raw: frequency.raw,
      pay_currency: rate.currency,
    },
  };
}

const RELATIONSHIP: Record<string, Relationship> = {
  spouse: 'SPOUSE',
  child: 'CHILD',
  'domestic partner': 'DOMESTIC_PARTNER',
};

/** The dependents endpoint's row (docs/bamboohr.md, "Dependents"). */
const dependentSchema = z.object({
  id,
  employeeId: id,
  firstName: text,
  middleName: text,
  lastName: text,
  relationship: text,
  gender: text,
  dateOfBirth: text,
  isStudent: text,
});

export function mapDependent(row: unknown, context: BambooMapContext): Mapped<'dependents'> {
  const parsed = dependentSchema.safeParse(row);
  if (!parsed.success) return invalid(row, parsed.error);
  const dependent = parsed.data;
  const relationship = lookup(RELATIONSHIP, dependent.relationship, 'OTHER');
  const gender = lookup(GENDER, dependent.gender, 'OTHER');
  const student = dependent.isStudent?.toLowerCase();
  return {
    remoteId: dependent.id,
    remoteData: row as Record<string, unknown>,
    remoteCreatedAt: null,
    remoteModifiedAt: null,
    fields: {
      employee_id: context.ref('employees', dependent.employeeId),
      first_name: dependent.firstName ?? null,
      middle_name: dependent.middleName || null,
      last_name: dependent.lastName ?? null,
      relationship: relationship.value,
      relationship_raw: relationship.raw,
      date_of_birth: bambooDate(dependent.dateOfBirth),
      gender: gender.value,
      gender_raw: gender.raw,
      is_student: student === 'yes' ? true : student === 'no' ? false : null,
    },
  };
}

const listOptionSchema = z.object({ id, name: z.string(), archived: text });

/** A department: an option of the Department list field (meta/lists). */
export function mapDepartment(row: unknown): Mapped<'departments'> {
  const parsed = listOptionSchema.safeParse(row);
  if (!parsed.success) return invalid(row, parsed.error);
  return {
    remoteId: parsed.data.id,
    remoteData: row as Record<string, unknown>,
    remoteCreatedAt: null,
    remoteModifiedAt: null,
    fields: { name: parsed.data.name, code: null },
  };
}

const PLAN_TYPE: Record<string, PlanType> = {
  medical: 'MEDICAL',
  dental: 'DENTAL',
  vision: 'VISION',
  life: 'LIFE',
  disability: 'DISABILITY',
  hsa: 'HSA',
  fsa: 'FSA',
  retirement: 'RETIREMENT',
  '401k': 'RETIREMENT',
  commuter: 'COMMUTER',
};

/** A company benefit (docs/bamboohr.md, "Benefits"). */
const companyBenefitSchema = z.object({
  id,
  name: text,
  benefitType: text,
  description: text,
  startDate: text,
  endDate: text,
});

export function mapBenefitPlan(row: unknown): Mapped<'benefit_plans'> {
  const parsed = companyBenefitSchema.safeParse(row);
  if (!parsed.success) return invalid(row, parsed.error);
  const plan = parsed.data;
  const type = lookup(PLAN_TYPE, plan.benefitType, 'OTHER');
  return {
    remoteId: plan.id,
    remoteData: row as Record<string, unknown>,
    remoteCreatedAt: null,
    remoteModifiedAt: null,
    fields: {
      name: plan.name ?? null,
      description: plan.description ?? null,
      plan_type: type.value,
      plan_type_raw: type.raw,
      plan_year_start: bambooDate(plan.startDate),
      plan_year_end: bambooDate(plan.endDate),
    },
  };
}

const ENROLLMENT_STATUS: Record<string, EnrollmentStatus> = {
  enrolled: 'ACTIVE',
  waived: 'WAIVED',
  withdrawn: 'TERMINATED',
  terminated: 'TERMINATED',
};
const COVERAGE_LEVEL: Record<string, CoverageLevel> = {
  employee: 'EMPLOYEE_ONLY',
  'employee + spouse': 'EMPLOYEE_SPOUSE',
  'employee + child(ren)': 'EMPLOYEE_CHILDREN',
  family: 'EMPLOYEE_FAMILY',
};

/** An employee benefit record (docs/bamboohr.md, "Benefits"; names from BambooHR's SDK). */
const employeeBenefitSchema = z.object({
  employeeId: id,
  companyBenefitId: id,
  coverageLevel: text,
  deductionStartDate: text,
  deductionEndDate: text,
  enrollmentStatus: text,
  currencyCode: text,
  employeeAmount: z.number().nullish(),
  employeeAmountType: text,
  companyAmount: z.number().nullish(),
  companyAmountType: text,
});

/** An amount → minor units, or a percentage → basis points, by its amount type. */
function contribution(amount: number | null | undefined, type: string | null | undefined) {
  if (amount === null || amount === undefined) return { minor: null, bps: null };
  return type?.toLowerCase().startsWith('percent')
    ? { minor: null, bps: Math.round(amount * 100) }
    : { minor: Math.round(amount * 100), bps: null };
}

/** The remote id of an enrollment: BambooHR has none, an employee has one record per plan. */
export const enrollmentRemoteId = (employeeId: string, planId: string): string => `${employeeId}:${planId}`;

export function mapBenefitEnrollment(row: unknown, context: BambooMapContext): Mapped<'benefit_enrollments'> {
  const parsed = employeeBenefitSchema.safeParse(row);
  if (!parsed.success) return invalid(row, parsed.error);
  const enrollment = parsed.data;
  // Eligible and Ineligible are not enrollments' states in the unified enum: null, raw kept.
  const status = lookup(ENROLLMENT_STATUS, enrollment.enrollmentStatus, null);
  const coverage = lookup(COVERAGE_LEVEL, enrollment.coverageLevel, 'OTHER');
  const employee = contribution(enrollment.employeeAmount, enrollment.employeeAmountType);
  const company = contribution(enrollment.companyAmount, enrollment.companyAmountType);
  return {
    remoteId: enrollmentRemoteId(enrollment.employeeId, enrollment.companyBenefitId),
    remoteData: row as Record<string, unknown>,
    remoteCreatedAt: null,
    remoteModifiedAt: null,
    fields: {
      employee_id: context.ref('employees', enrollment.employeeId),
      benefit_plan_id: context.ref('benefit_plans', enrollment.companyBenefitId),
      status: status.value,
      status_raw: status.raw,
      coverage_level: coverage.value,
      coverage_level_raw: coverage.raw,
      start_date: bambooDate(enrollment.deductionStartDate),
      end_date: bambooDate(enrollment.deductionEndDate),
      employee_contribution_amount_minor: employee.minor,
      employee_contribution_percent_bps: employee.bps,
      employee_contribution_currency: enrollment.currencyCode ?? null,
      company_contribution_amount_minor: company.minor,
      company_contribution_percent_bps: company.bps,
      company_contribution_currency: enrollment.currencyCode ?? null,
    },
  };
}
