import { z } from 'zod';
import {
  CoverageLevel,
  EmploymentStatus,
  EmploymentType,
  EnrollmentStatus,
  Gender,
  PayFrequency,
  PayPeriod,
  PlanType,
  Relationship,
  WorkerType,
} from '../generated/prisma/enums.js';
import { MODEL_NAMES, MODELS, type ModelName, type ModelSpec, type PgType } from './models.js';

/**
 * The API contract for unified records, as zod schemas derived from the model descriptors and the
 * Prisma enums (so schema.prisma stays the one place an enum value is added). These schemas
 * document the responses in OpenAPI, are what provider mappers produce, and tests parse real API
 * output with them.
 */

const ENUM_VALUES: Partial<Record<PgType, readonly [string, ...string[]]>> = {
  gender: values(Gender),
  worker_type: values(WorkerType),
  employment_status: values(EmploymentStatus),
  employment_type: values(EmploymentType),
  pay_period: values(PayPeriod),
  pay_frequency: values(PayFrequency),
  relationship: values(Relationship),
  plan_type: values(PlanType),
  enrollment_status: values(EnrollmentStatus),
  coverage_level: values(CoverageLevel),
};

function values(enumObject: Record<string, string>): readonly [string, ...string[]] {
  return Object.values(enumObject) as [string, ...string[]];
}

export function enumValues(type: PgType): readonly [string, ...string[]] | undefined {
  return ENUM_VALUES[type];
}

const FIELD_DESCRIPTIONS: Record<string, string> = {
  id: "Our id for the record: stable, derived from the linked account and the provider's id.",
  remote_id: "The provider's id for the record (for Dynamics 365, the row's GUID or business key).",
  remote_data: "The provider's raw row, only with include_remote_data=true.",
  remote_created_at: 'When the provider says the record was created.',
  remote_modified_at: 'When the provider says the record last changed.',
  created_at: 'When the gateway first stored the record.',
  modified_at: 'When the normalized record last changed in the gateway (not merely re-synced).',
  remote_was_deleted: 'True once the record was deleted at the provider.',
  remote_deleted_at: 'When the gateway saw the deletion.',
  date_of_birth:
    'Sensitive: only returned with include_sensitive_fields=true and a key holding the sensitive permission.',
  covered_dependent_ids: 'Dependents covered by this enrollment.',
  coverage_levels_offered: 'Coverage levels the plan offers.',
  pay_rate: 'Pay rate in pay_currency per pay_period.',
  full_time_equivalent: 'Full-time equivalent of the position, 1.0 = full time.',
};

const EXAMPLE_VALUES: Record<string, unknown> = {
  id: '0b5b8a4e-4f6c-5d2a-9c1e-3f6a2b7c8d90',
  remote_id: 'f3a1c2d4-5b6e-4f70-8a91-b2c3d4e5f607',
  employee_number: '000123',
  first_name: 'Zoë',
  middle_name: null,
  last_name: "O'Brien",
  display_full_name: "Zoë O'Brien",
  preferred_name: null,
  work_email: 'zoe.obrien@contoso.com',
  personal_email: null,
  mobile_phone_number: '+1 425 555 0100',
  job_title: 'Benefits Specialist',
  name: 'Contoso Medical PPO',
  description: 'Preferred provider organization plan',
  carrier_name: 'Contoso Health',
  company_code: 'usmf',
  code: 'HR',
  position_number: '000731',
  pay_currency: 'USD',
  pay_rate: 42.5,
  full_time_equivalent: 1,
  gender_raw: '754400001',
  worker_type_raw: '754400000',
  employment_status_raw: '754400000',
};

function columnSchema(field: string, type: PgType): z.ZodType {
  const enumeration = ENUM_VALUES[type];
  let schema: z.ZodType;
  if (enumeration) schema = z.enum(enumeration);
  else if (type === 'coverage_level[]') schema = z.array(z.enum(values(CoverageLevel)));
  else if (type === 'uuid') schema = z.uuid();
  else if (type === 'date') schema = z.iso.date();
  else if (type === 'timestamptz') schema = z.iso.datetime({ offset: true });
  else if (type === 'boolean') schema = z.boolean();
  else if (type === 'integer' || type === 'bigint') schema = z.number().int();
  else if (type === 'numeric') schema = z.number();
  else if (type === 'jsonb') schema = z.record(z.string(), z.unknown());
  else schema = z.string();
  if (field.endsWith('_raw')) {
    schema = schema.describe(`The provider's own value behind ${field.slice(0, -4)}, kept verbatim.`);
  }
  const description = FIELD_DESCRIPTIONS[field];
  if (description) schema = schema.describe(description);
  return type === 'coverage_level[]' ? schema : schema.nullable();
}

/**
 * What a mapper may produce for a model, checked at run time: each of the model's own columns,
 * optional, typed as its column, and no other key (the run-time twin of UnifiedFields, fields.ts).
 */
export function unifiedFieldsSchema(model: ModelName) {
  const columns = Object.entries(MODELS[model].columns);
  return z.strictObject(
    Object.fromEntries(columns.map(([field, type]) => [field, columnSchema(field, type).optional()])),
  );
}

const contributionSchema = z
  .object({
    amount_minor: z.number().int().nullable().describe('Amount in minor units (cents) per pay period.'),
    currency: z.string().nullable().describe('ISO 4217 currency of amount_minor.'),
    percent_basis_points: z
      .number()
      .int()
      .nullable()
      .describe('Percent of pay in basis points (550 = 5.5%), when the contribution is a percentage.'),
  })
  .nullable();

/** The API fields of a model's own columns, after presentation (contributions nested). */
function ownFields(spec: ModelSpec): Record<string, z.ZodType> {
  const fields: Record<string, z.ZodType> = {};
  for (const [field, type] of Object.entries(spec.columns)) {
    const contribution = /^(employee|company)_contribution_/.exec(field);
    if (contribution) {
      fields[`${contribution[1]}_contribution`] = contributionSchema;
      continue;
    }
    const schema = columnSchema(field, type);
    // Sensitive fields are absent (not null) unless asked for with the right permission.
    fields[field] = spec.sensitiveFields.includes(field) ? schema.optional() : schema;
  }
  for (const reference of spec.references) {
    fields[reference.expand] = z
      .record(z.string(), z.unknown())
      .nullable()
      .optional()
      .describe(
        `With expand=${reference.expand}: the referenced ${MODELS[reference.model].singular}, or null.`,
      );
  }
  if (spec.name === 'benefit_enrollments') {
    fields.covered_dependent_ids = z.array(z.uuid()).describe(FIELD_DESCRIPTIONS.covered_dependent_ids ?? '');
    fields.covered_dependents = z
      .array(z.record(z.string(), z.unknown()))
      .optional()
      .describe('With expand=covered_dependents: the covered dependents.');
  }
  return fields;
}

function exampleFor(spec: ModelSpec): Record<string, unknown> {
  const example: Record<string, unknown> = { id: EXAMPLE_VALUES.id, remote_id: EXAMPLE_VALUES.remote_id };
  for (const [field, type] of Object.entries(spec.columns)) {
    const contribution = /^(employee|company)_contribution_/.exec(field);
    if (contribution) {
      example[`${contribution[1]}_contribution`] = {
        amount_minor: 12500,
        currency: 'USD',
        percent_basis_points: null,
      };
      continue;
    }
    if (field in EXAMPLE_VALUES) example[field] = EXAMPLE_VALUES[field];
    else if (ENUM_VALUES[type]) example[field] = ENUM_VALUES[type]?.[0];
    else if (type === 'coverage_level[]') example[field] = ['EMPLOYEE_ONLY', 'EMPLOYEE_FAMILY'];
    else if (type === 'uuid') example[field] = '7d1c2a3b-4e5f-5a6b-8c7d-9e0f1a2b3c4d';
    else if (type === 'date') example[field] = field === 'date_of_birth' ? '1988-04-12' : '2021-03-01';
    else if (type === 'boolean') example[field] = false;
    else example[field] = null;
  }
  if (spec.name === 'benefit_enrollments')
    example.covered_dependent_ids = ['5e6f7a8b-9c0d-5e1f-a2b3-c4d5e6f7a8b9'];
  return {
    ...example,
    remote_created_at: '2021-02-24T17:03:11.000Z',
    remote_modified_at: '2026-11-20T08:15:42.000Z',
    created_at: '2026-11-01T10:00:00.000Z',
    modified_at: '2026-11-20T08:16:03.000Z',
    remote_was_deleted: false,
    remote_deleted_at: null,
  };
}

function pascalCase(name: string): string {
  return name.replace(/(^|[_ ])(\w)/g, (_, __, letter: string) => letter.toUpperCase());
}

function recordSchema(spec: ModelSpec) {
  const dateTime = z.iso.datetime({ offset: true });
  return z
    .object({
      id: z.uuid().describe(FIELD_DESCRIPTIONS.id ?? ''),
      remote_id: z.string().describe(FIELD_DESCRIPTIONS.remote_id ?? ''),
      ...ownFields(spec),
      remote_data: z
        .record(z.string(), z.unknown())
        .nullable()
        .optional()
        .describe(FIELD_DESCRIPTIONS.remote_data ?? ''),
      remote_created_at: dateTime.nullable().describe(FIELD_DESCRIPTIONS.remote_created_at ?? ''),
      remote_modified_at: dateTime.nullable().describe(FIELD_DESCRIPTIONS.remote_modified_at ?? ''),
      created_at: dateTime.describe(FIELD_DESCRIPTIONS.created_at ?? ''),
      modified_at: dateTime.describe(FIELD_DESCRIPTIONS.modified_at ?? ''),
      remote_was_deleted: z.boolean().describe(FIELD_DESCRIPTIONS.remote_was_deleted ?? ''),
      remote_deleted_at: dateTime.nullable().describe(FIELD_DESCRIPTIONS.remote_deleted_at ?? ''),
    })
    .meta({
      id: pascalCase(spec.singular.replaceAll(' ', '_')),
      description: `A ${spec.singular} as the gateway normalizes it from the provider. Expanded references appear as objects named after the reference (e.g. \`manager\`) beside the id field.`,
      example: exampleFor(spec),
    });
}

export const RECORD_SCHEMAS = Object.fromEntries(
  MODEL_NAMES.map((name) => [name, recordSchema(MODELS[name])]),
) as Record<ModelName, ReturnType<typeof recordSchema>>;

export type UnifiedRecord = z.infer<(typeof RECORD_SCHEMAS)[ModelName]>;
