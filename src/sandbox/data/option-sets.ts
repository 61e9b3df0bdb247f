/** Option-set codes of the cdm_ tables (reference §5) and the labels FormattedValue annotations carry. */

export const workerGender = {
  754400000: 'Male',
  754400001: 'Female',
  754400002: 'NotSpecified',
  754400003: 'Non-specific',
} as const;
export const workerType = {
  754400000: 'Employee',
  754400001: 'Contractor',
  754400002: 'Volunteer',
  754400003: 'Unspecified',
} as const;
export const workerStatus = { 754400000: 'Active', 754400001: 'Inactive' } as const;
export const stateCode = { 0: 'Active', 1: 'Inactive' } as const;
export const statusCode = { 1: 'Active', 2: 'Inactive' } as const;
/** Invented: the reference does not document cdm_benefittype's category column. */
export const benefitCategory = {
  754400000: 'Medical',
  754400001: 'Dental',
  754400002: 'Vision',
  754400003: 'Life',
  754400004: 'Disability',
  754400005: 'Retirement',
  754400006: 'HSA',
  754400007: 'FSA',
} as const;

export type OptionSet = Readonly<Record<number, string>>;

export const genderCode = {
  male: 754400000,
  female: 754400001,
  notSpecified: 754400002,
  nonSpecific: 754400003,
} as const;
export const workerTypeCode = { employee: 754400000, contractor: 754400001 } as const;
export const workerStatusCode = { active: 754400000, inactive: 754400001 } as const;
