/**
 * The unified models as data: for each, its table, its own columns (in API order, with the
 * PostgreSQL type used for bulk writes), which fields are enums with a raw value, which are
 * sensitive, and which reference other models (for `expand`). The API, the seeder and the sync
 * engine all read this one description; prisma/schema.prisma is the database's, and
 * test/unified/models.test.ts checks the two agree.
 */

export const MODEL_NAMES = [
  'employees',
  'employments',
  'dependents',
  'benefit_plans',
  'benefit_enrollments',
  'companies',
  'departments',
  'job_positions',
] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export type PgType =
  | 'uuid'
  | 'text'
  | 'date'
  | 'boolean'
  | 'integer'
  | 'bigint'
  | 'numeric'
  | 'jsonb'
  | 'timestamptz'
  | 'gender'
  | 'worker_type'
  | 'employment_status'
  | 'employment_type'
  | 'pay_period'
  | 'pay_frequency'
  | 'relationship'
  | 'plan_type'
  | 'enrollment_status'
  | 'coverage_level'
  | 'coverage_level[]';

export interface Reference {
  /** The API field holding the referenced id, e.g. manager_id. */
  field: string;
  /** The expand name, e.g. manager. */
  expand: string;
  model: ModelName;
}

export interface ModelSpec {
  name: ModelName;
  /** URL segment under /v1 (kebab-case). */
  path: string;
  table: string;
  /** Human singular for docs: "employee". */
  singular: string;
  /** The model's own columns, in API order (the common ones are in COMMON_COLUMNS). */
  columns: Record<string, PgType>;
  /** Fields whose normalized enum sits beside a `<field>_raw` column holding the source's value. */
  enumFields: readonly string[];
  /** Returned only with include_sensitive_fields=true and a key holding the sensitive permission. */
  sensitiveFields: readonly string[];
  references: readonly Reference[];
}

/** Columns every unified table has, around the model's own. */
export const COMMON_COLUMNS = {
  id: 'uuid',
  linked_account_id: 'uuid',
  remote_id: 'text',
  remote_data: 'jsonb',
  remote_created_at: 'timestamptz',
  remote_modified_at: 'timestamptz',
  created_at: 'timestamptz',
  modified_at: 'timestamptz',
  remote_was_deleted: 'boolean',
  remote_deleted_at: 'timestamptz',
} as const satisfies Record<string, PgType>;

/**
 * The specs as literals (`as const`), so the types of mapped records are inferred from these very
 * columns (UnifiedFields in fields.ts); everything else reads them through MODELS.
 */
const MODEL_SPECS = {
  companies: {
    name: 'companies',
    path: 'companies',
    table: 'companies',
    singular: 'company',
    columns: { name: 'text', legal_name: 'text', company_code: 'text' },
    enumFields: [],
    sensitiveFields: [],
    references: [],
  },
  departments: {
    name: 'departments',
    path: 'departments',
    table: 'departments',
    singular: 'department',
    columns: { name: 'text', code: 'text', company_id: 'uuid', parent_department_id: 'uuid' },
    enumFields: [],
    sensitiveFields: [],
    references: [
      { field: 'company_id', expand: 'company', model: 'companies' },
      { field: 'parent_department_id', expand: 'parent_department', model: 'departments' },
    ],
  },
  job_positions: {
    name: 'job_positions',
    path: 'job-positions',
    table: 'job_positions',
    singular: 'job position',
    columns: {
      position_number: 'text',
      job_title: 'text',
      description: 'text',
      company_id: 'uuid',
      department_id: 'uuid',
      full_time_equivalent: 'numeric',
      valid_from: 'date',
      valid_to: 'date',
    },
    enumFields: [],
    sensitiveFields: [],
    references: [
      { field: 'company_id', expand: 'company', model: 'companies' },
      { field: 'department_id', expand: 'department', model: 'departments' },
    ],
  },
  employees: {
    name: 'employees',
    path: 'employees',
    table: 'employees',
    singular: 'employee',
    columns: {
      employee_number: 'text',
      company_id: 'uuid',
      first_name: 'text',
      middle_name: 'text',
      last_name: 'text',
      preferred_name: 'text',
      display_full_name: 'text',
      work_email: 'text',
      personal_email: 'text',
      mobile_phone_number: 'text',
      manager_id: 'uuid',
      department_id: 'uuid',
      position_id: 'uuid',
      job_title: 'text',
      date_of_birth: 'date',
      gender: 'gender',
      gender_raw: 'text',
      worker_type: 'worker_type',
      worker_type_raw: 'text',
      employment_status: 'employment_status',
      employment_status_raw: 'text',
      hire_date: 'date',
      start_date: 'date',
      termination_date: 'date',
    },
    enumFields: ['gender', 'worker_type', 'employment_status'],
    sensitiveFields: ['date_of_birth'],
    references: [
      { field: 'manager_id', expand: 'manager', model: 'employees' },
      { field: 'company_id', expand: 'company', model: 'companies' },
      { field: 'department_id', expand: 'department', model: 'departments' },
      { field: 'position_id', expand: 'position', model: 'job_positions' },
    ],
  },
  employments: {
    name: 'employments',
    path: 'employments',
    table: 'employments',
    singular: 'employment',
    columns: {
      employee_id: 'uuid',
      company_id: 'uuid',
      position_id: 'uuid',
      job_title: 'text',
      employment_type: 'employment_type',
      employment_type_raw: 'text',
      start_date: 'date',
      end_date: 'date',
      pay_rate: 'numeric',
      pay_period: 'pay_period',
      pay_period_raw: 'text',
      pay_frequency: 'pay_frequency',
      pay_frequency_raw: 'text',
      pay_currency: 'text',
    },
    enumFields: ['employment_type', 'pay_period', 'pay_frequency'],
    sensitiveFields: [],
    references: [
      { field: 'employee_id', expand: 'employee', model: 'employees' },
      { field: 'company_id', expand: 'company', model: 'companies' },
      { field: 'position_id', expand: 'position', model: 'job_positions' },
    ],
  },
  dependents: {
    name: 'dependents',
    path: 'dependents',
    table: 'dependents',
    singular: 'dependent',
    columns: {
      employee_id: 'uuid',
      first_name: 'text',
      middle_name: 'text',
      last_name: 'text',
      relationship: 'relationship',
      relationship_raw: 'text',
      date_of_birth: 'date',
      gender: 'gender',
      gender_raw: 'text',
      is_student: 'boolean',
      is_disabled: 'boolean',
      is_court_ordered: 'boolean',
      is_domestic_partner_verified: 'boolean',
      is_beneficiary: 'boolean',
      is_emergency_contact: 'boolean',
    },
    enumFields: ['relationship', 'gender'],
    sensitiveFields: ['date_of_birth'],
    references: [{ field: 'employee_id', expand: 'employee', model: 'employees' }],
  },
  benefit_plans: {
    name: 'benefit_plans',
    path: 'benefit-plans',
    table: 'benefit_plans',
    singular: 'benefit plan',
    columns: {
      name: 'text',
      description: 'text',
      plan_type: 'plan_type',
      plan_type_raw: 'text',
      carrier_name: 'text',
      plan_year_start: 'date',
      plan_year_end: 'date',
      coverage_levels_offered: 'coverage_level[]',
    },
    enumFields: ['plan_type'],
    sensitiveFields: [],
    references: [],
  },
  benefit_enrollments: {
    name: 'benefit_enrollments',
    path: 'benefit-enrollments',
    table: 'benefit_enrollments',
    singular: 'benefit enrollment',
    columns: {
      employee_id: 'uuid',
      benefit_plan_id: 'uuid',
      status: 'enrollment_status',
      status_raw: 'text',
      coverage_level: 'coverage_level',
      coverage_level_raw: 'text',
      start_date: 'date',
      end_date: 'date',
      employee_contribution_amount_minor: 'bigint',
      employee_contribution_percent_bps: 'integer',
      employee_contribution_currency: 'text',
      company_contribution_amount_minor: 'bigint',
      company_contribution_percent_bps: 'integer',
      company_contribution_currency: 'text',
    },
    enumFields: ['status', 'coverage_level'],
    sensitiveFields: [],
    references: [
      { field: 'employee_id', expand: 'employee', model: 'employees' },
      { field: 'benefit_plan_id', expand: 'benefit_plan', model: 'benefit_plans' },
    ],
  },
} as const satisfies Record<ModelName, ModelSpec>;

export const MODELS: Record<ModelName, ModelSpec> = MODEL_SPECS;

/** A model's own columns and their PostgreSQL types, as literal types (for UnifiedFields). */
export type ModelColumns<M extends ModelName> = (typeof MODEL_SPECS)[M]['columns'];

/** The coverage link table (enrollment ↔ dependent); not a model of its own in the API. */
export const COVERAGE_TABLE = 'benefit_enrollment_dependents';
