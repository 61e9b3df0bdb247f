import type { ModelName } from '../../unified/models.js';

/**
 * What BambooHR can fill, per unified model (docs/bamboohr.md, "What the provider maps"), and why
 * the rest stays empty. A model absent from SUPPORTED_FIELDS is reported unavailable with its reason,
 * never served silently empty.
 */
export const BAMBOOHR_SUPPORTED_FIELDS: Partial<Record<ModelName, readonly string[]>> = {
  employees: [
    'employee_number',
    'first_name',
    'middle_name',
    'last_name',
    'preferred_name',
    'display_full_name',
    'work_email',
    'personal_email',
    'mobile_phone_number',
    'manager_id',
    'department_id',
    'job_title',
    'date_of_birth',
    'gender',
    'gender_raw',
    'worker_type',
    'worker_type_raw',
    'employment_status',
    'employment_status_raw',
    'hire_date',
    'start_date',
    'termination_date',
  ],
  employments: [
    'employee_id',
    'job_title',
    'employment_type',
    'employment_type_raw',
    'start_date',
    'end_date',
    'pay_rate',
    'pay_period',
    'pay_period_raw',
    'pay_frequency',
    'pay_frequency_raw',
    'pay_currency',
  ],
  dependents: [
    'employee_id',
    'first_name',
    'middle_name',
    'last_name',
    'relationship',
    'relationship_raw',
    'date_of_birth',
    'gender',
    'gender_raw',
    'is_student',
  ],
  departments: ['name'],
  benefit_plans: ['name', 'description', 'plan_type', 'plan_type_raw', 'plan_year_start', 'plan_year_end'],
  benefit_enrollments: [
    'employee_id',
    'benefit_plan_id',
    'status',
    'status_raw',
    'coverage_level',
    'coverage_level_raw',
    'start_date',
    'end_date',
    'employee_contribution_amount_minor',
    'employee_contribution_percent_bps',
    'employee_contribution_currency',
    'company_contribution_amount_minor',
    'company_contribution_percent_bps',
    'company_contribution_currency',
  ],
};

/** Models BambooHR has no source for, and why (shown in sync status). */
export const BAMBOOHR_UNAVAILABLE: Partial<Record<ModelName, string>> = {
  companies:
    "BambooHR has no company records: an account is one company, and its divisions are a list field (kept in employees' remote_data as division).",
  job_positions:
    "BambooHR has no positions: a job title is a list value of the employee's job information (employees.job_title and employments.job_title carry it).",
};

/** Unified fields of served models that BambooHR's API does not give, per model, in words. */
export const BAMBOOHR_GAPS: Partial<Record<ModelName, string>> = {
  employees:
    'No company or position (BambooHR has neither); remote creation and modification times are not published per employee.',
  employments: 'One current employment per employee (its history is in remote_data); no company or position.',
  dependents:
    'No disability, court-order, domestic-partner verification, beneficiary or emergency-contact flags.',
  departments: 'No department codes, companies or parent departments (a department is a list option).',
  benefit_plans: 'No carrier name or coverage levels offered.',
  benefit_enrollments:
    "BambooHR's API does not say which dependents an enrollment covers: covered_dependent_ids stays empty.",
};

/** The sensitive raw fields of BambooHR rows, cut from remote_data unless the caller may read them. */
export const BAMBOOHR_SENSITIVE_REMOTE_FIELDS: Partial<Record<ModelName, readonly string[]>> = {
  employees: ['dateOfBirth'],
  dependents: ['dateOfBirth', 'maskedSSN', 'maskedSIN'],
};
