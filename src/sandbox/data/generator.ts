import {
  BENEFIT_EMPLOYEE_PLAN_STATUS,
  codeOf,
  fnoValueOf,
  WORKER_GENDER,
} from '../../providers/dynamics/option-sets.js';
import { createRandom, type Random } from '../random.js';
import { flat, fnoDate, isoDate, isoSeconds } from './flat-strings.js';
import { defineLazyTable } from './lazy-table.js';
import { createNamePools, type NamePools, workerFirstName } from './name-pools.js';
import { genderCode, workerStatusCode, workerTypeCode } from './option-sets.js';
import type {
  BenefitOptionRow,
  BenefitPlanRow,
  BenefitTypeRow,
  CompanyRow,
  DepartmentRow,
  EmploymentRow,
  FnoBenefitPlanRow,
  FnoCoveredDependentRow,
  FnoEmploymentRow,
  FnoEnrolledBenefitRow,
  FnoGender,
  FnoPersonalContactRow,
  FnoPositionHierarchyRow,
  FnoPositionRow,
  FnoWorkerRow,
  GeneratedOrganisation,
  JobPositionRow,
  JobRow,
  PayrollWorkerBenefitPlanRow,
  PositionWorkerAssignmentRow,
  WorkerRow,
} from './types.js';

/**
 * Deterministic organisation generator: the same seed and size give the same rows, byte for byte.
 * Speed matters (100k workers in well under 10 s): names come from pools, dates are epoch arithmetic.
 */
export interface GenerateOptions {
  workers: number;
  seed: number;
}

const asOf = Date.UTC(2025, 5, 30);
const day = 86_400_000;
/** F&O's "no end" date for valid-to columns. */
const maxDate = '2154-12-31T23:59:59Z';
/** F&O's empty date. */
const emptyFnoDate = '1900-01-01T00:00:00Z';

const midnight = (epochMs: number): number => Math.floor(epochMs / day) * day;

const companyCatalog: Array<[string, string]> = [
  ['USMF', 'Contoso Entertainment System USA'],
  ['USRT', 'Contoso Retail USA'],
  ['GBSI', 'Contoso Europe UK'],
  ['DEMF', 'Contoso Entertainment System Germany'],
  ['FRRT', 'Contoso Retail France'],
  ['CAMF', 'Contoso Entertainment System Canada'],
];
const departmentNames = [
  'Finance',
  'Human Resources',
  'Engineering',
  'Sales',
  'Marketing',
  'Operations',
  'Customer Support',
  'Legal',
  'Information Technology',
  'Procurement',
  'Facilities',
  'Research',
];

interface PlanSpec {
  planId: string;
  name: string;
  type: string;
  options: Array<[optionId: string, name: string, employeeCost: number, employerCost: number]>;
}
const benefitTypeSpecs: Array<[name: string, description: string]> = [
  ['Medical', 'Medical insurance'],
  ['Dental', 'Dental insurance'],
  ['Vision', 'Vision insurance'],
  ['Life', 'Life and AD&D insurance'],
  ['Disability', 'Short and long term disability'],
  ['Retirement', '401(k) retirement savings'],
  ['HSA', 'Health savings account'],
  ['FSA', 'Flexible spending account'],
];
const healthLevels = (ee: number, sp: number, ch: number, fam: number): PlanSpec['options'] => [
  ['EE', 'Employee only', ee, ee * 3],
  ['EE+SP', 'Employee + Spouse', sp, sp * 2.5],
  ['EE+CH', 'Employee + Child(ren)', ch, ch * 2.5],
  ['EE+FAM', 'Family', fam, fam * 2.2],
];
const planSpecs: PlanSpec[] = [
  { planId: 'MED-PPO', name: 'Medical PPO', type: 'Medical', options: healthLevels(120, 260, 230, 380) },
  { planId: 'MED-HDHP', name: 'Medical HDHP', type: 'Medical', options: healthLevels(60, 140, 120, 210) },
  { planId: 'DEN-BASIC', name: 'Dental Basic', type: 'Dental', options: healthLevels(12, 25, 24, 38) },
  { planId: 'VIS-STD', name: 'Vision Standard', type: 'Vision', options: healthLevels(4, 8, 8, 12) },
  {
    planId: 'LIFE-BASIC',
    name: 'Basic Life and AD&D',
    type: 'Life',
    options: [
      ['1X', '1x annual salary', 0, 9],
      ['2X', '2x annual salary', 6, 9],
      ['3X', '3x annual salary', 12, 9],
    ],
  },
  {
    planId: 'STD',
    name: 'Short Term Disability',
    type: 'Disability',
    options: [['60PCT', '60% of salary', 0, 15]],
  },
  {
    planId: '401K',
    name: '401(k) Savings Plan',
    type: 'Retirement',
    options: [
      ['3PCT', '3% contribution', 150, 150],
      ['6PCT', '6% contribution', 300, 300],
      ['10PCT', '10% contribution', 500, 300],
    ],
  },
  {
    planId: 'HSA',
    name: 'Health Savings Account',
    type: 'HSA',
    options: [
      ['EE', 'Employee only', 100, 40],
      ['EE+FAM', 'Family', 200, 80],
    ],
  },
  {
    planId: 'FSA-HC',
    name: 'Health Care FSA',
    type: 'FSA',
    options: [
      ['500', '$500 election', 42, 0],
      ['1500', '$1,500 election', 125, 0],
      ['3200', '$3,200 election', 267, 0],
    ],
  },
];

interface GeneratorState {
  random: Random;
  pools: NamePools;
  version: number;
  ownerId: string;
}

/*
 * Every user-owned Dataverse row starts with the same system columns (versionnumber: the next row
 * version; createdon, modifiedon; statecode 0, statuscode 1; _ownerid_value), written out in each row
 * literal rather than spread from a helper: V8 builds a spread object with an out-of-object property
 * store, about 600 bytes more per row than a plain literal, which at a million rows was most of the
 * heap (docs/PERFORMANCE.md, "Dynamics 365 sandbox").
 */

/** Created some time after Dataverse went live for the org; modified between then and asOf. */

function auditTimes(random: Random, notBefore: number): [number, number] {
  const created = Math.max(notBefore, Date.UTC(2019, 0, 1)) + random.int(0, 30 * day);
  const createdMs = Math.min(created, asOf - 2 * day);
  return [createdMs, createdMs + random.int(0, asOf - createdMs - day)];
}

export function generateOrganisation(options: GenerateOptions): GeneratedOrganisation {
  const workerCount = Math.max(1, Math.floor(options.workers));
  const random = createRandom(options.seed);
  const state: GeneratorState = {
    random,
    pools: createNamePools(options.seed),
    version: 1_000_000,
    ownerId: random.guid(),
  };
  const setupTime = Date.UTC(2019, 0, 2);
  const setupStamp = isoSeconds(setupTime);

  const companyCount =
    workerCount < 50 ? 1 : Math.min(companyCatalog.length, 1 + Math.floor(Math.log10(workerCount)));
  const companies: CompanyRow[] = companyCatalog.slice(0, companyCount).map(([code, name]) => ({
    versionnumber: ++state.version,
    createdon: setupStamp,
    modifiedon: setupStamp,
    statecode: 0,
    statuscode: 1,
    _ownerid_value: state.ownerId,
    cdm_companyid: random.guid(),
    cdm_name: name,
    cdm_companycode: code,
  }));

  const departmentCount = Math.min(2500, Math.max(3, Math.round(workerCount / 40)));
  const departments: DepartmentRow[] = [];
  for (let i = 0; i < departmentCount; i++) {
    const baseName = departmentNames[i % departmentNames.length] as string;
    const round = Math.floor(i / departmentNames.length);
    departments.push({
      versionnumber: ++state.version,
      createdon: setupStamp,
      modifiedon: setupStamp,
      statecode: 0,
      statuscode: 1,
      _ownerid_value: state.ownerId,
      cdm_departmentid: random.guid(),
      cdm_name: round === 0 ? baseName : `${baseName} ${round + 1}`,
      cdm_departmentnumber: `OU-${String(i + 1).padStart(4, '0')}`,
      cdm_description: random.chance(0.5) ? `${baseName} department` : null,
    });
  }

  const jobs: JobRow[] = state.pools.jobTitles.map((title) => ({
    versionnumber: ++state.version,
    createdon: setupStamp,
    modifiedon: setupStamp,
    statecode: 0,
    statuscode: 1,
    _ownerid_value: state.ownerId,
    cdm_jobid: random.guid(),
    cdm_name: title,
    cdm_description: random.chance(0.6) ? `${title} role` : null,
  }));

  const workers: WorkerRow[] = new Array(workerCount);
  const employments: EmploymentRow[] = [];
  const positions: JobPositionRow[] = [];
  const assignments: PositionWorkerAssignmentRow[] = [];
  const fnoWorkers: FnoWorkerRow[] = new Array(workerCount);
  /** Per worker: company index, whether employed, employment start (ms). */
  const workerCompany = new Uint8Array(workerCount);
  const workerActive = new Uint8Array(workerCount);
  const managerCount = Math.max(1, Math.ceil(workerCount / 7));

  for (let i = 0; i < workerCount; i++) {
    const genderRoll = random.next();
    const genderValue =
      genderRoll < 0.48
        ? genderCode.male
        : genderRoll < 0.96
          ? genderCode.female
          : genderRoll < 0.98
            ? genderCode.notSpecified
            : genderCode.nonSpecific;
    const nameGender =
      genderValue === genderCode.male || (genderValue !== genderCode.female && random.chance(0.5))
        ? 'male'
        : 'female';
    const firstName = workerFirstName(state.pools, random, nameGender);
    const lastName = state.pools.awkwardLastName(random);
    const middleName = random.chance(0.3) ? state.pools.firstName(random, nameGender) : null;
    const workerNumber = String(i + 1).padStart(6, '0');
    const isManager = i < managerCount;
    const active = isManager || random.chance(0.91);
    const isContractor = !isManager && random.chance(0.08);
    const companyIndex = i % companies.length;
    workerCompany[i] = companyIndex;
    workerActive[i] = active ? 1 : 0;
    const company = companies[companyIndex] as CompanyRow;
    const birthMs = Date.UTC(1955, 0, 1) + random.int(0, 48 * 365) * day;
    const startMs = midnight(
      Math.max(birthMs + 18 * 365 * day, Date.UTC(1998, 0, 1)) + random.int(0, 9000) * day,
    );
    const employmentStart = Math.min(startMs, asOf - 30 * day);
    const endMs = active
      ? null
      : employmentStart + random.int(30, Math.max(31, Math.floor((asOf - employmentStart) / day) - 1)) * day;
    const [createdMs, modifiedMs] = auditTimes(random, employmentStart);
    const workerId = random.guid();
    // One string per distinct date of the worker, shared by every row that shows it.
    const createdStamp = isoSeconds(createdMs);
    const startStamp = isoSeconds(employmentStart);
    const endStamp = endMs === null ? null : isoSeconds(endMs);
    const emailName = `${firstName}.${lastName}`
      .normalize('NFD')
      .replace(/[^A-Za-z.]/g, '')
      .toLowerCase();
    const email = flat(`${emailName}${i + 1}@contoso.com`);
    const phone = flat(`+1 425 555 ${String(random.int(0, 9999)).padStart(4, '0')}`);
    // A tree without cycles: each worker reports to one of the first seventh of the workforce, earlier than itself.
    const managerIndex = i === 0 ? -1 : Math.floor((i - 1) / 7);
    workers[i] = {
      versionnumber: ++state.version,
      createdon: createdStamp,
      modifiedon: isoSeconds(modifiedMs),
      statecode: 0,
      statuscode: 1,
      _ownerid_value: state.ownerId,
      cdm_workerid: workerId,
      cdm_workernumber: workerNumber,
      cdm_firstname: firstName,
      cdm_middlename: middleName,
      cdm_lastname: lastName,
      cdm_fullname: flat(middleName ? `${firstName} ${middleName} ${lastName}` : `${firstName} ${lastName}`),
      cdm_primaryemailaddress: email,
      cdm_primarytelephone: phone,
      cdm_mobilephone: random.chance(0.7)
        ? flat(`+1 206 555 ${String(random.int(0, 9999)).padStart(4, '0')}`)
        : null,
      cdm_birthdate: random.chance(0.97) ? isoDate(birthMs) : null,
      _cdm_managerworkerid_value:
        managerIndex >= 0 ? (workers[managerIndex] as WorkerRow).cdm_workerid : null,
      cdm_gender: genderValue,
      cdm_type: isContractor ? workerTypeCode.contractor : workerTypeCode.employee,
      cdm_status: active ? workerStatusCode.active : workerStatusCode.inactive,
    };
    const fnoGender = fnoValueOf(WORKER_GENDER, genderValue) as FnoGender;
    fnoWorkers[i] = {
      PersonnelNumber: workerNumber,
      PartyNumber: String(i + 1).padStart(9, '0'),
      Name: flat(`${firstName} ${lastName}`),
      FirstName: firstName,
      MiddleName: middleName ?? '',
      LastName: lastName,
      Gender: fnoGender,
      // The same person as the Dataverse row: no birth date there, none here (F&O's empty date).
      BirthDate: (workers[i] as WorkerRow).cdm_birthdate === null ? emptyFnoDate : fnoDate(birthMs),
      PrimaryContactEmail: email,
      PrimaryContactPhone: phone,
      WorkerType: isContractor ? 'Contractor' : 'Employee',
      EmploymentStartDate: startStamp,
      EmploymentEndDate: endStamp ?? emptyFnoDate,
    };

    // Rehires: an earlier, ended employment in another legal entity.
    if (random.chance(0.04) && employmentStart > Date.UTC(2003, 0, 1)) {
      const priorStart = employmentStart - random.int(1500, 2500) * day;
      const priorEnd = employmentStart - random.int(30, 400) * day;
      employments.push(
        employment(
          state,
          workerId,
          companies[(companyIndex + 1) % companies.length] as CompanyRow,
          priorStart,
          priorEnd,
          isContractor,
        ),
      );
    }
    employments.push(employment(state, workerId, company, employmentStart, endMs, isContractor));

    const positionId = random.guid();
    const department = departments[
      (random.int(0, departmentCount - 1) * companies.length + companyIndex) % departmentCount
    ] as DepartmentRow;
    positions.push({
      versionnumber: ++state.version,
      createdon: createdStamp,
      modifiedon: createdStamp,
      statecode: 0,
      statuscode: 1,
      _ownerid_value: state.ownerId,
      cdm_jobpositionid: positionId,
      cdm_jobpositionnumber: flat(`POS-${String(i + 1).padStart(6, '0')}`),
      _cdm_jobid_value: (random.pick(jobs) as JobRow).cdm_jobid,
      cdm_description: null,
      _cdm_departmentid_value: department.cdm_departmentid,
      cdm_fulltimeequivalent: random.chance(0.9) ? 1 : 0.5,
      cdm_validfrom: startStamp,
      cdm_validto: maxDate,
    });
    assignments.push({
      versionnumber: ++state.version,
      createdon: createdStamp,
      modifiedon: createdStamp,
      statecode: 0,
      statuscode: 1,
      _ownerid_value: state.ownerId,
      cdm_positionworkerassignmentmapid: random.guid(),
      _cdm_workerid_value: workerId,
      _cdm_jobpositionid_value: positionId,
      cdm_validfrom: startStamp,
      cdm_validto: endStamp ?? maxDate,
    });
  }
  // Vacant positions (about 3%), so positions and assignments do not map one to one.
  for (let v = 0; v < Math.ceil(workerCount * 0.03); v++) {
    const department = random.pick(departments);
    positions.push({
      versionnumber: ++state.version,
      createdon: setupStamp,
      modifiedon: setupStamp,
      statecode: 0,
      statuscode: 1,
      _ownerid_value: state.ownerId,
      cdm_jobpositionid: random.guid(),
      cdm_jobpositionnumber: `POS-V${String(v + 1).padStart(5, '0')}`,
      _cdm_jobid_value: random.pick(jobs).cdm_jobid,
      cdm_description: 'Open requisition',
      _cdm_departmentid_value: department.cdm_departmentid,
      cdm_fulltimeequivalent: 1,
      cdm_validfrom: isoSeconds(asOf - random.int(10, 200) * day),
      cdm_validto: maxDate,
    });
  }

  const benefitTypes: BenefitTypeRow[] = benefitTypeSpecs.map(([name, description]) => ({
    versionnumber: ++state.version,
    createdon: setupStamp,
    modifiedon: setupStamp,
    statecode: 0,
    statuscode: 1,
    _ownerid_value: state.ownerId,
    cdm_benefittypeid: random.guid(),
    cdm_name: name,
    cdm_description: description,
  }));
  // Plans and coverage options are lists of their own in Human Resources (no company, no plan on
  // an option): F&O enrollments name a plan and an option by id, their cdm_name here.
  const benefitPlans: BenefitPlanRow[] = planSpecs.map((spec) => ({
    versionnumber: ++state.version,
    createdon: setupStamp,
    modifiedon: setupStamp,
    statecode: 0,
    statuscode: 1,
    _ownerid_value: state.ownerId,
    cdm_benefitplanid: random.guid(),
    cdm_name: spec.planId,
    cdm_description: spec.name,
    _cdm_benefittypeid_value: (
      benefitTypes.find((candidate) => candidate.cdm_name === spec.type) as BenefitTypeRow
    ).cdm_benefittypeid,
  }));
  const optionNames = new Map(planSpecs.flatMap((spec) => spec.options.map(([id, name]) => [id, name])));
  const benefitOptions: BenefitOptionRow[] = [...optionNames].map(([optionId, optionName]) => ({
    versionnumber: ++state.version,
    createdon: setupStamp,
    modifiedon: setupStamp,
    statecode: 0,
    statuscode: 1,
    _ownerid_value: state.ownerId,
    cdm_benefitoptionid: random.guid(),
    cdm_name: optionId,
    cdm_description: optionName,
  }));

  const fno = generateFnoBenefits(state, fnoWorkers, workerActive);
  // The payroll virtual table's rows are the last to draw from the generator and take the last row
  // versions: reserve those versions now and build the rows on first read with the same draws, so a
  // tenant outside the virtual-tables shape never holds 300k rows it does not serve. So nothing may
  // draw from `random` after this line (the F&O tables below are derived without draws); the
  // fingerprint test (test/sandbox/generator-fingerprint.test.ts) fails if something does.
  const payrollState: GeneratorState = { ...state };
  state.version += fno.WorkerEnrolledBenefits.length;
  const organisation: GeneratedOrganisation = {
    seed: options.seed,
    workerCount,
    asOf: isoSeconds(asOf),
    lastRowVersion: state.version,
    dataverse: {
      cdm_companies: companies,
      cdm_departments: departments,
      cdm_jobs: jobs,
      cdm_jobpositions: positions,
      cdm_positionworkerassignmentmaps: assignments,
      cdm_workers: workers,
      cdm_employments: employments,
      cdm_benefittypes: benefitTypes,
      cdm_benefitplans: benefitPlans,
      cdm_benefitoptions: benefitOptions,
      mshr_payrollworkerbenefitplanentities: [],
    },
    fno: {
      Workers: fnoWorkers,
      ...fno,
      Employments: [],
      Companies: [],
      Departments: [],
      PositionsV2: [],
      PositionHierarchies: [],
      BenefitPlans: [],
    },
  };
  defineLazyTable(organisation.dataverse, 'mshr_payrollworkerbenefitplanentities', () => {
    const legalEntityOf = new Map(
      fnoWorkers.map((worker, index) => [
        worker.PersonnelNumber,
        (companies[workerCompany[index] as number] as CompanyRow).cdm_companycode,
      ]),
    );
    return payrollBenefitPlans(payrollState, fno.WorkerEnrolledBenefits, legalEntityOf, setupStamp);
  });
  // The same organisation as F&O's own entities show it, derived from the Dataverse rows (no random
  // draws, so the Dataverse rows of a seed stay byte-identical) when first read.
  defineLazyTable(organisation.fno, 'Employments', () => fnoEmployments(employments, workers, companies));
  defineLazyTable(organisation.fno, 'Companies', () =>
    companies.map((company) => ({ DataArea: company.cdm_companycode, Name: company.cdm_name })),
  );
  defineLazyTable(organisation.fno, 'Departments', () =>
    departments.map((department) => ({
      OperatingUnitNumber: department.cdm_departmentnumber,
      Name: department.cdm_name,
      // Dual-write maps SEARCHNAME to cdm_description (docs/microsoft-wire.md).
      SearchName: department.cdm_description ?? '',
    })),
  );
  defineLazyTable(organisation.fno, 'PositionsV2', () =>
    fnoPositions(positions, assignments, jobs, departments, workers),
  );
  defineLazyTable(organisation.fno, 'PositionHierarchies', () => fnoPositionHierarchies(workers, positions));
  defineLazyTable(organisation.fno, 'BenefitPlans', () =>
    benefitPlans.map(
      (plan): FnoBenefitPlanRow => ({
        Plan: plan.cdm_name,
        Description: plan.cdm_description ?? '',
        TypeId: (
          benefitTypes.find(
            (type) => type.cdm_benefittypeid === plan._cdm_benefittypeid_value,
          ) as BenefitTypeRow
        ).cdm_name,
      }),
    ),
  );
  return organisation;
}

/**
 * The reporting line as F&O keeps it: a worker's position reports to the position of the worker's
 * manager (positions[i] is worker i's own position; vacancies come after the workers').
 */
function fnoPositionHierarchies(
  workers: readonly WorkerRow[],
  positions: readonly JobPositionRow[],
): FnoPositionHierarchyRow[] {
  const indexOf = new Map(workers.map((worker, index) => [worker.cdm_workerid, index]));
  const rows: FnoPositionHierarchyRow[] = [];
  workers.forEach((worker, index) => {
    const manager = worker._cdm_managerworkerid_value
      ? indexOf.get(worker._cdm_managerworkerid_value)
      : undefined;
    if (manager === undefined) return;
    const position = positions[index] as JobPositionRow;
    rows.push({
      PositionId: position.cdm_jobpositionnumber,
      ParentPositionId: (positions[manager] as JobPositionRow).cdm_jobpositionnumber,
      HierarchyTypeName: 'Line',
      ValidFrom: position.cdm_validfrom,
      ValidTo: maxDate,
    });
  });
  return rows;
}

/**
 * Positions as HcmPositionV2Entity shows them: department and job by id, and the worker assignment
 * (the last one of the position; its dates say whether it is current).
 */
function fnoPositions(
  positions: readonly JobPositionRow[],
  assignments: readonly PositionWorkerAssignmentRow[],
  jobs: readonly JobRow[],
  departments: readonly DepartmentRow[],
  workers: readonly WorkerRow[],
): FnoPositionRow[] {
  const jobIds = new Map(jobs.map((job) => [job.cdm_jobid, job.cdm_name]));
  const departmentNumbers = new Map(
    departments.map((department) => [department.cdm_departmentid, department.cdm_departmentnumber]),
  );
  const numbers = new Map(workers.map((worker) => [worker.cdm_workerid, worker.cdm_workernumber]));
  const assignmentOf = new Map(
    assignments.map((assignment) => [assignment._cdm_jobpositionid_value, assignment]),
  );
  return positions.map((position) => {
    const assignment = assignmentOf.get(position.cdm_jobpositionid);
    return {
      PositionId: position.cdm_jobpositionnumber,
      JobId: jobIds.get(position._cdm_jobid_value) ?? '',
      Description: position.cdm_description ?? '',
      DepartmentNumber: departmentNumbers.get(position._cdm_departmentid_value) ?? '',
      FullTimeEquivalent: position.cdm_fulltimeequivalent,
      Activation: position.cdm_validfrom,
      Retirement: position.cdm_validto,
      WorkerPersonnelNumber: assignment ? (numbers.get(assignment._cdm_workerid_value) ?? '') : '',
      WorkerAssignmentStart: assignment?.cdm_validfrom ?? emptyFnoDate,
      WorkerAssignmentEnd: assignment?.cdm_validto ?? emptyFnoDate,
    };
  });
}

function employment(
  state: GeneratorState,
  workerId: string,
  company: CompanyRow,
  startMs: number,
  endMs: number | null,
  isContractor: boolean,
): EmploymentRow {
  const [createdMs, modifiedMs] = auditTimes(state.random, startMs);
  const start = isoSeconds(startMs);
  const end = endMs === null ? null : isoSeconds(endMs);
  return {
    versionnumber: ++state.version,
    createdon: isoSeconds(createdMs),
    modifiedon: isoSeconds(modifiedMs),
    statecode: 0,
    statuscode: 1,
    _ownerid_value: state.ownerId,
    cdm_employmentid: state.random.guid(),
    _cdm_workerid_value: workerId,
    _cdm_companyid_value: company.cdm_companyid,
    cdm_workertype: isContractor ? workerTypeCode.contractor : workerTypeCode.employee,
    cdm_employmentstartdate: start,
    cdm_employmentenddate: end,
    cdm_adjustedworkerstartdate: state.random.chance(0.1)
      ? isoSeconds(startMs - state.random.int(30, 900) * day)
      : null,
    cdm_lastdateworked: end,
    cdm_validfrom: start,
    cdm_validto: end ?? maxDate,
  };
}

/** The Dataverse employments as F&O's Employment entity has them (same people, same dates). */
function fnoEmployments(
  employments: readonly EmploymentRow[],
  workers: readonly WorkerRow[],
  companies: readonly CompanyRow[],
): FnoEmploymentRow[] {
  const numbers = new Map(workers.map((worker) => [worker.cdm_workerid, worker.cdm_workernumber]));
  const codes = new Map(companies.map((company) => [company.cdm_companyid, company.cdm_companycode]));
  return employments.map((employment) => ({
    PersonnelNumber: numbers.get(employment._cdm_workerid_value) as string,
    LegalEntityId: codes.get(employment._cdm_companyid_value) as string,
    EmploymentStartDate: employment.cdm_employmentstartdate,
    EmploymentEndDate: employment.cdm_employmentenddate ?? emptyFnoDate,
    WorkerType: employment.cdm_workertype === workerTypeCode.contractor ? 'Contractor' : 'Employee',
  }));
}

/**
 * The same enrollments as the payroll API's virtual table shows them: a Selected plan per enrollment,
 * open deductions ending 2154-12-31T23:59:59Z, amounts per pay period as F&O has them.
 */
function payrollBenefitPlans(
  state: GeneratorState,
  enrollments: readonly FnoEnrolledBenefitRow[],
  legalEntityOf: ReadonlyMap<string, string>,
  stamp: string,
): PayrollWorkerBenefitPlanRow[] {
  const selected = codeOf(BENEFIT_EMPLOYEE_PLAN_STATUS, 'ACTIVE');
  return enrollments.map((enrollment) => {
    const legalEntity = legalEntityOf.get(enrollment.PersonnelNumber) ?? '';
    return {
      versionnumber: ++state.version,
      createdon: stamp,
      modifiedon: stamp,
      statecode: 0,
      statuscode: 1,
      _ownerid_value: state.ownerId,
      mshr_payrollworkerbenefitplanentityid: state.random.guid(),
      mshr_primaryfield: flat(`${enrollment.PersonnelNumber} | ${legalEntity} | ${enrollment.BenefitPlanID}`),
      mshr_personnelnumber: enrollment.PersonnelNumber,
      mshr_legalentityid: legalEntity,
      mshr_planid: enrollment.BenefitPlanID,
      mshr_coverageoptionid: enrollment.BenefitOptionID,
      mshr_deductionstartdatetime: enrollment.ValidFrom,
      mshr_deductionenddatetime: enrollment.ValidTo,
      mshr_status: selected,
      mshr_plantypeid: enrollment.BenefitTypeId,
      mshr_amountemployee: enrollment.DeductionAmountCur,
      mshr_amountemployer: enrollment.ContributionAmountCur,
    };
  });
}

function generateFnoBenefits(
  state: GeneratorState,
  workers: FnoWorkerRow[],
  workerActive: Uint8Array,
): Pick<
  GeneratedOrganisation['fno'],
  'WorkerPersonalContactPersons' | 'WorkerEnrolledBenefits' | 'CoveredDependentRelationships'
> {
  const { random, pools } = state;
  const contacts: FnoPersonalContactRow[] = [];
  const enrollments: FnoEnrolledBenefitRow[] = [];
  const covered: FnoCoveredDependentRow[] = [];
  let nextParty = workers.length + 1;
  const yes = (value: boolean) => (value ? 'Yes' : 'No') as 'Yes' | 'No';
  const planById = new Map(planSpecs.map((spec) => [spec.planId, spec]));
  // A few dozen distinct benefit ids across 300k enrollments: one string each.
  const benefitIds = new Map<string, string>();
  const benefitIdOf = (planId: string, optionId: string): string => {
    const key = `${planId}-${optionId}`;
    let id = benefitIds.get(key);
    if (id === undefined) {
      id = flat(key);
      benefitIds.set(key, id);
    }
    return id;
  };

  for (let i = 0; i < workers.length; i++) {
    const worker = workers[i] as FnoWorkerRow;
    const household: FnoPersonalContactRow[] = [];
    const workerBirthYear = Number(worker.BirthDate.slice(0, 4));
    if (random.chance(0.55)) {
      const relationship = random.chance(0.9) ? 'Spouse' : 'DomesticPartner';
      const gender: FnoGender =
        worker.Gender === 'Male' ? 'Female' : worker.Gender === 'Female' ? 'Male' : 'None';
      household.push({
        WorkerPersonnelNumber: worker.PersonnelNumber,
        ContactPersonPartyNumber: String(nextParty++).padStart(9, '0'),
        RelationshipType: relationship,
        ContactFirstName: pools.awkwardFirstName(random, gender === 'Male' ? 'male' : 'female'),
        ContactMiddleName: random.chance(0.2)
          ? pools.firstName(random, gender === 'Male' ? 'male' : 'female')
          : '',
        ContactLastName: random.chance(0.7) ? worker.LastName : pools.awkwardLastName(random),
        IsDependent: 'Yes',
        IsBeneficiary: 'Yes',
        IsEmergencyContact: 'Yes',
        IsDependentCourtOrdered: 'No',
        IsDependentDomesticPartnerVerified: yes(relationship === 'DomesticPartner' && random.chance(0.7)),
        Gender: gender,
        BirthDate: fnoDate(
          Date.UTC(workerBirthYear + random.int(-5, 5), random.int(0, 11), random.int(1, 28)),
        ),
        IsFulltimeStudent: 'No',
        IsDisabled: yes(random.chance(0.02)),
      });
    }
    const childRoll = random.next();
    const children =
      childRoll < 0.45 ? 0 : childRoll < 0.65 ? 1 : childRoll < 0.85 ? 2 : childRoll < 0.95 ? 3 : 4;
    for (let c = 0; c < children; c++) {
      const gender = random.chance(0.5) ? 'male' : 'female';
      const birthYear = Math.min(2025, Math.max(workerBirthYear + 18, 1999) + random.int(0, 25));
      const age = 2025 - birthYear;
      household.push({
        WorkerPersonnelNumber: worker.PersonnelNumber,
        ContactPersonPartyNumber: String(nextParty++).padStart(9, '0'),
        RelationshipType: 'Child',
        ContactFirstName: pools.awkwardFirstName(random, gender),
        ContactMiddleName: '',
        ContactLastName: random.chance(0.9) ? worker.LastName : pools.awkwardLastName(random),
        IsDependent: yes(age < 26),
        IsBeneficiary: yes(random.chance(0.3)),
        IsEmergencyContact: 'No',
        IsDependentCourtOrdered: yes(random.chance(0.02)),
        IsDependentDomesticPartnerVerified: 'No',
        Gender: gender === 'male' ? 'Male' : 'Female',
        BirthDate: fnoDate(Date.UTC(birthYear, random.int(0, 11), random.int(1, 28))),
        IsFulltimeStudent: yes(age >= 18 && age <= 24 && random.chance(0.6)),
        IsDisabled: yes(random.chance(0.03)),
      });
    }
    for (const contact of household) contacts.push(contact);

    const active = workerActive[i] === 1;
    if (!active && !random.chance(0.3)) continue;
    const dependents = household.filter((contact) => contact.IsDependent === 'Yes');
    const partner = dependents.find((contact) => contact.RelationshipType !== 'Child');
    const kids = dependents.filter((contact) => contact.RelationshipType === 'Child');
    const healthLevel = (): string => {
      if (random.chance(0.15)) return 'EE';
      if (partner && kids.length > 0) return 'EE+FAM';
      if (partner) return 'EE+SP';
      return kids.length > 0 ? 'EE+CH' : 'EE';
    };
    // Open coverage ends at F&O's "never"; a former worker's ended with the employment.
    const coverageEnd = active ? maxDate : worker.EmploymentEndDate;
    const enroll = (planId: string, optionId: string): FnoEnrolledBenefitRow => {
      const plan = planById.get(planId) as PlanSpec;
      const option = plan.options.find(([id]) => id === optionId) ?? plan.options[0];
      const chosen = option?.[0] ?? optionId;
      const row: FnoEnrolledBenefitRow = {
        PersonnelNumber: worker.PersonnelNumber,
        BenefitId: benefitIdOf(planId, chosen),
        BenefitPlanID: planId,
        BenefitOptionID: chosen,
        BenefitTypeId: plan.type,
        ValidFrom: '2025-01-01T12:00:00Z',
        ValidTo: coverageEnd,
        DeductionAmountCur: option?.[2] ?? 0,
        ContributionAmountCur: option?.[3] ?? 0,
      };
      enrollments.push(row);
      return row;
    };
    const coverHousehold = (enrollment: FnoEnrolledBenefitRow): void => {
      const level = enrollment.BenefitOptionID;
      const members = [
        ...(partner && (level === 'EE+SP' || level === 'EE+FAM') ? [partner] : []),
        ...(level === 'EE+CH' || level === 'EE+FAM' ? kids : []),
      ];
      for (const member of members) {
        covered.push({
          PersonnelNumber: enrollment.PersonnelNumber,
          BenefitId: enrollment.BenefitId,
          EnrollmentStart: enrollment.ValidFrom,
          EnrollmentEnd: enrollment.ValidTo,
          ChildPartyId: member.ContactPersonPartyNumber,
          RelationshipTypeId: member.RelationshipType,
        });
      }
    };
    let hasHdhp = false;
    if (random.chance(0.8)) {
      hasHdhp = random.chance(0.3);
      coverHousehold(enroll(hasHdhp ? 'MED-HDHP' : 'MED-PPO', healthLevel()));
    }
    if (random.chance(0.65)) coverHousehold(enroll('DEN-BASIC', healthLevel()));
    if (random.chance(0.45)) coverHousehold(enroll('VIS-STD', healthLevel()));
    // Life insurance names beneficiaries, not covered dependents: it covers none.
    if (random.chance(0.6)) enroll('LIFE-BASIC', random.pick(['1X', '1X', '2X', '3X']));
    if (random.chance(0.55)) enroll('401K', random.pick(['3PCT', '6PCT', '10PCT']));
    if (hasHdhp && random.chance(0.7)) enroll('HSA', partner || kids.length > 0 ? 'EE+FAM' : 'EE');
    else if (random.chance(0.1)) enroll('FSA-HC', random.pick(['500', '1500', '3200']));
  }
  return {
    WorkerPersonalContactPersons: contacts,
    WorkerEnrolledBenefits: enrollments,
    CoveredDependentRelationships: covered,
  };
}
