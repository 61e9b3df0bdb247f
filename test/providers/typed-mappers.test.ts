import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Gender } from '../../src/generated/prisma/enums.js';
import { mapEmployee as mapBambooEmployee } from '../../src/providers/bamboohr/mappers.js';
import { DATAVERSE_TABLES, type DataverseTable } from '../../src/providers/dynamics/dataverse/catalog.js';
import { mapCompany, mapWorker, type RowMapper } from '../../src/providers/dynamics/dataverse/mappers.js';
import { FNO_ENTITIES, type FnoEntity } from '../../src/providers/dynamics/fno/catalog.js';
import { type FnoRowMapper, mapFnoWorker, normaliser } from '../../src/providers/dynamics/fno/mappers.js';
import type { InvalidRow, MappedRecord, UnifiedFields } from '../../src/providers/types.js';
import { generateOrganisation } from '../../src/sandbox/data/generator.js';
import type { GeneratedOrganisation } from '../../src/sandbox/data/types.js';
import type { ModelName } from '../../src/unified/models.js';
import { recordId } from '../../src/unified/record-id.js';
import { unifiedFieldsSchema } from '../../src/unified/schemas.js';

/**
 * Mappers return the unified model's types (UnifiedFields, inferred from src/unified/models.ts).
 * The first block is checked by the compiler: `npx tsc --noEmit` covers test/, and each
 * `@ts-expect-error` fails the type check if the line below it compiles. The second block checks
 * the same contract at run time on the sandbox's rows, against the unified zod schemas.
 */

const ACCOUNT = '00000000-0000-4000-8000-000000000001';
const context = {
  ref: (model: ModelName, remoteId: string | null | undefined) =>
    remoteId ? recordId(ACCOUNT, model, remoteId) : null,
};

describe('typed mappers (checked by tsc)', () => {
  it('refuses a field the model lacks, a number for a date and a value outside the enum', () => {
    // @ts-expect-error plan_type is a benefit plan's field, employees have none
    const foreignField: UnifiedFields<'employees'> = { plan_type: 'MEDICAL' };
    // @ts-expect-error a date is ISO text (YYYY-MM-DD), not a number
    const numberForDate: UnifiedFields<'employees'> = { hire_date: 20210301 };
    // @ts-expect-error ROBOT is not a unified gender
    const unknownEnum: UnifiedFields<'employees'> = { gender: 'ROBOT' };
    // @ts-expect-error an array column is empty, never null
    const nullList: UnifiedFields<'benefit_plans'> = { coverage_levels_offered: null };
    const accepted: UnifiedFields<'employees'> = {
      hire_date: '2021-03-01',
      gender: 'FEMALE',
      manager_id: null,
    };
    expect([foreignField, numberForDate, unknownEnum, nullList, accepted]).toHaveLength(5);
  });

  it("refuses a mapper that sets another model's field, and a catalog entry whose mapper is for another model", () => {
    const wrongModel: RowMapper<'employees'> = (row) => ({
      remoteId: String(row.cdm_workerid),
      // @ts-expect-error company_code is a company's field, not an employee's
      fields: { company_code: 'usmf' },
      remoteData: row,
      remoteCreatedAt: null,
      remoteModifiedAt: null,
    });
    const wrongType: FnoRowMapper<'dependents'> = (row) => ({
      remoteId: String(row.PersonnelNumber),
      // @ts-expect-error is_student is a boolean, not F&O's Yes/No text
      fields: { is_student: 'Yes' },
      remoteData: row,
      remoteCreatedAt: null,
      remoteModifiedAt: null,
    });
    const worker = DATAVERSE_TABLES.find((table) => table.target === 'employees');
    if (worker?.target !== 'employees') throw new Error('the catalog has no worker table');
    // @ts-expect-error a table feeding companies cannot take the worker mapper
    const mismatchedTable: DataverseTable = { ...worker, target: 'companies', map: mapWorker };
    const fnoWorker = FNO_ENTITIES.find((entity) => entity.id === 'workers');
    if (fnoWorker?.target !== 'employees') throw new Error('the catalog has no F&O workers');
    // @ts-expect-error an F&O entity feeding dependents cannot take the workers mapper
    const mismatchedEntity: FnoEntity = { ...fnoWorker, target: 'dependents', map: mapFnoWorker };
    expect([wrongModel, wrongType, mismatchedTable, mismatchedEntity]).toHaveLength(4);
  });

  it("types each provider's mapper output as its model's fields", () => {
    expectTypeOf(mapWorker).returns.toEqualTypeOf<MappedRecord<'employees'> | InvalidRow>();
    expectTypeOf(mapCompany).returns.toEqualTypeOf<MappedRecord<'companies'> | InvalidRow>();
    expectTypeOf(mapFnoWorker).returns.toEqualTypeOf<MappedRecord<'employees'> | InvalidRow | null>();
    expectTypeOf(mapBambooEmployee).returns.toEqualTypeOf<MappedRecord<'employees'> | InvalidRow>();
    expectTypeOf<UnifiedFields<'employees'>['gender']>().toEqualTypeOf<Gender | null | undefined>();
    expectTypeOf<UnifiedFields<'employees'>['hire_date']>().toEqualTypeOf<string | null | undefined>();
    const mapped = mapWorker(
      { cdm_workerid: '00000000-0000-4000-8000-000000000002', cdm_gender: 754400001 },
      context,
    );
    expect('fields' in mapped && mapped.fields.gender).toBe('FEMALE');
  });
});

/** Sandbox rows per Dataverse table, by the table's entity set name. */
function dataverseRows(organisation: GeneratedOrganisation, logicalName: string): Record<string, unknown>[] {
  const setName = logicalName.endsWith('y') ? `${logicalName.slice(0, -1)}ies` : `${logicalName}s`;
  const rows = organisation.dataverse[setName as keyof GeneratedOrganisation['dataverse']];
  return (rows ?? []) as unknown as Record<string, unknown>[];
}

const FNO_SETS: Record<FnoEntity['id'], keyof GeneratedOrganisation['fno']> = {
  workers: 'Workers',
  employments: 'Employments',
  'personal-contacts': 'WorkerPersonalContactPersons',
  'enrolled-benefits': 'WorkerEnrolledBenefits',
  'covered-dependents': 'CoveredDependentRelationships',
  companies: 'Companies',
  departments: 'Departments',
  positions: 'PositionsV2',
  'position-hierarchies': 'PositionHierarchies',
  'benefit-plans': 'BenefitPlans',
};

/** Maps every row; returns how many mapped, failing on an invalid row or a field off the schema. */
function checkAgainstSchema(
  model: ModelName,
  rows: Record<string, unknown>[],
  map: (row: Record<string, unknown>) => MappedRecord | InvalidRow | null,
): number {
  const schema = unifiedFieldsSchema(model);
  let mapped = 0;
  for (const row of rows) {
    const record = map(row);
    if (record === null) continue;
    if ('reason' in record) throw new Error(`${model}: ${record.key}: ${record.reason}`);
    const parsed = schema.safeParse(record.fields);
    expect(parsed.error?.issues ?? [], `${model} ${record.remoteId}`).toEqual([]);
    mapped++;
  }
  return mapped;
}

describe('mapped records match the unified schema at run time', () => {
  const organisation = generateOrganisation({ workers: 200, seed: 7 });

  it("every Dataverse table's mapper, on the sandbox's rows", () => {
    const models = new Set<ModelName>();
    for (const table of DATAVERSE_TABLES) {
      if (table.target === 'auxiliary') continue;
      const rows = dataverseRows(organisation, table.logicalName);
      expect(rows.length, table.logicalName).toBeGreaterThan(0);
      expect(
        checkAgainstSchema(table.target, rows, (row) => table.map(row, context)),
        table.logicalName,
      ).toBe(rows.length);
      models.add(table.target);
    }
    expect(models.size).toBeGreaterThanOrEqual(6);
  });

  it("every F&O entity's mapper, on the sandbox's rows as OData sends them", () => {
    const models = new Set<ModelName>();
    for (const entity of FNO_ENTITIES) {
      if (entity.target === 'auxiliary') continue;
      const rows = organisation.fno[FNO_SETS[entity.id]] as unknown as Record<string, unknown>[];
      expect(rows.length, entity.id).toBeGreaterThan(0);
      const normalise = normaliser(entity.fields, entity.numericFields);
      expect(
        checkAgainstSchema(entity.target, rows, (row) => entity.map(normalise.fromOData(row))),
        entity.id,
      ).toBeGreaterThan(0);
      models.add(entity.target);
    }
    expect(models.size).toBeGreaterThanOrEqual(7);
  });

  it('refuses at run time what the types refuse', () => {
    const schema = unifiedFieldsSchema('employees');
    expect(schema.safeParse({ hire_date: '2021-03-01', gender: 'FEMALE' }).success).toBe(true);
    expect(schema.safeParse({ plan_type: 'MEDICAL' }).success).toBe(false);
    expect(schema.safeParse({ hire_date: 20210301 }).success).toBe(false);
    expect(schema.safeParse({ gender: 'ROBOT' }).success).toBe(false);
  });
});
