import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, inject } from 'vitest';
import { connectDatabase, type Database } from '../../src/db/database.js';
import { withDatabase } from '../global-setup.js';

/**
 * A fresh, migrated database for one test file, dropped when the file ends.
 * Call at the top level of a test file (it registers its own afterAll).
 */
export async function createTestDatabase(): Promise<Database> {
  const adminUrl = inject('databaseAdminUrl');
  const name = `hris_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(adminUrl, `CREATE DATABASE ${name} TEMPLATE ${inject('templateDatabase')}`);
  const database = connectDatabase(withDatabase(adminUrl, name), 5);
  afterAll(async () => {
    await database.close();
    await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
  return database;
}

/** A migrated-free empty database, for tests of the migration runner itself. */
export async function createEmptyDatabase(): Promise<string> {
  const adminUrl = inject('databaseAdminUrl');
  const name = `hris_empty_${randomBytes(6).toString('hex')}`;
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
  afterAll(async () => {
    await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
  return withDatabase(adminUrl, name);
}

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  // CREATE DATABASE from a shared template can collide with a concurrent clone: retry briefly.
  for (let attempt = 0; ; attempt++) {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(sql);
      return;
    } catch (error) {
      if (attempt >= 20 || (error as { code?: string }).code !== '55006') throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      await client.end();
    }
  }
}
