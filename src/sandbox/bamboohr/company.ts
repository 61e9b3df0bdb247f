import type { GeneratedOrganisation } from '../data/types.js';
import { createRandom, type Random } from '../random.js';

/**
 * A simulated BambooHR company ("account"), built from the same seeded organisation as the Dynamics
 * tenant so unified results can be compared. Values are kept in BambooHR's wire shape
 * (docs/bamboohr.md): employee ids are integers as strings, dates `YYYY-MM-DD`, list fields hold the
 * option's name, table rows carry their own id.
 */

/** Employee fields the simulator serves (docs/bamboohr.md, "Fields"), all as strings or null. */
export const EMPLOYEE_FIELDS = {
  employeeNumber: { type: 'text', name: 'Employee #' },
  firstName: { type: 'text', name: 'First Name' },
  middleName: { type: 'text', name: 'Middle Name' },
  lastName: { type: 'text', name: 'Last Name' },
  preferredName: { type: 'text', name: 'Preferred Name' },
  displayName: { type: 'text', name: 'Display Name' },
  workEmail: { type: 'email', name: 'Work Email' },
  homeEmail: { type: 'email', name: 'Home Email' },
  mobilePhone: { type: 'phone', name: 'Mobile Phone' },
  dateOfBirth: { type: 'date', name: 'Birth Date' },
  gender: { type: 'gender', name: 'Gender' },
  status: { type: 'status', name: 'Status' },
  employmentHistoryStatus: { type: 'list', name: 'Employment Status' },
  hireDate: { type: 'date', name: 'Hire Date' },
  originalHireDate: { type: 'date', name: 'Original Hire Date' },
  terminationDate: { type: 'date', name: 'Termination Date' },
  department: { type: 'list', name: 'Department' },
  division: { type: 'list', name: 'Division' },
  location: { type: 'list', name: 'Location' },
  jobTitle: { type: 'list', name: 'Job Title' },
  supervisorEId: { type: 'employee', name: 'Supervisor EID' },
  supervisor: { type: 'text', name: 'Supervisor' },
  payRate: { type: 'currency', name: 'Pay Rate' },
  payType: { type: 'pay_type', name: 'Pay Type' },
  payPer: { type: 'list', name: 'Pay Per' },
  paySchedule: { type: 'list', name: 'Pay Schedule' },
} as const;
export type EmployeeFieldName = keyof typeof EMPLOYEE_FIELDS;
/** Fields only a key with access to compensation sees (omitted silently from reports otherwise). */
export const COMPENSATION_FIELDS: readonly EmployeeFieldName[] = [
  'payRate',
  'payType',
  'payPer',
  'paySchedule',
];

export type EmployeeValues = Record<EmployeeFieldName, string | null>;

export interface BambooEmployee {
  id: string;
  values: EmployeeValues;
  /** ISO instant of the last change to the employee or its job, status or compensation rows. */
  lastChanged: string;
  /** The action the changed-since endpoint reports for the last change. */
  lastAction: 'Inserted' | 'Updated';
}

export const TABLE_NAMES = ['jobInfo', 'employmentStatus', 'compensation'] as const;
export type TableName = (typeof TABLE_NAMES)[number];
/** A table row as the tables endpoints return it: its id, its employee, its columns. */
export type TableRow = { id: string; employeeId: string } & Record<string, string | null>;

export interface BambooDependent {
  id: string;
  employeeId: string;
  firstName: string;
  middleName: string | null;
  lastName: string;
  relationship: string;
  gender: string | null;
  maskedSSN: string | null;
  maskedSIN: string | null;
  dateOfBirth: string | null;
  addressLine1: string | null;
  addressLine2: string | null;
  city: string | null;
  state: string | null;
  zipCode: string | null;
  homePhone: string | null;
  country: string | null;
  isUsCitizen: string;
  isStudent: string;
}

export interface BambooCompanyBenefit {
  id: string;
  name: string;
  benefitVendorId: string | null;
  benefitType: string;
  deductionTypeId: number | null;
  startDate: string;
  endDate: string | null;
  description: string | null;
}

export interface BambooEmployeeBenefit {
  employeeId: number;
  companyBenefitId: number;
  companyBenefitName: string;
  coverageLevel: string | null;
  deductionStartDate: string;
  deductionEndDate: string | null;
  enrollmentStatus: 'Eligible' | 'Enrolled' | 'Waived' | 'Withdrawn' | 'Terminated' | 'Ineligible';
  effectiveDate: string;
  currencyCode: string;
  employeeAmount: number;
  employeeAmountType: string;
  companyAmount: number;
  companyAmountType: string;
}

export interface DeletedEmployee {
  id: string;
  lastChanged: string;
}

export interface BambooCompany {
  companyDomain: string;
  /** The API key of the company's integration user (HTTP Basic user name). */
  apiKey: string;
  employees: Map<string, BambooEmployee>;
  deleted: Map<string, DeletedEmployee>;
  tables: Record<TableName, TableRow[]>;
  dependents: BambooDependent[];
  companyBenefits: BambooCompanyBenefit[];
  employeeBenefits: BambooEmployeeBenefit[];
  /** List field options (meta/lists): field alias → option names with ids. */
  lists: Record<'department' | 'division' | 'jobTitle' | 'location', { id: number; name: string }[]>;
  /** What the key's user may do; controls change it. */
  access: { enabled: boolean; benefitsAdministration: boolean; compensation: boolean };
  random: Random;
  nextEmployeeId: number;
  nextRowId: number;
  nextDependentId: number;
}

const isoDate = (value: string | null | undefined): string | null => (value ? value.slice(0, 10) : null);
/** Dynamics' open end (2154-12-31) means no end. */
const endDate = (value: string | null | undefined): string | null =>
  value && Number(value.slice(0, 4)) < 2154 ? value.slice(0, 10) : null;

const GENDER: Record<number, string | null> = {
  754400000: 'Male',
  754400001: 'Female',
  754400002: null,
  754400003: 'Non-binary',
};
const DEPENDENT_RELATIONSHIP: Record<string, string> = {
  Spouse: 'spouse',
  DomesticPartner: 'domestic partner',
  Child: 'child',
};
const DEPENDENT_GENDER: Record<string, string | null> = {
  Male: 'male',
  Female: 'female',
  NonSpecific: null,
  None: null,
};
/** The coverage BambooHR names for the generator's benefit option ids (docs/bamboohr.md, "Benefits"). */
const COVERAGE: Record<string, string> = {
  EE: 'Employee',
  'EE+SP': 'Employee + Spouse',
  'EE+CH': 'Employee + Child(ren)',
  'EE+FAM': 'Family',
};

/** BambooHR timestamps of the changed-since API: `2011-06-02T19:26:23+00:00`. */
export function bambooTimestamp(date: Date): string {
  return `${date.toISOString().slice(0, 19)}+00:00`;
}

export function createBambooCompany(input: {
  organisation: GeneratedOrganisation;
  companyDomain: string;
  apiKey: string;
}): BambooCompany {
  const { organisation } = input;
  const dv = organisation.dataverse;
  const random = createRandom(organisation.seed ^ 0x0ba3b00);
  const idOfWorker = new Map<string, string>();
  dv.cdm_workers.forEach((worker, index) => {
    idOfWorker.set(worker.cdm_workerid, String(index + 1));
  });
  const workerByNumber = new Map(dv.cdm_workers.map((worker) => [worker.cdm_workernumber, worker]));
  const workerById = new Map(dv.cdm_workers.map((worker) => [worker.cdm_workerid, worker]));
  const departments = new Map(dv.cdm_departments.map((row) => [row.cdm_departmentid, row]));
  const jobs = new Map(dv.cdm_jobs.map((row) => [row.cdm_jobid, row]));
  const positions = new Map(dv.cdm_jobpositions.map((row) => [row.cdm_jobpositionid, row]));
  const asOf = Date.parse(organisation.asOf);
  const currentPosition = new Map<string, string>();
  for (const assignment of dv.cdm_positionworkerassignmentmaps) {
    if (Date.parse(assignment.cdm_validfrom) <= asOf && Date.parse(assignment.cdm_validto) > asOf) {
      currentPosition.set(assignment._cdm_workerid_value, assignment._cdm_jobpositionid_value);
    }
  }
  const employmentsOf = new Map<string, (typeof dv.cdm_employments)[number][]>();
  for (const employment of dv.cdm_employments) {
    const list = employmentsOf.get(employment._cdm_workerid_value) ?? [];
    list.push(employment);
    employmentsOf.set(employment._cdm_workerid_value, list);
  }
  const company = dv.cdm_companies[0];
  const lists: BambooCompany['lists'] = {
    department: dv.cdm_departments.map((row, index) => ({ id: 1000 + index, name: row.cdm_name })),
    division: dv.cdm_companies.map((row, index) => ({ id: 2000 + index, name: row.cdm_name })),
    jobTitle: dv.cdm_jobs.map((row, index) => ({ id: 3000 + index, name: row.cdm_name })),
    location: [{ id: 4000, name: 'Headquarters' }],
  };

  const bamboo: BambooCompany = {
    companyDomain: input.companyDomain,
    apiKey: input.apiKey,
    employees: new Map(),
    deleted: new Map(),
    tables: { jobInfo: [], employmentStatus: [], compensation: [] },
    dependents: [],
    companyBenefits: [],
    employeeBenefits: [],
    lists,
    access: { enabled: true, benefitsAdministration: true, compensation: true },
    random,
    nextEmployeeId: dv.cdm_workers.length + 1,
    nextRowId: 1,
    nextDependentId: 1,
  };

  for (const worker of dv.cdm_workers) {
    const id = idOfWorker.get(worker.cdm_workerid) as string;
    const employments = (employmentsOf.get(worker.cdm_workerid) ?? []).sort((a, b) =>
      a.cdm_employmentstartdate.localeCompare(b.cdm_employmentstartdate),
    );
    const latest = employments[employments.length - 1];
    const position = positions.get(currentPosition.get(worker.cdm_workerid) ?? '');
    const department = position ? departments.get(position._cdm_departmentid_value)?.cdm_name : undefined;
    const jobTitle = position ? jobs.get(position._cdm_jobid_value)?.cdm_name : undefined;
    const manager = worker._cdm_managerworkerid_value
      ? workerById.get(worker._cdm_managerworkerid_value)
      : undefined;
    const contractor = worker.cdm_type === 754400001;
    const terminated = latest ? endDate(latest.cdm_employmentenddate) : null;
    const hireDate = isoDate(employments[0]?.cdm_employmentstartdate) ?? isoDate(worker.createdon);
    const employmentStatus = terminated ? 'Terminated' : contractor ? 'Contractor' : 'Full-Time';
    const pay = payOf(random, contractor);
    const values: EmployeeValues = {
      employeeNumber: worker.cdm_workernumber,
      firstName: worker.cdm_firstname,
      middleName: worker.cdm_middlename,
      lastName: worker.cdm_lastname,
      preferredName: null,
      displayName: worker.cdm_fullname,
      workEmail: worker.cdm_primaryemailaddress,
      homeEmail: null,
      mobilePhone: worker.cdm_mobilephone,
      dateOfBirth: worker.cdm_birthdate,
      gender: GENDER[worker.cdm_gender] ?? null,
      status: worker.cdm_status === 754400000 ? 'Active' : 'Inactive',
      employmentHistoryStatus: employmentStatus,
      hireDate,
      originalHireDate: hireDate,
      terminationDate: terminated,
      department: department ?? null,
      division: company?.cdm_name ?? null,
      location: 'Headquarters',
      jobTitle: jobTitle ?? null,
      supervisorEId: manager ? (idOfWorker.get(manager.cdm_workerid) ?? null) : null,
      supervisor: manager ? `${manager.cdm_lastname}, ${manager.cdm_firstname}` : null,
      payRate: `${pay.rate} USD`,
      payType: pay.type,
      payPer: pay.per,
      paySchedule: pay.schedule,
    };
    bamboo.employees.set(id, {
      id,
      values,
      lastChanged: bambooTimestamp(new Date(worker.modifiedon)),
      lastAction: 'Updated',
    });
    addTableRows(bamboo, id, values);
  }

  const typeOfPlan = new Map(dv.cdm_benefittypes.map((row) => [row.cdm_benefittypeid, row.cdm_name]));
  const year = organisation.asOf.slice(0, 4);
  dv.cdm_benefitplans.forEach((plan, index) => {
    bamboo.companyBenefits.push({
      id: String(index + 1),
      name: plan.cdm_description ?? plan.cdm_name,
      benefitVendorId: null,
      benefitType: typeOfPlan.get(plan._cdm_benefittypeid_value) ?? 'Other',
      deductionTypeId: null,
      startDate: `${year}-01-01`,
      endDate: null,
      description: plan.cdm_name,
    });
  });
  const planByName = new Map(
    dv.cdm_benefitplans.map((plan, index) => [plan.cdm_name, bamboo.companyBenefits[index]]),
  );

  for (const contact of organisation.fno.WorkerPersonalContactPersons) {
    if (contact.IsDependent !== 'Yes') continue;
    const worker = workerByNumber.get(contact.WorkerPersonnelNumber);
    const employeeId = worker ? idOfWorker.get(worker.cdm_workerid) : undefined;
    if (!employeeId) continue;
    bamboo.dependents.push({
      id: String(bamboo.nextDependentId++),
      employeeId,
      firstName: contact.ContactFirstName,
      middleName: contact.ContactMiddleName || null,
      lastName: contact.ContactLastName,
      relationship: DEPENDENT_RELATIONSHIP[contact.RelationshipType] ?? 'other',
      gender: DEPENDENT_GENDER[contact.Gender] ?? null,
      maskedSSN: `xxx-xx-${String(random.int(0, 9999)).padStart(4, '0')}`,
      maskedSIN: null,
      dateOfBirth: isoDate(contact.BirthDate),
      addressLine1: null,
      addressLine2: null,
      city: null,
      state: null,
      zipCode: null,
      homePhone: null,
      country: 'United States',
      isUsCitizen: 'yes',
      isStudent: contact.IsFulltimeStudent === 'Yes' ? 'yes' : 'no',
    });
  }

  const today = new Date().toISOString().slice(0, 10);
  for (const enrollment of organisation.fno.WorkerEnrolledBenefits) {
    const worker = workerByNumber.get(enrollment.PersonnelNumber);
    const employeeId = worker ? idOfWorker.get(worker.cdm_workerid) : undefined;
    const plan = planByName.get(enrollment.BenefitPlanID);
    if (!employeeId || !plan) continue;
    const ended = endDate(enrollment.ValidTo);
    const start = isoDate(enrollment.ValidFrom) ?? `${year}-01-01`;
    bamboo.employeeBenefits.push({
      employeeId: Number(employeeId),
      companyBenefitId: Number(plan.id),
      companyBenefitName: plan.name,
      coverageLevel: COVERAGE[enrollment.BenefitOptionID] ?? null,
      deductionStartDate: start,
      deductionEndDate: ended,
      // The enrollment entity has no status: one whose end has passed is over (as the F&O mapper reads it).
      enrollmentStatus: ended && ended < today ? 'Terminated' : 'Enrolled',
      effectiveDate: ended ?? start,
      currencyCode: 'USD',
      employeeAmount: enrollment.DeductionAmountCur,
      employeeAmountType: 'amount',
      companyAmount: enrollment.ContributionAmountCur,
      companyAmountType: 'amount',
    });
  }
  return bamboo;
}

interface Pay {
  rate: string;
  type: 'Salary' | 'Hourly';
  per: 'Year' | 'Hour';
  schedule: string;
}

export function payOf(random: Random, hourly: boolean): Pay {
  return hourly
    ? { rate: `${random.int(25, 140)}.00`, type: 'Hourly', per: 'Hour', schedule: 'Every other week' }
    : { rate: `${random.int(45, 220) * 1000}.00`, type: 'Salary', per: 'Year', schedule: 'Twice a month' };
}

/** The job, status and compensation rows of an employee, as of their hire date. */
export function addTableRows(company: BambooCompany, employeeId: string, values: EmployeeValues): void {
  const date = values.hireDate;
  company.tables.jobInfo.push({
    id: String(company.nextRowId++),
    employeeId,
    date,
    location: values.location,
    division: values.division,
    department: values.department,
    jobTitle: values.jobTitle,
    reportsTo: values.supervisor,
  });
  company.tables.employmentStatus.push({
    id: String(company.nextRowId++),
    employeeId,
    date,
    employmentStatus:
      values.employmentHistoryStatus === 'Terminated' ? 'Full-Time' : values.employmentHistoryStatus,
    comment: null,
  });
  if (values.terminationDate) {
    company.tables.employmentStatus.push({
      id: String(company.nextRowId++),
      employeeId,
      date: values.terminationDate,
      employmentStatus: 'Terminated',
      comment: null,
    });
  }
  company.tables.compensation.push({
    id: String(company.nextRowId++),
    employeeId,
    startDate: date,
    endDate: null,
    rate: values.payRate,
    type: values.payType,
    exempt: values.payType === 'Salary' ? 'Exempt' : 'Non-exempt',
    reason: null,
    comment: null,
    paidPer: values.payPer,
    paySchedule: values.paySchedule,
  });
}
