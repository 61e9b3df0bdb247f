import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, migrate, pendingMigrations } from '../../src/db/migrate.js';
import { createEmptyDatabase } from '../helpers/database.js';

const onDisk = (await readdir(MIGRATIONS_DIR, { withFileTypes: true }))
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();
const scratch = await mkdtemp(join(tmpdir(), 'hris-migrations-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));

async function query<R extends object>(url: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** A private copy of the migrations directory that a test may edit. */
async function copyMigrations(name: string): Promise<string> {
  const dir = join(scratch, name);
  await cp(MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

describe('migrate', () => {
  it('applies every migration to a fresh database and records each as Prisma does', async () => {
    const url = await createEmptyDatabase();
    const result = await migrate(url);
    expect(result).toEqual({ applied: onDisk, alreadyApplied: 0 });
    const rows = await query<{
      migration_name: string;
      checksum: string;
      finished_at: Date | null;
      applied_steps_count: number;
      rolled_back_at: Date | null;
    }>(url, 'SELECT * FROM "_prisma_migrations" ORDER BY migration_name');
    expect(rows.map((row) => row.migration_name)).toEqual(onDisk);
    for (const row of rows) {
      const sql = await readFile(join(MIGRATIONS_DIR, row.migration_name, 'migration.sql'));
      expect(row.checksum).toBe(createHash('sha256').update(sql).digest('hex'));
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.rolled_back_at).toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
    const tables = await query<{ n: number }>(
      url,
      "SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'employees'",
    );
    expect(tables[0]?.n).toBe(1);

    // A second run finds nothing to do.
    expect(await migrate(url)).toEqual({ applied: [], alreadyApplied: onDisk.length });
    expect(await query(url, 'SELECT 1 FROM "_prisma_migrations"')).toHaveLength(onDisk.length);
    const pool = new pg.Pool({ connectionString: url });
    expect(await pendingMigrations(pool)).toEqual([]);
    await pool.end();
  });

  it('two processes migrating an empty database at once both succeed and apply once', async () => {
    const url = await createEmptyDatabase();
    const [first, second] = await Promise.all([migrate(url), migrate(url)]);
    expect([first.applied, second.applied].sort((a, b) => a.length - b.length)).toEqual([[], onDisk]);
    const rows = await query<{ migration_name: string }>(
      url,
      'SELECT migration_name FROM "_prisma_migrations"',
    );
    expect(rows.map((row) => row.migration_name).sort()).toEqual(onDisk);
  });

  it('refuses a migration edited after it was applied, naming it', async () => {
    const url = await createEmptyDatabase();
    const dir = await copyMigrations('edited');
    await migrate(url, dir);
    const first = join(dir, onDisk[0]!, 'migration.sql');
    await writeFile(first, `${await readFile(first, 'utf8')}\n-- an edit\n`);
    await expect(migrate(url, dir)).rejects.toThrow(
      new RegExp(`${onDisk[0]} was changed after it was applied`),
    );
  });

  it('rolls back everything when a migration fails: no tables, no records', async () => {
    const url = await createEmptyDatabase();
    const dir = await copyMigrations('failing');
    await mkdir(join(dir, '29991231000000_broken'));
    await writeFile(
      join(dir, '29991231000000_broken', 'migration.sql'),
      'CREATE TABLE fine (id int);\nSELECT * FROM no_such_table;\n',
    );
    await expect(migrate(url, dir)).rejects.toThrow(/no_such_table/);
    const tables = await query<{ tablename: string }>(
      url,
      "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
    );
    expect(tables.map((row) => row.tablename).filter((name) => name !== '_prisma_migrations')).toEqual([]);
    const records = await query(url, `SELECT 1 FROM pg_tables WHERE tablename = '_prisma_migrations'`);
    if (records.length) expect(await query(url, 'SELECT 1 FROM "_prisma_migrations"')).toEqual([]);
    // Fixed, it applies cleanly.
    await rm(join(dir, '29991231000000_broken'), { recursive: true });
    expect((await migrate(url, dir)).applied).toEqual(onDisk);
  });
});
