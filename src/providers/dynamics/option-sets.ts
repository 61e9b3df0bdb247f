import type {
  EmploymentStatus,
  EmploymentType,
  EnrollmentStatus,
  Gender,
  PlanType,
  WorkerType,
} from '../../generated/prisma/enums.js';
import type { SourceId } from './published-sources.js';

/**
 * Every option-set code the gateway reads or writes, in one place: the Dataverse mappers map codes
 * with it, the sandbox generates rows and FormattedValue labels from it, and the seed generator
 * writes the same raw codes (so a seeded account and a synced one agree). Each set names the
 * publication its codes come from (published-sources.ts, docs/microsoft-wire.md); a value marked
 * `unpublished` is a code environments send that no Microsoft page lists, kept with the raw value
 * stored beside the mapped one.
 *
 * `label` is the display text the sandbox sends as the FormattedValue annotation; the adapter
 * never reads labels (they are localised in real environments).
 */
export interface OptionValue<Unified extends string> {
  code: number;
  label: string;
  /** The unified enum value, or null when the code has no unified meaning. */
  unified: Unified | null;
  /** The Finance & Operations enum value Microsoft's templates map this code to, when published. */
  fno?: string;
  /** The code's own publication when it is not the set's (`unpublished`: a code no page lists). */
  source?: SourceId;
}

export interface OptionSetDefinition<Unified extends string = string> {
  /** Table and column (or option set) name, for docs and errors. */
  name: string;
  source: SourceId;
  values: readonly OptionValue<Unified>[];
}

function optionSet<Unified extends string>(
  name: string,
  source: SourceId,
  values: readonly OptionValue<Unified>[],
): OptionSetDefinition<Unified> {
  return { name, source, values };
}

/**
 * cdm_worker.cdm_gender, and the F&O Gender enum value (Male, Female, None, NonSpecific) the dual-write
 * Worker template maps each code to (docs/microsoft-wire.md, "Option sets"); None means not
 * specified. F&O rows (workers, personal contacts) map through `fno`.
 */
export const WORKER_GENDER = optionSet<Gender>('cdm_worker.cdm_gender', 'dual-write-mapping-reference', [
  { code: 754400000, label: 'Male', unified: 'MALE', fno: 'Male' },
  { code: 754400001, label: 'Female', unified: 'FEMALE', fno: 'Female' },
  { code: 754400002, label: 'NotSpecified', unified: 'PREFER_NOT_TO_DISCLOSE', fno: 'None' },
  { code: 754400003, label: 'Non-specific', unified: 'NON_BINARY', fno: 'NonSpecific' },
]);

/**
 * cdm_worker.cdm_type: the dual-write Worker template maps WORKERTYPE employee → 754400000 and
 * contractor → 754400001. Volunteers exist only in Dataverse (`integrated-hr` names them); their
 * code, and an unspecified one, are in no publication.
 */
export const WORKER_TYPE = optionSet<WorkerType>('cdm_worker.cdm_type', 'dual-write-mapping-reference', [
  { code: 754400000, label: 'Employee', unified: 'EMPLOYEE' },
  { code: 754400001, label: 'Contractor', unified: 'CONTRACTOR' },
  { code: 754400002, label: 'Volunteer', unified: 'VOLUNTEER', source: 'unpublished' },
  { code: 754400003, label: 'Unspecified', unified: 'OTHER', source: 'unpublished' },
]);

/**
 * cdm_employment.cdm_workertype → employment type (the "Employment per company" template maps
 * employee → 754400000, contractor → 754400001): it says employee or contractor, not full or part
 * time, so only contractors map.
 */
export const EMPLOYMENT_WORKER_TYPE = optionSet<EmploymentType>(
  'cdm_employment.cdm_workertype',
  'dual-write-mapping-reference',
  [
    { code: 754400000, label: 'Employee', unified: null },
    { code: 754400001, label: 'Contractor', unified: 'CONTRACTOR' },
    { code: 754400002, label: 'Volunteer', unified: null, source: 'unpublished' },
    { code: 754400003, label: 'Unspecified', unified: null, source: 'unpublished' },
  ],
);

/**
 * cdm_worker.cdm_status: the dual-write Worker template maps WORKERSTATUS employed → 754400000, and
 * both pending and terminated → 754400001 (not employed).
 */
export const WORKER_STATUS = optionSet<EmploymentStatus>(
  'cdm_worker.cdm_status',
  'dual-write-mapping-reference',
  [
    { code: 754400000, label: 'Active', unified: 'ACTIVE' },
    { code: 754400001, label: 'Inactive', unified: 'INACTIVE' },
  ],
);

/** statecode / statuscode of every Dataverse table (0/1 and 1/2, the platform's own values). */
export const STATE_CODE = optionSet('statecode', 'dataverse-table-reference', [
  { code: 0, label: 'Active', unified: null },
  { code: 1, label: 'Inactive', unified: null },
]);
export const STATUS_CODE = optionSet('statuscode', 'dataverse-table-reference', [
  { code: 1, label: 'Active', unified: null },
  { code: 2, label: 'Inactive', unified: null },
]);

/**
 * Benefit plan types. Published as the virtual tables' plan-type option set; its labels are also the
 * benefit type ids a Human Resources environment ships with (the payroll API example shows plan type
 * id "Dental"), which is how a cdm_benefittype's cdm_name maps to a plan type.
 */
export const BENEFIT_PLAN_TYPE = optionSet<PlanType>('mserp_plantypecode', 'benefit-plan-type-cover', [
  { code: 200000000, label: 'Medical', unified: 'MEDICAL' },
  { code: 200000001, label: 'Dental', unified: 'DENTAL' },
  { code: 200000002, label: 'Vision', unified: 'VISION' },
  { code: 200000003, label: 'Savings', unified: 'RETIREMENT' },
  { code: 200000004, label: 'Flexible spending account', unified: 'FSA' },
  { code: 200000005, label: 'Life', unified: 'LIFE' },
  { code: 200000006, label: 'AccidentalDeathDismemberment', unified: 'LIFE' },
  { code: 200000007, label: 'Other', unified: 'OTHER' },
  { code: 200000008, label: 'LongTermDisability', unified: 'DISABILITY' },
  { code: 200000009, label: 'ShortTermDisability', unified: 'DISABILITY' },
]);

/** mshr_payrollworkerbenefitplanentity.mshr_status: a worker's plan is selected or waived. */
export const BENEFIT_EMPLOYEE_PLAN_STATUS = optionSet<EnrollmentStatus>(
  'mshr_status',
  'benefit-employee-plan-status',
  [
    { code: 200000000, label: 'None', unified: null },
    { code: 200000001, label: 'Selected', unified: 'ACTIVE' },
    { code: 200000002, label: 'Waived', unified: 'WAIVED' },
  ],
);

export const OPTION_SETS = [
  WORKER_GENDER,
  WORKER_TYPE,
  EMPLOYMENT_WORKER_TYPE,
  WORKER_STATUS,
  STATE_CODE,
  STATUS_CODE,
  BENEFIT_PLAN_TYPE,
  BENEFIT_EMPLOYEE_PLAN_STATUS,
] as const;

/** The set as code → label, the shape the sandbox's catalog and FormattedValue annotations use. */
export function labelsByCode(set: OptionSetDefinition): Readonly<Record<number, string>> {
  return Object.fromEntries(set.values.map((value) => [value.code, value.label]));
}

/** The code of a unified value (first match), e.g. for generators writing raw rows. */
export function codeOf<Unified extends string>(set: OptionSetDefinition<Unified>, unified: Unified): number {
  const found = set.values.find((value) => value.unified === unified);
  if (!found) throw new Error(`${set.name} has no code for ${unified}`);
  return found.code;
}

/**
 * A raw code mapped through the set, keeping the raw code (as text) beside it: unknown codes map to
 * `unknown` (OTHER for most enums), null stays null.
 */
export function mapCode<Unified extends string>(
  set: OptionSetDefinition<Unified>,
  code: number | null | undefined,
  unknown: Unified | null,
): { value: Unified | null; raw: string | null } {
  if (code === null || code === undefined) return { value: null, raw: null };
  const found = set.values.find((value) => value.code === code);
  return { value: found ? found.unified : unknown, raw: String(code) };
}

/** An F&O enum value mapped through a set's `fno` column, the raw value kept beside it. */
export function mapFnoValue<Unified extends string>(
  set: OptionSetDefinition<Unified>,
  value: string | null | undefined,
  unknown: Unified | null,
): { value: Unified | null; raw: string | null } {
  if (!value) return { value: null, raw: null };
  const found = set.values.find((entry) => entry.fno === value);
  return { value: found ? found.unified : unknown, raw: value };
}

/** The F&O enum value of a code, e.g. for the sandbox generating F&O rows of the same people. */
export function fnoValueOf(set: OptionSetDefinition, code: number): string {
  const found = set.values.find((entry) => entry.code === code)?.fno;
  if (!found) throw new Error(`${set.name} publishes no F&O value for ${code}`);
  return found;
}

/** How benefit type ids are compared: lower case, letters and digits only ("Long term disability" = "LongTermDisability"). */
export function normaliseTypeName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/**
 * Benefit type id (normalised) → plan type: the published plan-type labels, then a few ids
 * organisations commonly define themselves (HSA, FSA, 401K...; customer data, not Microsoft names).
 */
export const PLAN_TYPE_BY_NORMALISED_NAME: Readonly<Record<string, PlanType>> = {
  ...Object.fromEntries(
    BENEFIT_PLAN_TYPE.values.map((value) => [normaliseTypeName(value.label), value.unified ?? 'OTHER']),
  ),
  hsa: 'HSA',
  fsa: 'FSA',
  retirement: 'RETIREMENT',
  '401k': 'RETIREMENT',
  disability: 'DISABILITY',
  commuter: 'COMMUTER',
};

/** A plan type from a benefit type's id, as the plan-type rule (dataverse/joins.ts) gives it in SQL. */
export function planTypeFromName(name: string | null | undefined): PlanType | null {
  if (!name) return null;
  return PLAN_TYPE_BY_NORMALISED_NAME[normaliseTypeName(name)] ?? 'OTHER';
}
