import type {
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
import type { ModelColumns, ModelName, PgType } from './models.js';

/**
 * The unified models' fields as TypeScript types, inferred from the model specs (models.ts) and the
 * Prisma enums (as the zod schemas in schemas.ts are), never copied by hand: a column added to a
 * spec is a field here, and a mapper that sets a field its model lacks, or a value of the wrong
 * type (a number for a date, a value outside the enum), does not compile.
 */

/** The value a mapper gives each column type. Dates are ISO text (YYYY-MM-DD), times ISO date-times. */
export interface PgValue {
  uuid: string;
  text: string;
  date: string;
  boolean: boolean;
  integer: number;
  bigint: number;
  numeric: number;
  jsonb: Record<string, unknown>;
  timestamptz: string;
  gender: Gender;
  worker_type: WorkerType;
  employment_status: EmploymentStatus;
  employment_type: EmploymentType;
  pay_period: PayPeriod;
  pay_frequency: PayFrequency;
  relationship: Relationship;
  plan_type: PlanType;
  enrollment_status: EnrollmentStatus;
  coverage_level: CoverageLevel;
  'coverage_level[]': CoverageLevel[];
}

/**
 * A column's value: its type, or null for "the source has none" (an array column is never null,
 * it is empty). Indexing PgValue by every PgType keeps the two lists in step: a PgType without a
 * PgValue entry fails to compile here.
 */
export type ColumnValue<Type extends PgType> = Type extends 'coverage_level[]'
  ? PgValue[Type]
  : PgValue[Type] | null;

/**
 * The fields of a unified record of `Model` as a mapper produces them: every field optional (a
 * mapper sets what its source gives; derivations fill fields joined across sources), each typed by
 * its column. Enum fields take the unified enum's values; their `<field>_raw` beside them is text.
 *
 *     const fields: UnifiedFields<'employees'> = { first_name: 'Zoë', gender: 'FEMALE' };
 */
export type UnifiedFields<Model extends ModelName> = {
  -readonly [Field in keyof ModelColumns<Model>]?: ColumnValue<ModelColumns<Model>[Field] & PgType>;
};
