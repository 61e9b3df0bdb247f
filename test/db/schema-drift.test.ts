import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { createEmptyDatabase, createTestDatabase } from '../helpers/database.js';
import { compareSchemas, parsePrismaSchema, readDatabaseSchema } from '../helpers/prisma-schema.js';

const SCHEMA = fileURLToPath(new URL('../../prisma/schema.prisma', import.meta.url));
const db = await createTestDatabase();
const scratchUrl = await createEmptyDatabase();

describe('schema.prisma and the migrations agree', () => {
  it('parses the schema into tables, columns, indexes and enums', () => {
    const expected = parsePrismaSchema(SCHEMA);
    const employees = expected.tables.find((table) => table.name === 'employees');
    expect(employees?.columns.find((column) => column.name === 'manager_id')).toEqual({
      name: 'manager_id',
      type: 'uuid',
      nullable: true,
    });
    expect(employees?.columns.find((column) => column.name === 'gender')?.type).toBe('gender');
    const plans = expected.tables.find((table) => table.name === 'benefit_plans');
    expect(plans?.columns.find((column) => column.name === 'coverage_levels_offered')?.type).toBe(
      'coverage_level[]',
    );
    const links = expected.tables.find((table) => table.name === 'benefit_enrollment_dependents');
    expect(links?.indexes).toContainEqual({
      name: 'benefit_enrollment_dependents_pkey',
      columns: ['benefit_enrollment_id', 'dependent_id'],
      unique: true,
      primary: true,
    });
    expect(links?.indexes.map((index) => index.name)).toContain(
      'benefit_enrollment_dependents_dependent_idx',
    );
    expect(expected.enums.get('coverage_level')).toEqual([
      'EMPLOYEE_ONLY',
      'EMPLOYEE_SPOUSE',
      'EMPLOYEE_CHILDREN',
      'EMPLOYEE_FAMILY',
      'OTHER',
    ]);
  });

  it('the migrated database matches schema.prisma: tables, columns, types, nullability, keys, indexes, enums', async () => {
    const differences = compareSchemas(parsePrismaSchema(SCHEMA), await readDatabaseSchema(db.pool));
    expect(differences).toEqual([]);
  });

  it('reports drift, every difference at once', async () => {
    await migrate(scratchUrl);
    const client = new pg.Client({ connectionString: scratchUrl });
    await client.connect();
    try {
      await client.query('ALTER TABLE employees ADD COLUMN nickname text');
      await client.query('ALTER TABLE employees ALTER COLUMN first_name SET NOT NULL');
      await client.query('ALTER TABLE dependents ALTER COLUMN is_student TYPE text');
      await client.query('DROP INDEX employees_linked_account_id_manager_id_idx');
      await client.query("ALTER TYPE relationship ADD VALUE 'GRANDCHILD'");
      const differences = compareSchemas(parsePrismaSchema(SCHEMA), await readDatabaseSchema(client));
      expect(differences).toEqual(
        expect.arrayContaining([
          'employees.nickname is in the database but not in schema.prisma',
          'employees.first_name is NOT NULL in the database, nullable in schema.prisma',
          'dependents.is_student is text in the database, boolean in schema.prisma',
          'employees: index (linked_account_id, manager_id) named employees_linked_account_id_manager_id_idx is missing from the database',
          'enum relationship has (CHILD, SPOUSE, DOMESTIC_PARTNER, OTHER, GRANDCHILD) in the database, (CHILD, SPOUSE, DOMESTIC_PARTNER, OTHER) in schema.prisma',
        ]),
      );
      expect(differences).toHaveLength(5);
    } finally {
      await client.end();
    }
  });
});
