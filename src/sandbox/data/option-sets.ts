import {
  BENEFIT_EMPLOYEE_PLAN_STATUS,
  codeOf,
  labelsByCode,
  STATE_CODE,
  STATUS_CODE,
  WORKER_GENDER,
  WORKER_STATUS,
  WORKER_TYPE,
} from '../../providers/dynamics/option-sets.js';

/**
 * The sandbox's option sets, derived from the one table the adapter's mappers and the seed generator
 * also use (src/providers/dynamics/option-sets.ts, sources in docs/microsoft-wire.md): the sandbox
 * cannot serve a code the adapter does not know, nor label it differently.
 */
export type OptionSet = Readonly<Record<number, string>>;

export const workerGender: OptionSet = labelsByCode(WORKER_GENDER);
export const workerType: OptionSet = labelsByCode(WORKER_TYPE);
export const workerStatus: OptionSet = labelsByCode(WORKER_STATUS);
export const stateCode: OptionSet = labelsByCode(STATE_CODE);
export const statusCode: OptionSet = labelsByCode(STATUS_CODE);
export const benefitEmployeePlanStatus: OptionSet = labelsByCode(BENEFIT_EMPLOYEE_PLAN_STATUS);

export const genderCode = {
  male: codeOf(WORKER_GENDER, 'MALE'),
  female: codeOf(WORKER_GENDER, 'FEMALE'),
  notSpecified: codeOf(WORKER_GENDER, 'PREFER_NOT_TO_DISCLOSE'),
  nonSpecific: codeOf(WORKER_GENDER, 'NON_BINARY'),
} as const;
export const workerTypeCode = {
  employee: codeOf(WORKER_TYPE, 'EMPLOYEE'),
  contractor: codeOf(WORKER_TYPE, 'CONTRACTOR'),
} as const;
export const workerStatusCode = {
  active: codeOf(WORKER_STATUS, 'ACTIVE'),
  inactive: codeOf(WORKER_STATUS, 'INACTIVE'),
} as const;
