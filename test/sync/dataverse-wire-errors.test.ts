import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/providers/dynamics/diagnose.js';
import { ODataError, parseErrorBody } from '../../src/providers/dynamics/odata-client.js';
import type { FaultRuleInput } from '../../src/sandbox/index.js';
import { SyncEngine } from '../../src/sync/engine.js';
import { createTestDatabase } from '../helpers/database.js';
import { createTestTenant } from '../helpers/fixtures.js';
import { connectSandbox, sandboxDependencies, startFileSandbox } from '../helpers/sandbox.js';
import { expectEqualToTruth } from '../helpers/truth.js';

/**
 * Dataverse's documented error, throttling and change-tracking answers (docs/microsoft-wire.md,
 * "Errors, throttling and change tracking"), played by the sandbox, against a real sync.
 */
const db = await createTestDatabase();
const sandbox = await startFileSandbox({ workers: 120, seed: 41 });
const retries: string[] = [];
const warnings: string[] = [];
const deps = sandboxDependencies(sandbox, { onRetry: (event) => retries.push(event.reason) });
const engine = new SyncEngine(db.pool);
const log = {
  info() {},
  warn: (object: object, message: string) => warnings.push(`${message} ${JSON.stringify(object)}`),
};
const WORKERS = '/cdm_workers';
const EXPIRED = {
  code: '0x80044352',
  message: 'Version stamp associated with the client has expired. Please perform a full sync.',
};

/** A linked account whose first full sync is done: its cursors hold delta links. */
async function syncedAccount(name: string, overrides: Partial<typeof deps> = {}) {
  const tenant = await createTestTenant(db, name);
  const connection = connectSandbox(tenant.account.id, sandbox, { ...deps, ...overrides });
  const accountId = tenant.account.id;
  const first = await engine.run({ linkedAccountId: accountId, connection, kind: 'full', trigger: 'test' });
  expect(first.status).toBe('succeeded');
  return { accountId, connection };
}

async function incremental(account: Awaited<ReturnType<typeof syncedAccount>>, fault?: FaultRuleInput) {
  retries.length = 0;
  warnings.length = 0;
  const rule = fault ? sandbox.faults.add(fault) : undefined;
  try {
    return await engine.run({
      linkedAccountId: account.accountId,
      connection: account.connection,
      kind: 'incremental',
      trigger: 'test',
      log,
    });
  } finally {
    if (rule) sandbox.faults.remove(rule.id);
  }
}

const workersCursor = async (accountId: string) =>
  (
    await db.pool.query<{ phase: string; cursor: string | null }>(
      `SELECT phase, cursor FROM sync_cursors WHERE linked_account_id = $1 AND source_table = 'dataverse:cdm_workers'`,
      [accountId],
    )
  ).rows[0];

const resyncedWorkers = () =>
  warnings.some((line) => line.startsWith('cursor expired; full resync') && line.includes('cdm_workers'));

describe('an expired or rejected delta token', () => {
  it('reads the error code from a truncated body and resyncs in full', () => {
    const body = JSON.stringify({ error: EXPIRED });
    expect(parseErrorBody(body.slice(0, Math.floor(body.length / 2)))).toMatchObject({ code: EXPIRED.code });
  });

  it('resyncs in full when the expiry answer arrives cut in half', async () => {
    const account = await syncedAccount('truncated expiry');
    sandbox.controls.expireDeltaTokens();
    const deleted = sandbox.controls.deleteRecords('cdm_workers', { count: 1 });
    try {
      const result = await incremental(account, {
        route: 'dataverse',
        pathContains: WORKERS,
        kind: 'truncate',
        count: 1,
      });
      expect(result.errors.map((error) => String(error.error))).toEqual([]);
    } finally {
      sandbox.controls.restoreDeltaTokens();
    }
    expect(resyncedWorkers(), warnings.join('\n')).toBe(true);
    expect(await expectEqualToTruth(db, account.accountId, sandbox)).toEqual([]);
    const gone = await db.pool.query(
      'SELECT remote_was_deleted FROM employees WHERE linked_account_id = $1 AND remote_id = $2',
      [account.accountId, deleted[0]],
    );
    expect(gone.rows).toEqual([{ remote_was_deleted: true }]);
  });

  it.each([
    ['as a 500 (not retried)', 500, { error: EXPIRED }],
    ['as a 503 with only the words', 503, { error: { code: '0x80040216', message: EXPIRED.message } }],
    [
      'as a 400 with another code',
      400,
      { error: { code: '0x80060888', message: 'The delta token is not valid.' } },
    ],
    [
      'as a 404',
      404,
      { error: { code: '0x8006088a', message: "Resource not found for the segment 'cdm_workers'." } },
    ],
    ['as a 410 with no body', 410, {}],
  ])('resyncs in full when the delta link is refused %s', async (_name, status, body) => {
    const account = await syncedAccount(`expiry ${_name}`);
    const result = await incremental(account, {
      route: 'dataverse',
      pathContains: WORKERS,
      kind: 'answer',
      answerStatus: status,
      answerBody: body,
      count: 1,
    });
    expect(result.errors.map((error) => String(error.error))).toEqual([]);
    expect(resyncedWorkers(), warnings.join('\n')).toBe(true);
    expect(retries.filter((reason) => reason.includes('server error'))).toEqual([]);
    expect(await expectEqualToTruth(db, account.accountId, sandbox)).toEqual([]);
  });
});

describe('other documented answers', () => {
  it('a 5xx keeps its Dataverse error code for the diagnosis when retries end', async () => {
    const account = await syncedAccount('5xx code', { retryBudgetMs: 800 });
    const result = await incremental(account, {
      route: 'dataverse',
      pathContains: WORKERS,
      kind: 'answer',
      answerStatus: 503,
      answerBody: { error: { code: '0x80040216', message: 'An unexpected error occurred.' } },
    });
    expect(result.status).toBe('failed');
    const error = result.errors[0]?.error;
    expect(error).toBeInstanceOf(ODataError);
    expect([(error as ODataError).status, (error as ODataError).code]).toEqual([503, '0x80040216']);
    expect(diagnose(error)).toMatchObject({
      status: 'degraded',
      reason: expect.stringContaining('0x80040216'),
    });
  });

  it('a change-tracking answer with no changes as an empty JSON object keeps the delta link', async () => {
    const account = await syncedAccount('empty object');
    const before = await workersCursor(account.accountId);
    expect(before?.phase).toBe('delta');
    const result = await incremental(account, {
      route: 'dataverse',
      pathContains: WORKERS,
      kind: 'answer',
      answerStatus: 200,
      answerBody: {},
      count: 1,
    });
    expect(result.status).toBe('succeeded');
    expect(await workersCursor(account.accountId)).toEqual(before);
    // The kept link still works: the next sync picks up a change incrementally, no full reload.
    const [renamed] = sandbox.controls.updateRecords(
      'cdm_workers',
      { count: 1 },
      { cdm_lastname: 'Kept-Link' },
    );
    const next = await incremental(account);
    expect(next.status).toBe('succeeded');
    expect(next.stats.employees).toMatchObject({ created: 0, updated: 1 });
    const stored = await db.pool.query(
      'SELECT last_name FROM employees WHERE linked_account_id = $1 AND remote_id = $2',
      [account.accountId, renamed],
    );
    expect(stored.rows).toEqual([{ last_name: 'Kept-Link' }]);
  });

  it('a Retry-After longer than the remaining retry budget is waited out, not a failed sync', async () => {
    const account = await syncedAccount('patience', { retryBudgetMs: 300 });
    sandbox.controls.updateRecords('cdm_workers', { count: 2 }, { cdm_lastname: 'Patient' });
    const started = Date.now();
    const result = await incremental(account, {
      route: 'dataverse',
      pathContains: WORKERS,
      kind: 'throttle',
      retryAfterSeconds: 2,
      count: 1,
    });
    expect(result.errors.map((error) => String(error.error))).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(retries.some((reason) => reason.startsWith('throttled (429 0x80072322'))).toBe(true);
    expect(await expectEqualToTruth(db, account.accountId, sandbox)).toEqual([]);
  });

  it("Dataverse's combined execution-time limit (0x80072321) throttles the sync, which waits and completes", async () => {
    const tenant = await createTestTenant(db, 'execution time');
    const connection = connectSandbox(tenant.account.id, sandbox, { ...deps, pageSize: 20 });
    sandbox.controls.setServiceProtectionLimits({ executionTimeLimitMs: 200, windowSeconds: 2 });
    const slow = sandbox.faults.add({ route: 'dataverse', pathContains: WORKERS, kind: 'slow', delayMs: 40 });
    retries.length = 0;
    try {
      const result = await engine.run({
        linkedAccountId: tenant.account.id,
        connection,
        kind: 'full',
        trigger: 'test',
      });
      expect(result.errors.map((error) => String(error.error))).toEqual([]);
    } finally {
      sandbox.faults.remove(slow.id);
      sandbox.controls.setServiceProtectionLimits({});
    }
    const limited = retries.filter((reason) => reason.includes('0x80072321'));
    expect(limited.length, retries.join('\n')).toBeGreaterThan(0);
    expect(limited[0]).toMatch(
      /Combined execution time of incoming requests exceeded limit of 200 milliseconds over time window of 2 seconds/,
    );
    expect(await expectEqualToTruth(db, tenant.account.id, sandbox)).toEqual([]);
  });
});
