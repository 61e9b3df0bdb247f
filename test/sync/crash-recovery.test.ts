import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { SyncEngine } from '../../src/sync/engine.js';
import { createTestDatabase } from '../helpers/database.js';
import { createTestTenant } from '../helpers/fixtures.js';
import {
  connectSandbox,
  sandboxCredentials,
  sandboxDependencies,
  startFileSandbox,
} from '../helpers/sandbox.js';
import { employeeCreatedEvents, expectEqualToTruth } from '../helpers/truth.js';

const db = await createTestDatabase();
const sandbox = await startFileSandbox({ workers: 300, seed: 5 });
const deps = sandboxDependencies(sandbox, { pageSize: 25 });

/** Runs the sync in a child process and SIGKILLs it once it has stored `pages` pages of workers. */
async function killSyncAfter(accountId: string, pages: number): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/sync/fixtures/sync-child.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      ACCOUNT_ID: accountId,
      CREDENTIALS: JSON.stringify(sandboxCredentials(sandbox.defaultTenant)),
      CA_PEM: sandbox.caCertPem,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let seen = 0;
  for await (const line of createInterface({ input: child.stdout })) {
    if (line.startsWith('done')) throw new Error('the sync finished before it could be killed');
    if (line.startsWith('page dataverse:cdm_workers ') && ++seen >= pages) {
      child.kill('SIGKILL');
      break;
    }
  }
  await new Promise((resolve) => child.once('exit', resolve));
  return seen;
}

describe('a sync process killed mid-run', () => {
  it('resumes from its checkpoints to the truth, with no duplicates and no repeated events', async () => {
    const tenant = await createTestTenant(db);
    const accountId = tenant.account.id;
    const pagesBeforeKill = await killSyncAfter(accountId, 5);
    expect(pagesBeforeKill).toBe(5);
    const partial = await db.pool.query(
      'SELECT count(*)::int AS n FROM employees WHERE linked_account_id = $1',
      [accountId],
    );
    expect(partial.rows[0].n).toBeGreaterThanOrEqual(5 * 25);
    expect(partial.rows[0].n).toBeLessThan(sandbox.truth.workers.length);

    const connection = connectSandbox(accountId, sandbox, deps);
    const result = await new SyncEngine(db.pool).run({
      linkedAccountId: accountId,
      connection,
      kind: 'incremental',
      trigger: 'test',
    });
    expect(result.status).toBe('succeeded');
    expect(await expectEqualToTruth(db, accountId, sandbox)).toEqual([]);

    // Every worker was created exactly once, across both processes.
    expect(await employeeCreatedEvents(db, accountId)).toEqual({
      events: sandbox.truth.workers.length,
      records: sandbox.truth.workers.length,
    });
  });
});
