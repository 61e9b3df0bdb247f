import type { SupportedFields } from '../definition.js';

/**
 * The unified fields Dynamics fills, per model, from any of its sources (Dataverse tables, the
 * payroll virtual table, F&O OData or DMF): the mappers' and derivations' output. The others stay
 * empty for every Dynamics account, and GET /v1/linked-accounts/{id} says so (supported_fields).
 * test/providers/supported-fields.test.ts syncs every tenant shape and checks this list both ways.
 * Left out: what no Dynamics mapper or derivation fills (employees' preferred_name and
 * personal_email; employments' position, job title and pay; departments' company and parent,
 * see dataverse/mappers.ts; benefit plans' carrier and plan year; contribution percentages and
 * currencies, the sources giving amounts).
 */
export const DYNAMICS_SUPPORTED_FIELDS: SupportedFields = {
  employees: [
    'employee_number',
    'company_id',
    'first_name',
    'middle_name',
    'last_name',
    'display_full_name',
    'work_email',
    'mobile_phone_number',
    'manager_id',
    'department_id',
    'position_id',
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
    'company_id',
    'employment_type',
    'employment_type_raw',
    'start_date',
    'end_date',
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
    'is_disabled',
    'is_court_ordered',
    'is_domestic_partner_verified',
    'is_beneficiary',
    'is_emergency_contact',
  ],
  benefit_plans: ['name', 'description', 'plan_type', 'plan_type_raw', 'coverage_levels_offered'],
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
    'company_contribution_amount_minor',
    'covered_dependent_ids',
  ],
  companies: ['name', 'legal_name', 'company_code'],
  departments: ['name', 'code'],
  job_positions: [
    'position_number',
    'job_title',
    'description',
    'department_id',
    'full_time_equivalent',
    'valid_from',
    'valid_to',
  ],
};
