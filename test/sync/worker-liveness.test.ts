import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createAccountWithCredentials } from '../../src/accounts/linked-accounts.js';
import { createKeyring, parseKeys } from '../../src/crypto/credentials.js';
import { createPlatform } from '../../src/platforms/platform-service.js';
import { SyncService } from '../../src/sync/sync-service.js';
import { createTestDatabase } from '../helpers/database.js';
import { startWorkerProcess, waitUntil } from '../helpers/processes.js';
import { sandboxCredentials, sandboxDependencies, startFileSandbox } from '../helpers/sandbox.js';
import { employeeCreatedEvents, expectEqualToTruth } from '../helpers/truth.js';

/**
 * The failure: a worker killed with -9 in the middle of a sync left the run `running` for
 * good, every POST /v1/sync joined it, the scheduler skipped the account and the pg-boss job stayed
 * active. Here real `--role worker` processes run the sync and one is SIGKILLed mid-run.
 */
const db = await createTestDatabase();
const sandbox = await startFileSandbox({ workers: 300, seed: 11 });
const key = randomBytes(32).toString('base64');
const keyring = createKeyring(parseKeys(key));
const LEASE = { SYNC_LEASE_SECONDS: '3', SYNC_LEASE_RENEW_SECONDS: '1' };
const workerEnv = {
  ...LEASE,
  ENCRYPTION_KEY: key,
  DYNAMICS_CA_FILE: sandbox.caCertPath,
  DATAVERSE_PAGE_SIZE: '25',
  DATAVERSE_CONCURRENCY: '1',
  SYNC_INTERVAL_MINUTES: '1440',
};
const quiet = { info() {}, warn() {}, error() {} };
// This process plays the API role: it enqueues and answers POST /v1/sync through the same service.
const api = new SyncService({
  db,
  keyring,
  providers: { dynamics365: sandboxDependencies(sandbox) },
  intervalMinutes: 1440,
  fullIntervalHours: 24,
  lease: { leaseSeconds: 3, renewSeconds: 1 },
  log: quiet,
});
await api.start();

async function linkAccount(name: string) {
  const { platform } = await createPlatform(db.prisma, `${name} Co`);
  const { account } = await createAccountWithCredentials(db, keyring, {
    provider: 'dynamics365',
    platformId: platform.id,
    endUserOriginId: name,
    organizationName: `${name} Ltd`,
    credentials: sandboxCredentials(sandbox.defaultTenant),
  });
  return account.id;
}

const runRow = async (runId: string) =>
  (
    await db.pool.query<{ status: string; worker: string | null; error: string | null; trigger: string }>(
      'SELECT status, worker, error, trigger FROM sync_runs WHERE id = $1',
      [runId],
    )
  ).rows[0];

const employeeCount = async (accountId: string) =>
  (
    await db.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM employees WHERE linked_account_id = $1',
      [accountId],
    )
  ).rows[0]?.n ?? 0;

describe('a sync worker killed with -9 mid-run', () => {
  it('is failed and resumed from its checkpoint by the surviving worker, within the lease', async () => {
    // Slow pages keep the sync running long enough to be killed in its middle.
    const slow = sandbox.faults.add({
      route: 'dataverse',
      pathContains: 'cdm_workers',
      kind: 'slow',
      delayMs: 150,
    });
    const accountId = await linkAccount('liveness');
    const first = startWorkerProcess(db.url, workerEnv);
    const second = startWorkerProcess(db.url, workerEnv);
    try {
      await Promise.all([first.ready, second.ready]);
      // (The workers' scheduler may have queued the new account's first sync already: joined.)
      const { run_id: deadRunId } = await api.requestSync(accountId, 'full', 'api');
      await waitUntil(async () => (await employeeCount(accountId)) >= 50, 60_000);
      const running = await runRow(deadRunId);
      expect(running?.status).toBe('running');
      const victim = [first, second].find((worker) => running?.worker?.endsWith(`:${worker.child.pid}`));
      const survivor = victim === first ? second : first;
      expect(victim, `run held by ${running?.worker}`).toBeDefined();
      const killedAt = Date.now();
      await victim?.kill('SIGKILL');
      const storedAtKill = await employeeCount(accountId);
      expect(storedAtKill).toBeLessThan(sandbox.truth.workers.length);

      // The survivor notices within the lease (3 s) plus a tick, fails the run and queues its resumption.
      const recoveryRun = async () =>
        (
          await db.pool.query<{ id: string }>(
            `SELECT id FROM sync_runs WHERE linked_account_id = $1 AND trigger = 'recovery'`,
            [accountId],
          )
        ).rows;
      await waitUntil(async () => (await recoveryRun()).length > 0, 30_000);
      expect(Date.now() - killedAt).toBeLessThan(120_000);
      const dead = await runRow(deadRunId);
      expect(dead?.status).toBe('failed');
      expect(dead?.error).toMatch(/interrupted: .*stopped renewing its lease/);
      // POST /v1/sync never joins the dead run again: it joins the resumption.
      const joined = await api.requestSync(accountId, 'incremental', 'api');
      expect(joined.run_id).not.toBe(deadRunId);
      expect(joined.joined).toBe(true);

      sandbox.faults.remove(slow.id);
      const resumed = await recoveryRun();
      expect(resumed).toHaveLength(1);
      expect(joined.run_id).toBe(resumed[0]?.id);
      const resumedId = resumed[0]?.id as string;
      await waitUntil(
        async () => ['succeeded', 'failed'].includes((await runRow(resumedId))?.status ?? ''),
        60_000,
      );
      const finished = await runRow(resumedId);
      expect(finished?.status, finished?.error ?? '').toBe('succeeded');
      expect(finished?.worker).toMatch(new RegExp(`:${survivor.child.pid}$`));
      expect(await expectEqualToTruth(db, accountId, sandbox)).toEqual([]);
      // Resumed, not restarted: each worker was created exactly once across both processes.
      expect(await employeeCreatedEvents(db, accountId)).toEqual({
        events: sandbox.truth.workers.length,
        records: sandbox.truth.workers.length,
      });
      // The dead run's job is no longer active (it would block the account's next job for hours).
      const jobs = await db.pool.query<{ state: string }>(
        `SELECT state FROM pgboss.job WHERE name = 'account-sync' AND data->>'runId' = $1`,
        [deadRunId],
      );
      expect(jobs.rows.map((job) => job.state)).toEqual(['failed']);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });

  it('is resumed by the restarted worker, and the scheduler does not skip the account', async () => {
    const slow = sandbox.faults.add({
      route: 'dataverse',
      pathContains: 'cdm_workers',
      kind: 'slow',
      delayMs: 150,
    });
    const accountId = await linkAccount('restart');
    const worker = startWorkerProcess(db.url, workerEnv);
    await worker.ready;
    const { run_id: deadRunId } = await api.requestSync(accountId, 'full', 'api');
    await waitUntil(async () => (await employeeCount(accountId)) >= 50, 60_000);
    await worker.kill('SIGKILL');
    sandbox.faults.remove(slow.id);
    expect((await runRow(deadRunId))?.status).toBe('running');
    // No worker runs now; the scheduler (here: the API process's) reaps once the lease lapsed.
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    await api.scheduleDue();
    expect((await runRow(deadRunId))?.status).toBe('failed');
    const recovery = await db.pool.query<{ id: string; status: string; kind: string }>(
      `SELECT id, status, kind FROM sync_runs WHERE linked_account_id = $1 AND trigger = 'recovery'`,
      [accountId],
    );
    expect(recovery.rows).toEqual([{ id: expect.any(String), status: 'queued', kind: 'full' }]);
    const restarted = startWorkerProcess(db.url, workerEnv);
    try {
      await restarted.ready;
      const recoveryId = recovery.rows[0]?.id as string;
      await waitUntil(
        async () => ['succeeded', 'failed'].includes((await runRow(recoveryId))?.status ?? ''),
        60_000,
      );
      expect((await runRow(recoveryId))?.status).toBe('succeeded');
      expect(await expectEqualToTruth(db, accountId, sandbox)).toEqual([]);
    } finally {
      await restarted.stop();
    }
  });
});
