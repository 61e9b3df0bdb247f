import { z } from 'zod';
import { MODELS, type ModelName, type ModelSpec } from '../unified/models.js';
import { enumValues } from '../unified/schemas.js';
import { idInput, instantInput, textInput } from './input-schemas.js';
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
    cursor: z
      .string()
      .min(1, { error: 'must not be empty (omit it for the first page)' })
      .max(200)
      .regex(/^[A-Za-z0-9_-]+$/, { error: 'must be a `next` or `previous` value of an earlier page' })
      .optional()
      .describe(
        'The `next` or `previous` value of an earlier page (opaque; any other value is refused with 400 invalid_cursor).',
      ),
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

function expandParam(spec: ModelSpec) {
  const allowed = expandNames(spec);
  return z
    .string()
    .transform((value, context) => {
      const parts = value.split(',').map((part) => part.trim());
      if (parts.some((part) => part === '')) {
        context.addIssue({
          code: 'custom',
          message: `must be a comma-separated list of ${allowed.join(', ')}, without empty names`,
        });
        return z.NEVER;
      }
      const requested = [...new Set(parts)];
      const unknown = requested.filter((name) => !allowed.includes(name));
      if (unknown.length > 0) {
        context.addIssue({
          code: 'custom',
          message: `unknown expand ${unknown.map((name) => `'${name}'`).join(', ')}; allowed: ${allowed.join(', ')}`,
        });
        return z.NEVER;
      }
      return requested;
    })
    .meta({ pattern: `^(${allowed.join('|')})(,(${allowed.join('|')}))*$` })
    .describe(`Comma-separated related objects to inline: ${allowed.join(', ')}.`);
}

/**
 * The expand parameter, on models that have something to expand. Typed as always present so every
 * model's query type has `expand?: string[]`; on the others it is absent, so `expand` is an unknown
 * parameter there (a 400), and the OpenAPI document does not offer it.
 */
function expandParams(spec: ModelSpec) {
  const expand = expandParam(spec).optional();
  return (expandNames(spec).length > 0 ? { expand } : {}) as { expand: typeof expand };
}

function filterParam(spec: ModelSpec, column: string) {
  const type = spec.columns[column];
  const enumeration = type ? enumValues(type) : undefined;
  if (enumeration) return z.enum(enumeration).describe(`Only records with this ${column}.`);
  if (type === 'uuid') return idInput.describe(`Only records with this ${column} (our id).`);
  return textInput().describe(`Only records with this ${column}.`);
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
  return z.object({ ...commonReadParams, ...expandParams(spec) }).strict();
}

export function listQuerySchema(spec: ModelSpec) {
  const filters = Object.fromEntries(
    MODEL_FILTERS[spec.name].map((column) => [column, filterParam(spec, column).optional()]),
  );
  return z
    .object({
      ...pageParams('Records'),
      modified_after: instantInput
        .optional()
        .describe('Only records whose modified_at is after this instant.'),
      modified_before: instantInput
        .optional()
        .describe('Only records whose modified_at is before this instant.'),
      created_after: instantInput.optional().describe('Only records first stored after this instant.'),
      created_before: instantInput.optional().describe('Only records first stored before this instant.'),
      remote_id: textInput().optional().describe("Only the record with this provider's id."),
      include_deleted_data: booleanParam
        .optional()
        .describe('Also return records deleted at the provider (remote_was_deleted=true).'),
      ...commonReadParams,
      ...expandParams(spec),
      ...filters,
    })
    .strict();
}

export type ListQuery = z.infer<ReturnType<typeof listQuerySchema>>;
export type DetailQuery = z.infer<ReturnType<typeof detailQuerySchema>>;

export const LIST_QUERY_SCHEMAS = Object.fromEntries(
  Object.values(MODELS).map((spec) => [spec.name, listQuerySchema(spec)]),
) as Record<ModelName, ReturnType<typeof listQuerySchema>>;
