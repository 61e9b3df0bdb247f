import { describe, expect, it } from 'vitest';
import { SyncEngine } from '../../src/sync/engine.js';
import { createTestDatabase } from '../helpers/database.js';
import { createTestTenant } from '../helpers/fixtures.js';
import { connectSandbox, sandboxDependencies, startFileSandbox } from '../helpers/sandbox.js';
import { expectEqualToTruth } from '../helpers/truth.js';

/**
 * Whatever the network and the service do (throttling, 5xx, connections cut mid-body, truncated
 * JSON), a sync ends with the gateway equal to the sandbox's truth.
 */
const db = await createTestDatabase();
const sandbox = await startFileSandbox({ workers: 400, seed: 23 });
const retries: string[] = [];
const deps = sandboxDependencies(sandbox, { onRetry: (event) => retries.push(event.reason) });
const engine = new SyncEngine(db.pool);

async function freshAccount(name: string) {
  const tenant = await createTestTenant(db, name);
  return { accountId: tenant.account.id, connection: connectSandbox(tenant.account.id, sandbox, deps) };
}

describe('faults during a sync', () => {
  it.each([
    ['429 with Retry-After', { kind: 'throttle', retryAfterSeconds: 1, count: 3 }, /throttled/],
    ['503', { kind: 'server-error', status: 503, count: 3 }, /server error 503/],
    ['connection reset mid-body', { kind: 'reset', count: 3 }, /connection lost|network error/],
    ['truncated JSON', { kind: 'truncate', count: 3 }, /truncated or malformed JSON/],
  ] as const)('recovers from %s and ends equal to the truth', async (name, rule, reason) => {
    retries.length = 0;
    const { accountId, connection } = await freshAccount(name);
    const fault = sandbox.faults.add({ route: 'dataverse', pathContains: 'cdm_workers', ...rule });
    const result = await engine.run({
      linkedAccountId: accountId,
      connection,
      kind: 'full',
      trigger: 'test',
    });
    sandbox.faults.remove(fault.id);
    expect(result.errors.map((error) => String(error.error))).toEqual([]);
    expect(
      retries.some((message) => reason.test(message)),
      retries.join('; '),
    ).toBe(true);
    expect(await expectEqualToTruth(db, accountId, sandbox)).toEqual([]);
  });

  it('gives up after its retry budget with the run failed and the reason kept', async () => {
    const { accountId } = await freshAccount('budget');
    const impatient = connectSandbox(accountId, sandbox, { ...deps, retryBudgetMs: 1500 });
    const fault = sandbox.faults.add({
      route: 'dataverse',
      pathContains: 'cdm_employments',
      kind: 'server-error',
      status: 503,
    });
    const result = await engine.run({
      linkedAccountId: accountId,
      connection: impatient,
      kind: 'full',
      trigger: 'test',
    });
    sandbox.faults.remove(fault.id);
    expect(result.status).toBe('failed');
    const run = await db.pool.query('SELECT status, error FROM sync_runs WHERE id = $1', [result.runId]);
    expect(run.rows[0].status).toBe('failed');
    expect(run.rows[0].error).toMatch(/cdm_employments.*Gave up after 2 s of retries: server error 503/);
    // The other tables synced; the failed one resumes from its checkpoint next time.
    const retry = await engine.run({
      linkedAccountId: accountId,
      connection: impatient,
      kind: 'incremental',
      trigger: 'test',
    });
    expect(retry.status).toBe('succeeded');
    expect(await expectEqualToTruth(db, accountId, sandbox)).toEqual([]);
  });

  it('re-acquires the token once when it expires in the middle of a sync', async () => {
    retries.length = 0;
    const { accountId, connection } = await freshAccount('token expiry');
    let advanced = false;
    const result = await engine.run({
      linkedAccountId: accountId,
      connection,
      kind: 'full',
      trigger: 'test',
      streamConcurrency: 1,
      onProgress: (progress) => {
        // An hour passes at the source after the first page of workers: the cached token is stale.
        if (!advanced && progress.sourceTable === 'dataverse:cdm_workers' && progress.pages === 1) {
          advanced = true;
          sandbox.advanceClock(3_700);
        }
      },
    });
    sandbox.resetClock();
    expect(advanced).toBe(true);
    expect(result.errors.map((error) => String(error.error))).toEqual([]);
    expect(retries).toContain('token rejected (401): acquiring a new one');
    expect(await expectEqualToTruth(db, accountId, sandbox)).toEqual([]);
  });
});
