import { z } from 'zod';
import { MODELS, type ModelName, type ModelSpec } from '../unified/models.js';
import { enumValues } from '../unified/schemas.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './pagination.js';

/**
 * Query parameters of the list and detail endpoints, as zod schemas built per model. Every
 * schema is strict: an unknown parameter is a 400 naming it, not silently ignored (a typo such as
 * `modified_afer` would otherwise return everything).
 */

/** Model-specific equality filters: query parameter = column. */
export const MODEL_FILTERS: Record<ModelName, string[]> = {
  employees: [
    'company_id',
    'department_id',
    'manager_id',
    'employment_status',
    'worker_type',
    'employee_number',
    'work_email',
  ],
  employments: ['employee_id', 'company_id', 'employment_type'],
  dependents: ['employee_id', 'relationship'],
  benefit_plans: ['plan_type'],
  benefit_enrollments: ['employee_id', 'benefit_plan_id', 'status', 'coverage_level'],
  companies: ['company_code'],
  departments: ['company_id'],
  job_positions: ['company_id', 'department_id'],
};

/** Expand names of a model: its references, plus covered_dependents for enrollments. */
export function expandNames(spec: ModelSpec): string[] {
  const names = spec.references.map((reference) => reference.expand);
  if (spec.name === 'benefit_enrollments') names.push('covered_dependents');
  return names;
}

/** cursor and page_size, shared by every paginated list. */
export function pageParams(noun: string) {
  return {
    cursor: z.string().max(200).optional().describe('The `next` or `previous` value of an earlier page.'),
    page_size: z.coerce
      .number({ error: 'must be an integer' })
      .int()
      .min(1)
      .max(MAX_PAGE_SIZE)
      .default(DEFAULT_PAGE_SIZE)
      .describe(`${noun} per page, 1 to ${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE}).`),
  };
}

const booleanParam = z
  .enum(['true', 'false'], { error: 'must be true or false' })
  .transform((value) => value === 'true');

/** An ISO 8601 date-time with offset, or a date (midnight UTC). */
const instantParam = z
  .string()
  .refine((value) => /^\d{4}-\d{2}-\d{2}(T.+)?$/.test(value) && !Number.isNaN(Date.parse(value)), {
    message: 'must be an ISO 8601 date or date-time, e.g. 2026-01-31 or 2026-01-31T12:00:00Z',
  })
  .transform((value) => new Date(value));

function expandParam(spec: ModelSpec) {
  const allowed = expandNames(spec);
  return z
    .string()
    .transform((value, context) => {
      const requested = [...new Set(value.split(',').map((part) => part.trim()))].filter(Boolean);
      const unknown = requested.filter((name) => !allowed.includes(name));
      if (unknown.length > 0) {
        context.addIssue({
          code: 'custom',
          message:
            allowed.length > 0
              ? `unknown expand ${unknown.map((name) => `'${name}'`).join(', ')}; allowed: ${allowed.join(', ')}`
              : `${spec.name} has nothing to expand`,
        });
        return z.NEVER;
      }
      return requested;
    })
    .describe(
      allowed.length > 0
        ? `Comma-separated related objects to inline: ${allowed.join(', ')}.`
        : 'Nothing to expand on this model.',
    );
}

function filterParam(spec: ModelSpec, column: string) {
  const type = spec.columns[column];
  const enumeration = type ? enumValues(type) : undefined;
  if (enumeration) return z.enum(enumeration).describe(`Only records with this ${column}.`);
  if (type === 'uuid') return z.uuid().describe(`Only records with this ${column} (our id).`);
  return z.string().min(1).describe(`Only records with this ${column}.`);
}

const commonReadParams = {
  include_remote_data: booleanParam.optional().describe("Add the provider's raw row as remote_data."),
  include_sensitive_fields: booleanParam
    .optional()
    .describe(
      'Return sensitive fields (date_of_birth). Needs an API key with the sensitive permission; every such read is audited.',
    ),
};

export function detailQuerySchema(spec: ModelSpec) {
  return z.object({ ...commonReadParams, expand: expandParam(spec).optional() }).strict();
}

export function listQuerySchema(spec: ModelSpec) {
  const filters = Object.fromEntries(
    MODEL_FILTERS[spec.name].map((column) => [column, filterParam(spec, column).optional()]),
  );
  return z
    .object({
      ...pageParams('Records'),
      modified_after: instantParam
        .optional()
        .describe('Only records whose modified_at is after this instant.'),
      modified_before: instantParam
        .optional()
        .describe('Only records whose modified_at is before this instant.'),
      created_after: instantParam.optional().describe('Only records first stored after this instant.'),
      created_before: instantParam.optional().describe('Only records first stored before this instant.'),
      remote_id: z.string().min(1).optional().describe("Only the record with this provider's id."),
      include_deleted_data: booleanParam
        .optional()
        .describe('Also return records deleted at the provider (remote_was_deleted=true).'),
      ...commonReadParams,
      expand: expandParam(spec).optional(),
      ...filters,
    })
    .strict();
}

export type ListQuery = z.infer<ReturnType<typeof listQuerySchema>>;
export type DetailQuery = z.infer<ReturnType<typeof detailQuerySchema>>;

export const LIST_QUERY_SCHEMAS = Object.fromEntries(
  Object.values(MODELS).map((spec) => [spec.name, listQuerySchema(spec)]),
) as Record<ModelName, ReturnType<typeof listQuerySchema>>;
