import { en, Faker } from '@faker-js/faker';
import {
  codeOf,
  fnoValueOf,
  WORKER_GENDER,
  WORKER_STATUS,
  WORKER_TYPE,
} from '../providers/dynamics/option-sets.js';
import { recordId } from '../unified/record-id.js';

/**
 * Generates a coherent, Dynamics-flavoured organisation for one linked account: companies,
 * departments, job positions, employees in a manager tree, their employments, dependents, benefit
 * plans, enrollments and which dependents each enrollment covers.
 *
 * Pure and deterministic for a given seed (a small seeded PRNG; faker only fills name pools once,
 * because calling it per row would dominate the time of a 100k-employee seed). Rows come out in
 * chunks of employees so a large organisation never sits in memory at once.
 */

export type SeedTable =
  | 'companies'
  | 'departments'
  | 'job_positions'
  | 'employees'
  | 'employments'
  | 'dependents'
  | 'benefit_plans'
  | 'benefit_enrollments'
  | 'benefit_enrollment_dependents';

export type Row = Record<string, unknown>;
export type RowChunk = Partial<Record<SeedTable, Row[]>>;

export interface OrganisationOptions {
  linkedAccountId: string;
  employees: number;
  seed: number;
  /** Employees per yielded chunk (default 2000). */
  chunkSize?: number;
}

// "Today" for generated data: fixed so a seed always produces the same dates.
const REFERENCE_DAY = Date.UTC(2026, 5, 30) / 86_400_000;
const PLAN_YEAR_START = '2026-01-01';
const PLAN_YEAR_END = '2026-12-31';
const SOURCE_MODIFIED_AT = '2026-06-30T08:00:00.000Z';

// Raw values as they arrive from Dynamics, kept in the *_raw columns: option-set codes from the one
// table the mappers and the sandbox use (src/providers/dynamics/option-sets.ts), so a seeded account
// and a synced one store the same codes. cdm_status has only Active and Inactive: a worker on leave or
// not yet started is Active there, which is the raw the seed stores beside LEAVE and PENDING.
const GENDER_RAW = {
  MALE: String(codeOf(WORKER_GENDER, 'MALE')),
  FEMALE: String(codeOf(WORKER_GENDER, 'FEMALE')),
  NON_BINARY: String(codeOf(WORKER_GENDER, 'NON_BINARY')),
  PREFER_NOT_TO_DISCLOSE: String(codeOf(WORKER_GENDER, 'PREFER_NOT_TO_DISCLOSE')),
} as const;
const WORKER_TYPE_RAW = {
  EMPLOYEE: String(codeOf(WORKER_TYPE, 'EMPLOYEE')),
  CONTRACTOR: String(codeOf(WORKER_TYPE, 'CONTRACTOR')),
} as const;
const EMPLOYMENT_STATUS_RAW = {
  ACTIVE: String(codeOf(WORKER_STATUS, 'ACTIVE')),
  INACTIVE: String(codeOf(WORKER_STATUS, 'INACTIVE')),
  LEAVE: String(codeOf(WORKER_STATUS, 'ACTIVE')),
  PENDING: String(codeOf(WORKER_STATUS, 'ACTIVE')),
} as const;
const EMPLOYMENT_TYPE_RAW = {
  FULL_TIME: 'FullTime',
  PART_TIME: 'PartTime',
  INTERN: 'Intern',
  CONTRACTOR: 'Contractor',
} as const;
const PAY_PERIOD_RAW = { YEAR: 'Annual', HOUR: 'Hourly' } as const;
const PAY_FREQUENCY_RAW = { BIWEEKLY: 'Biweekly', SEMIMONTHLY: 'SemiMonthly', MONTHLY: 'Monthly' } as const;
// Dependents come from F&O personal contacts: relationship type ids and Gender enum values, as the
// F&O mappers read them.
const RELATIONSHIP_RAW = { SPOUSE: 'Spouse', DOMESTIC_PARTNER: 'DomesticPartner', CHILD: 'Child' } as const;
const FNO_GENDER_RAW = (gender: Gender) => fnoValueOf(WORKER_GENDER, Number(GENDER_RAW[gender]));
const ENROLLMENT_STATUS_RAW = { ACTIVE: 'Enrolled', WAIVED: 'Waived', TERMINATED: 'Terminated' } as const;
const COVERAGE_RAW = {
  EMPLOYEE_ONLY: 'EE',
  EMPLOYEE_SPOUSE: 'EE+SP',
  EMPLOYEE_CHILDREN: 'EE+CH',
  EMPLOYEE_FAMILY: 'FAM',
} as const;
type Coverage = keyof typeof COVERAGE_RAW;
type Gender = keyof typeof GENDER_RAW;

const ALL_LEVELS: Coverage[] = ['EMPLOYEE_ONLY', 'EMPLOYEE_SPOUSE', 'EMPLOYEE_CHILDREN', 'EMPLOYEE_FAMILY'];

interface PlanSpec {
  code: string;
  name: string;
  type: 'MEDICAL' | 'DENTAL' | 'VISION' | 'LIFE' | 'DISABILITY' | 'RETIREMENT' | 'HSA' | 'FSA';
  raw: string;
  carrier: string;
  levels: Coverage[];
}
const PLANS: PlanSpec[] = [
  {
    code: 'MED-PPO',
    name: 'Medical PPO',
    type: 'MEDICAL',
    raw: 'Medical',
    carrier: 'Blue Cross Blue Shield',
    levels: ALL_LEVELS,
  },
  {
    code: 'MED-HDHP',
    name: 'Medical HDHP',
    type: 'MEDICAL',
    raw: 'Medical',
    carrier: 'Aetna',
    levels: ALL_LEVELS,
  },
  {
    code: 'DEN',
    name: 'Dental Plus',
    type: 'DENTAL',
    raw: 'Dental',
    carrier: 'Delta Dental',
    levels: ALL_LEVELS,
  },
  { code: 'VIS', name: 'Vision Care', type: 'VISION', raw: 'Vision', carrier: 'VSP', levels: ALL_LEVELS },
  {
    code: 'LIFE',
    name: 'Basic Life and AD&D',
    type: 'LIFE',
    raw: 'Life',
    carrier: 'MetLife',
    levels: ['EMPLOYEE_ONLY'],
  },
  {
    code: 'LTD',
    name: 'Long-Term Disability',
    type: 'DISABILITY',
    raw: 'Disability',
    carrier: 'Unum',
    levels: ['EMPLOYEE_ONLY'],
  },
  {
    code: '401K',
    name: '401(k) Retirement Savings',
    type: 'RETIREMENT',
    raw: 'Retirement',
    carrier: 'Fidelity',
    levels: ['EMPLOYEE_ONLY'],
  },
  {
    code: 'HSA',
    name: 'Health Savings Account',
    type: 'HSA',
    raw: 'HSA',
    carrier: 'HealthEquity',
    levels: ['EMPLOYEE_ONLY'],
  },
  {
    code: 'FSA',
    name: 'Health Care FSA',
    type: 'FSA',
    raw: 'FSA',
    carrier: 'WageWorks',
    levels: ['EMPLOYEE_ONLY'],
  },
];
const PLAN_BY_CODE = new Map(PLANS.map((plan) => [plan.code, plan]));

const COMPANY_CODES = [
  { code: 'USMF', suffix: 'USA', currency: 'USD', frequency: 'BIWEEKLY' },
  { code: 'USRT', suffix: 'Retail', currency: 'USD', frequency: 'SEMIMONTHLY' },
  { code: 'DEMF', suffix: 'GmbH', currency: 'EUR', frequency: 'MONTHLY' },
  { code: 'GBSI', suffix: 'UK Ltd', currency: 'GBP', frequency: 'MONTHLY' },
] as const;

const DEPARTMENT_NAMES = [
  'Finance',
  'Human Resources',
  'Engineering',
  'Sales',
  'Marketing',
  'Operations',
  'Customer Support',
  'Legal',
  'Procurement',
  'Facilities',
  'Research',
  'Quality Assurance',
  'Logistics',
  'IT Services',
];
const JOB_TITLES = [
  'Accountant',
  'Payroll Specialist',
  'Software Engineer',
  'Senior Software Engineer',
  'Account Executive',
  'Marketing Coordinator',
  'Operations Analyst',
  'Support Representative',
  'Paralegal',
  'Buyer',
  'Facilities Technician',
  'Research Scientist',
  'QA Analyst',
  'Warehouse Associate',
  'IT Administrator',
  'HR Generalist',
  'Data Analyst',
  'Project Manager',
  'Product Manager',
  'Recruiter',
];
const MANAGER_TITLES = [
  'Director',
  'Engineering Manager',
  'Sales Manager',
  'Operations Manager',
  'Vice President',
];

// Real names carry accents and apostrophes; the API and its consumers must round-trip them.
const EXTRA_FIRST = {
  FEMALE: ['Zoë', 'Chloé', 'Renée', 'Siobhán', 'Åsa', 'Mía', 'Nóra'],
  MALE: ['José', 'François', 'Bjørn', 'Jürgen', 'Seán', 'Łukasz', 'André'],
};
const EXTRA_LAST = [
  "O'Brien",
  "D'Angelo",
  'Müller',
  'García',
  'Nguyễn',
  'Søren-Hansen',
  "O'Connor",
  'Núñez',
  'Dvořák',
  'Łopez',
];

export interface NamePools {
  female: string[];
  male: string[];
  last: string[];
  organisation: string;
  companies: string[];
  domain: string;
}

export function buildNamePools(seed: number): NamePools {
  const faker = new Faker({ locale: [en] });
  faker.seed(seed);
  const female = [...new Set(Array.from({ length: 300 }, () => faker.person.firstName('female')))];
  const male = [...new Set(Array.from({ length: 300 }, () => faker.person.firstName('male')))];
  const last = [...new Set(Array.from({ length: 400 }, () => faker.person.lastName()))];
  const organisation = faker.company.name();
  const companies = COMPANY_CODES.map((company) => `${organisation} ${company.suffix}`);
  const domain = `${ascii(organisation).slice(0, 24) || 'example'}.example.com`;
  return {
    female: [...female, ...EXTRA_FIRST.FEMALE],
    male: [...male, ...EXTRA_FIRST.MALE],
    last: [...last, ...EXTRA_LAST],
    organisation,
    companies,
    domain,
  };
}

/** mulberry32: tiny, fast and good enough for test data. */
export function createRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    chance: (probability: number) => next() < probability,
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
  };
}

// Formatting dates dominates generation time otherwise: ~40k distinct days, each formatted once.
const dayCache = new Map<number, string>();
function day(days: number): string {
  let text = dayCache.get(days);
  if (text === undefined) {
    text = new Date(days * 86_400_000).toISOString().slice(0, 10);
    dayCache.set(days, text);
  }
  return text;
}
function dayNumber(date: string): number {
  return Date.parse(`${date}T00:00:00Z`) / 86_400_000;
}
function ascii(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[^A-Za-z0-9]/g, '')
    .toLowerCase();
}
function pad(value: number, width = 6): string {
  return String(value).padStart(width, '0');
}

interface GeneratedDependent {
  id: string;
  remoteId: string;
  relationship: 'SPOUSE' | 'DOMESTIC_PARTNER' | 'CHILD';
}

export function* generateOrganisation(options: OrganisationOptions): Generator<RowChunk> {
  const { linkedAccountId: account, employees: total, seed } = options;
  const chunkSize = options.chunkSize ?? 2000;
  const random = createRandom(seed);
  const names = buildNamePools(seed);
  const id = (model: string, remoteId: string) => recordId(account, model, remoteId);
  const common = (remoteId: string, createdAt: string, remoteData: Row): Row => ({
    linked_account_id: account,
    remote_id: remoteId,
    remote_data: remoteData,
    remote_created_at: createdAt,
    remote_modified_at: SOURCE_MODIFIED_AT,
    remote_was_deleted: false,
  });

  // ─── Companies, departments, plans: small and needed by every employee ─────────────────────
  const companies = COMPANY_CODES.slice(0, random.int(2, 4)).map((company, index) => ({
    ...company,
    id: id('companies', company.code),
    name: names.companies[index]!,
  }));
  const companyRows = companies.map((company) => ({
    id: company.id,
    ...common(company.code, '2015-01-01T00:00:00.000Z', { dataAreaId: company.code, Name: company.name }),
    name: company.name,
    legal_name: `${company.name} ${company.currency === 'USD' ? 'Inc.' : 'Holdings'}`,
    company_code: company.code,
  }));

  const departmentCount = Math.max(1, Math.round(total / 40));
  const departments = Array.from({ length: departmentCount }, (_, index) => {
    const remoteId = `DEP-${pad(index + 1, 4)}`;
    const company = companies[index % companies.length]!;
    const base = DEPARTMENT_NAMES[index % DEPARTMENT_NAMES.length]!;
    const round = Math.floor(index / DEPARTMENT_NAMES.length);
    return {
      id: id('departments', remoteId),
      remoteId,
      company,
      name: round === 0 ? base : `${base} ${round + 1}`,
    };
  });
  const departmentRows = departments.map((department, index) => ({
    id: department.id,
    ...common(department.remoteId, '2015-01-01T00:00:00.000Z', {
      OperatingUnitNumber: department.remoteId,
      Name: department.name,
    }),
    name: department.name,
    code: department.remoteId,
    company_id: department.company.id,
    // Numbered departments report into the first of their name ("Sales 2" → "Sales").
    parent_department_id:
      index >= DEPARTMENT_NAMES.length ? departments[index % DEPARTMENT_NAMES.length]!.id : null,
  }));

  const planRows = PLANS.map((plan) => ({
    id: id('benefit_plans', plan.code),
    ...common(plan.code, '2025-10-01T00:00:00.000Z', { BenefitPlanId: plan.code, BenefitType: plan.raw }),
    name: plan.name,
    description: `${plan.name} administered by ${plan.carrier}`,
    plan_type: plan.type,
    plan_type_raw: plan.raw,
    carrier_name: plan.carrier,
    plan_year_start: PLAN_YEAR_START,
    plan_year_end: PLAN_YEAR_END,
    coverage_levels_offered: plan.levels,
  }));
  yield { companies: companyRows, departments: departmentRows, benefit_plans: planRows };

  // ─── Employees in chunks, with everything that hangs off them ──────────────────────────────
  // Managers come from a lower index (about 5–8 reports each), so the tree has one root and no cycle;
  // indexes above total/5 manage no one, so only they are ever terminated or pending.
  const leafFrom = Math.floor(total / 5) + 1;
  // Each id is a SHA-1: compute every employee's and plan's once, references reuse them.
  const employeeIds: string[] = [];
  const employeeId = (index: number) => {
    employeeIds[index] ??= id('employees', `P${pad(index + 1)}`);
    return employeeIds[index]!;
  };
  const planIds = new Map(PLANS.map((plan) => [plan.code, id('benefit_plans', plan.code)]));

  for (let start = 0; start < total; start += chunkSize) {
    const chunk: Required<RowChunk> = {
      companies: [],
      departments: [],
      benefit_plans: [],
      job_positions: [],
      employees: [],
      employments: [],
      dependents: [],
      benefit_enrollments: [],
      benefit_enrollment_dependents: [],
    };
    for (let index = start; index < Math.min(total, start + chunkSize); index++) {
      const personnelNumber = `P${pad(index + 1)}`;
      const selfId = employeeId(index);
      const department = index === 0 ? departments[0]! : random.pick(departments);
      const company = department.company;
      const gender: Gender = random.chance(0.02)
        ? 'NON_BINARY'
        : random.chance(0.02)
          ? 'PREFER_NOT_TO_DISCLOSE'
          : random.chance(0.5)
            ? 'FEMALE'
            : 'MALE';
      const firstName = random.pick(
        gender === 'MALE'
          ? names.male
          : gender === 'FEMALE'
            ? names.female
            : random.chance(0.5)
              ? names.male
              : names.female,
      );
      const lastName = random.pick(names.last);
      const middleName = random.chance(0.3)
        ? random.pick(random.chance(0.5) ? names.male : names.female)
        : null;
      const preferredName = random.chance(0.08) ? random.pick(names.female) : null;
      const ageDays = random.int(20 * 365, 64 * 365);
      const birthDay = REFERENCE_DAY - ageDays;
      const earliestHire = Math.max(birthDay + 18 * 365, dayNumber('1998-01-05'));
      const isLeaf = index >= leafFrom;
      const contractor = index > 0 && random.chance(0.06);
      const pending = isLeaf && !contractor && random.chance(0.01);
      const hireDay = pending
        ? REFERENCE_DAY + random.int(1, 30)
        : random.int(earliestHire, REFERENCE_DAY - 30);
      const terminated = isLeaf && !pending && random.chance(0.06) && REFERENCE_DAY - hireDay > 200;
      const terminationDay = terminated ? random.int(hireDay + 180, REFERENCE_DAY - 1) : null;
      const status = pending ? 'PENDING' : terminated ? 'INACTIVE' : random.chance(0.02) ? 'LEAVE' : 'ACTIVE';
      const managerIndex =
        index === 0 ? null : random.int(Math.floor((index - 1) / 8), Math.floor((index - 1) / 5));
      const isManager = index < leafFrom;
      const jobTitle =
        index === 0
          ? 'Chief Executive Officer'
          : isManager
            ? random.pick(MANAGER_TITLES)
            : random.pick(JOB_TITLES);
      const positionRemoteId = `POS-${pad(index + 1)}`;
      const positionId = id('job_positions', positionRemoteId);
      const hireDate = day(hireDay);
      const workEmail = `${ascii(firstName)}.${ascii(lastName)}${index + 1}@${names.domain}`;

      chunk.job_positions.push({
        id: positionId,
        ...common(positionRemoteId, `${hireDate}T00:00:00.000Z`, {
          PositionId: positionRemoteId,
          Description: jobTitle,
        }),
        position_number: positionRemoteId,
        job_title: jobTitle,
        description: `${jobTitle}, ${department.name}`,
        company_id: company.id,
        department_id: department.id,
        full_time_equivalent: contractor ? 0.5 : 1,
        valid_from: hireDate,
        valid_to: terminationDay === null ? null : day(terminationDay),
      });
      chunk.employees.push({
        id: selfId,
        ...common(personnelNumber, `${hireDate}T00:00:00.000Z`, {
          cdm_workernumber: personnelNumber,
          cdm_firstname: firstName,
          cdm_lastname: lastName,
          cdm_gender: Number(GENDER_RAW[gender]),
          statecode: terminated ? 1 : 0,
        }),
        employee_number: personnelNumber,
        company_id: company.id,
        first_name: firstName,
        middle_name: middleName,
        last_name: lastName,
        preferred_name: preferredName,
        display_full_name: `${preferredName ?? firstName} ${lastName}`,
        work_email: workEmail,
        personal_email: random.chance(0.6)
          ? `${ascii(firstName)}${random.int(1, 999)}@mail.example.net`
          : null,
        mobile_phone_number: random.chance(0.8)
          ? `+1-555-${pad(random.int(100, 999), 3)}-${pad(random.int(0, 9999), 4)}`
          : null,
        manager_id: managerIndex === null ? null : employeeId(managerIndex),
        department_id: department.id,
        position_id: positionId,
        job_title: jobTitle,
        date_of_birth: day(birthDay),
        gender,
        gender_raw: GENDER_RAW[gender],
        worker_type: contractor ? 'CONTRACTOR' : 'EMPLOYEE',
        worker_type_raw: contractor ? WORKER_TYPE_RAW.CONTRACTOR : WORKER_TYPE_RAW.EMPLOYEE,
        employment_status: status,
        employment_status_raw: EMPLOYMENT_STATUS_RAW[status],
        hire_date: hireDate,
        start_date: hireDate,
        termination_date: terminationDay === null ? null : day(terminationDay),
      });

      // Employments: one current; ~15% also an earlier one that ended the day before it started.
      const employmentType = contractor
        ? 'CONTRACTOR'
        : random.chance(0.85)
          ? 'FULL_TIME'
          : random.chance(0.8)
            ? 'PART_TIME'
            : 'INTERN';
      const salaried = employmentType === 'FULL_TIME';
      const payRate = salaried ? random.int(38_000, 240_000) : random.int(1500, 9500) / 100;
      const endOfCurrent = terminationDay ?? REFERENCE_DAY;
      const hasEarlier = random.chance(0.15) && endOfCurrent - hireDay > 800;
      const currentStart = hasEarlier ? random.int(hireDay + 365, endOfCurrent - 60) : hireDay;
      const employment = (number: number, from: number, to: number | null, rate: number, title: string) => ({
        id: id('employments', `${personnelNumber}-${number}`),
        ...common(`${personnelNumber}-${number}`, `${day(from)}T00:00:00.000Z`, {
          PersonnelNumber: personnelNumber,
          EmploymentStartDate: day(from),
          PositionId: positionRemoteId,
        }),
        employee_id: selfId,
        company_id: company.id,
        position_id: positionId,
        job_title: title,
        employment_type: employmentType,
        employment_type_raw: EMPLOYMENT_TYPE_RAW[employmentType],
        start_date: day(from),
        end_date: to === null ? null : day(to),
        pay_rate: rate,
        pay_period: salaried ? 'YEAR' : 'HOUR',
        pay_period_raw: salaried ? PAY_PERIOD_RAW.YEAR : PAY_PERIOD_RAW.HOUR,
        pay_frequency: company.frequency,
        pay_frequency_raw: PAY_FREQUENCY_RAW[company.frequency],
        pay_currency: company.currency,
      });
      if (hasEarlier) {
        chunk.employments.push(
          employment(1, hireDay, currentStart - 1, Math.round(payRate * 0.88), random.pick(JOB_TITLES)),
        );
      }
      chunk.employments.push(employment(hasEarlier ? 2 : 1, currentStart, terminationDay, payRate, jobTitle));

      // Dependents: a partner for about half, 0–3 children (about 1.5 dependents per employee).
      const dependents: GeneratedDependent[] = [];
      const addDependent = (relationship: GeneratedDependent['relationship'], row: Row) => {
        const remoteId = `${personnelNumber}-D${dependents.length + 1}`;
        const dependentId = id('dependents', remoteId);
        dependents.push({ id: dependentId, remoteId, relationship });
        const dependentGender = row.gender as Gender;
        chunk.dependents.push({
          id: dependentId,
          ...common(remoteId, `${hireDate}T00:00:00.000Z`, {
            PersonnelNumber: personnelNumber,
            ContactPersonId: remoteId,
            Relationship: RELATIONSHIP_RAW[relationship],
          }),
          employee_id: selfId,
          relationship,
          relationship_raw: RELATIONSHIP_RAW[relationship],
          gender_raw: FNO_GENDER_RAW(dependentGender),
          middle_name: null,
          ...row,
        });
      };
      const ageYears = Math.floor(ageDays / 365);
      if (random.chance(0.55)) {
        const domestic = random.chance(0.15);
        const partnerGender: Gender = random.chance(0.9)
          ? gender === 'MALE'
            ? 'FEMALE'
            : 'MALE'
          : gender === 'FEMALE'
            ? 'FEMALE'
            : 'MALE';
        addDependent(domestic ? 'DOMESTIC_PARTNER' : 'SPOUSE', {
          first_name: random.pick(partnerGender === 'FEMALE' ? names.female : names.male),
          last_name: !domestic && random.chance(0.6) ? lastName : random.pick(names.last),
          date_of_birth: day(birthDay + random.int(-5 * 365, 5 * 365)),
          gender: partnerGender,
          is_student: false,
          is_disabled: random.chance(0.02),
          is_court_ordered: false,
          is_domestic_partner_verified: domestic ? random.chance(0.7) : null,
          is_beneficiary: random.chance(0.8),
          is_emergency_contact: random.chance(0.7),
        });
      }
      const roll = random.next();
      const children = ageYears < 22 ? 0 : roll < 0.4 ? 0 : roll < 0.7 ? 1 : roll < 0.9 ? 2 : 3;
      for (let child = 0; child < children; child++) {
        const childAge = random.int(0, Math.min(25, ageYears - 19) * 365);
        const childGender: Gender = random.chance(0.5) ? 'FEMALE' : 'MALE';
        const adult = childAge >= 18 * 365;
        addDependent('CHILD', {
          first_name: random.pick(childGender === 'FEMALE' ? names.female : names.male),
          last_name: lastName,
          date_of_birth: day(REFERENCE_DAY - childAge),
          gender: childGender,
          is_student: adult && random.chance(0.7),
          is_disabled: random.chance(0.03),
          is_court_ordered: random.chance(0.04),
          is_domestic_partner_verified: null,
          is_beneficiary: random.chance(0.3),
          is_emergency_contact: adult && random.chance(0.3),
        });
      }

      // Enrollments (~3 each): health coverage follows the dependents the employee has.
      if (status === 'PENDING') continue;
      const enrollmentStatus = terminated ? 'TERMINATED' : 'ACTIVE';
      const coverageStart = day(
        Math.max(
          hireDay,
          dayNumber(terminationDay === null ? PLAN_YEAR_START : `${day(terminationDay).slice(0, 4)}-01-01`),
        ),
      );
      const partner = dependents.filter((dependent) => dependent.relationship !== 'CHILD');
      const kids = dependents.filter((dependent) => dependent.relationship === 'CHILD');
      const familyLevel: Coverage =
        partner.length && kids.length
          ? 'EMPLOYEE_FAMILY'
          : partner.length
            ? 'EMPLOYEE_SPOUSE'
            : kids.length
              ? 'EMPLOYEE_CHILDREN'
              : 'EMPLOYEE_ONLY';
      const enroll = (code: string, options: { waived?: boolean; level?: Coverage; percent?: boolean }) => {
        const plan = PLAN_BY_CODE.get(code)!;
        const remoteId = `${personnelNumber}-${code}`;
        const enrollmentId = id('benefit_enrollments', remoteId);
        const level = options.waived ? null : (options.level ?? 'EMPLOYEE_ONLY');
        const statusValue = options.waived ? 'WAIVED' : enrollmentStatus;
        const levelFactor = level === null ? 0 : ALL_LEVELS.indexOf(level) + 1;
        chunk.benefit_enrollments.push({
          id: enrollmentId,
          ...common(remoteId, `${coverageStart}T00:00:00.000Z`, {
            PersonnelNumber: personnelNumber,
            BenefitPlanId: code,
            Status: ENROLLMENT_STATUS_RAW[statusValue],
          }),
          employee_id: selfId,
          benefit_plan_id: planIds.get(plan.code),
          status: statusValue,
          status_raw: ENROLLMENT_STATUS_RAW[statusValue],
          coverage_level: level,
          coverage_level_raw: level === null ? null : COVERAGE_RAW[level],
          start_date: coverageStart,
          end_date: terminationDay === null ? null : day(terminationDay),
          employee_contribution_amount_minor:
            options.waived || options.percent ? null : levelFactor * random.int(2500, 9000),
          employee_contribution_percent_bps: options.percent ? random.int(3, 10) * 100 : null,
          employee_contribution_currency: options.waived || options.percent ? null : company.currency,
          company_contribution_amount_minor:
            options.waived || options.percent ? null : levelFactor * random.int(9000, 30_000),
          company_contribution_percent_bps: options.percent ? random.int(3, 6) * 100 : null,
          company_contribution_currency: options.waived || options.percent ? null : company.currency,
        });
        const covered =
          level === 'EMPLOYEE_FAMILY'
            ? dependents
            : level === 'EMPLOYEE_SPOUSE'
              ? partner
              : level === 'EMPLOYEE_CHILDREN'
                ? kids
                : [];
        for (const dependent of covered) {
          chunk.benefit_enrollment_dependents.push({
            linked_account_id: account,
            benefit_enrollment_id: enrollmentId,
            dependent_id: dependent.id,
            remote_id: `${remoteId}/${dependent.remoteId}`,
          });
        }
      };
      // Most cover their whole family; some keep themselves only even with dependents.
      const healthLevel = () => (random.chance(0.85) ? familyLevel : 'EMPLOYEE_ONLY');
      const medicalCode = random.chance(0.65) ? 'MED-PPO' : 'MED-HDHP';
      const waivedMedical = random.chance(0.1);
      enroll(medicalCode, { waived: waivedMedical, level: healthLevel() });
      if (!waivedMedical && medicalCode === 'MED-HDHP' && random.chance(0.8)) enroll('HSA', {});
      if (!waivedMedical && medicalCode === 'MED-PPO' && random.chance(0.15)) enroll('FSA', {});
      if (random.chance(0.65)) enroll('DEN', { level: healthLevel() });
      if (random.chance(0.35)) enroll('VIS', { level: healthLevel() });
      if (random.chance(0.2)) enroll('LIFE', {});
      if (random.chance(0.2)) enroll('LTD', {});
      if (!contractor && random.chance(0.55)) enroll('401K', { percent: true });
    }
    yield chunk;
  }
}

/** The organisation name a seed produces (for the linked account). */
export function organisationName(seed: number): string {
  return buildNamePools(seed).organisation;
}
