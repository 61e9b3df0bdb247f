import { describe, expect, it } from 'vitest';
import { generateOrganisation } from '../../src/sandbox/data/generator.js';

describe('organisation generator', () => {
  const organisation = generateOrganisation({ workers: 2000, seed: 7 });
  const { dataverse, fno } = organisation;

  it('is deterministic for a seed and differs across seeds', () => {
    const again = generateOrganisation({ workers: 2000, seed: 7 });
    expect(JSON.stringify(again)).toBe(JSON.stringify(organisation));
    const other = generateOrganisation({ workers: 2000, seed: 8 });
    expect(other.dataverse.cdm_workers[0]?.cdm_workerid).not.toBe(dataverse.cdm_workers[0]?.cdm_workerid);
  });

  it('builds a manager hierarchy without cycles, rooted at one worker', () => {
    const managerOf = new Map(
      dataverse.cdm_workers.map((worker) => [worker.cdm_workerid, worker._cdm_managerworkerid_value]),
    );
    expect([...managerOf.values()].filter((manager) => manager === null)).toHaveLength(1);
    for (const start of managerOf.keys()) {
      const visited = new Set<string>();
      let current: string | null | undefined = start;
      while (current) {
        expect(visited.has(current)).toBe(false);
        visited.add(current);
        current = managerOf.get(current);
      }
    }
  });

  it('keeps references coherent across tables', () => {
    const workerIds = new Set(dataverse.cdm_workers.map((worker) => worker.cdm_workerid));
    const companyIds = new Set(dataverse.cdm_companies.map((company) => company.cdm_companyid));
    for (const employment of dataverse.cdm_employments) {
      expect(workerIds.has(employment._cdm_workerid_value)).toBe(true);
      expect(companyIds.has(employment._cdm_companyid_value)).toBe(true);
    }
    const positionIds = new Set(dataverse.cdm_jobpositions.map((position) => position.cdm_jobpositionid));
    for (const assignment of dataverse.cdm_positionworkerassignmentmaps) {
      expect(positionIds.has(assignment._cdm_jobpositionid_value)).toBe(true);
    }
    const personnelNumbers = new Set(fno.Workers.map((worker) => worker.PersonnelNumber));
    const parties = new Set(
      fno.WorkerPersonalContactPersons.map((contact) => contact.ContactPersonPartyNumber),
    );
    // Enrollments are keyed by worker, benefit and start: unique, and what covered dependents name.
    const enrollmentKey = (worker: string, benefit: string, start: string) => `${worker}|${benefit}|${start}`;
    const enrollmentIds = new Set(
      fno.WorkerEnrolledBenefits.map((e) => enrollmentKey(e.PersonnelNumber, e.BenefitId, e.ValidFrom)),
    );
    expect(enrollmentIds.size).toBe(fno.WorkerEnrolledBenefits.length);
    for (const contact of fno.WorkerPersonalContactPersons)
      expect(personnelNumbers.has(contact.WorkerPersonnelNumber)).toBe(true);
    expect(fno.CoveredDependentRelationships.length).toBeGreaterThan(0);
    for (const covered of fno.CoveredDependentRelationships) {
      expect(parties.has(covered.ChildPartyId)).toBe(true);
      expect(
        enrollmentIds.has(enrollmentKey(covered.PersonnelNumber, covered.BenefitId, covered.EnrollmentStart)),
      ).toBe(true);
    }
    // F&O's organisation entities name the same departments, jobs and reporting line as Dataverse.
    const departmentNumbers = new Set(fno.Departments.map((department) => department.OperatingUnitNumber));
    const positionNumbers = new Set(fno.PositionsV2.map((position) => position.PositionId));
    expect(fno.PositionsV2).toHaveLength(dataverse.cdm_jobpositions.length);
    for (const position of fno.PositionsV2)
      expect(departmentNumbers.has(position.DepartmentNumber)).toBe(true);
    expect(fno.PositionHierarchies).toHaveLength(dataverse.cdm_workers.length - 1);
    for (const link of fno.PositionHierarchies) expect(positionNumbers.has(link.ParentPositionId)).toBe(true);
    const planIds = new Set(fno.BenefitPlans.map((plan) => plan.Plan));
    for (const enrollment of fno.WorkerEnrolledBenefits)
      expect(planIds.has(enrollment.BenefitPlanID)).toBe(true);
  });

  it('produces the variety the gateway must handle', () => {
    expect(dataverse.cdm_employments.some((employment) => employment.cdm_employmentenddate !== null)).toBe(
      true,
    );
    const relationships = new Set(
      fno.WorkerPersonalContactPersons.map((contact) => contact.RelationshipType),
    );
    expect(relationships).toEqual(new Set(['Spouse', 'DomesticPartner', 'Child']));
    const contacts = fno.WorkerPersonalContactPersons;
    for (const flag of ['IsFulltimeStudent', 'IsDisabled', 'IsDependentCourtOrdered'] as const) {
      expect(contacts.some((contact) => contact[flag] === 'Yes')).toBe(true);
    }
    const names = contacts
      .map((contact) => `${contact.ContactFirstName} ${contact.ContactLastName}`)
      .join('|');
    for (const awkward of [/[éëèçñü]/, /'/, /,/, /"/, /\n/]) expect(names).toMatch(awkward);
    const planTypes = new Set(fno.WorkerEnrolledBenefits.map((enrollment) => enrollment.BenefitTypeId));
    for (const type of ['Medical', 'Dental', 'Vision', 'Life', 'Retirement', 'HSA', 'FSA'])
      expect(planTypes.has(type)).toBe(true);
    expect(dataverse.cdm_benefittypes.map((type) => type.cdm_name)).toContain('Disability');
    const levels = new Set(fno.WorkerEnrolledBenefits.map((enrollment) => enrollment.BenefitOptionID));
    expect([...levels]).toEqual(expect.arrayContaining(['EE', 'EE+SP', 'EE+CH', 'EE+FAM']));
    expect(dataverse.cdm_workers.every((worker) => !worker.cdm_firstname.includes('\n'))).toBe(true);
  });

  it('stores rows in Dataverse wire shape', () => {
    const worker = dataverse.cdm_workers[1];
    expect(worker?.cdm_workerid).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(worker?.modifiedon).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect([754400000, 754400001, 754400002, 754400003]).toContain(worker?.cdm_gender);
  });
});
