import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createAccountWithCredentials } from '../../src/accounts/linked-accounts.js';
import { createKeyring, parseKeys } from '../../src/crypto/credentials.js';
import { createPlatform } from '../../src/platforms/platform-service.js';
import { createTestDatabase } from '../helpers/database.js';
import { startGatewayProcess, waitUntil } from '../helpers/processes.js';
import { sandboxCredentials, startFileSandbox } from '../helpers/sandbox.js';
import { employeeCreatedEvents, expectEqualToTruth } from '../helpers/truth.js';

/**
 * Two `--role worker` processes and one `--role api` process on one database, as a deployment runs
 * them: every account is synced exactly once per schedule round, POST /v1/sync through the API
 * process joins the scheduled run, and a worker killed with -9 loses no sync.
 */
const db = await createTestDatabase();
const sandbox = await startFileSandbox({ workers: 120, seed: 17 });
const key = randomBytes(32).toString('base64');
const keyring = createKeyring(parseKeys(key));
const env = {
  ENCRYPTION_KEY: key,
  DYNAMICS_CA_FILE: sandbox.caCertPath,
  SYNC_LEASE_SECONDS: '3',
  SYNC_LEASE_RENEW_SECONDS: '1',
  DATAVERSE_PAGE_SIZE: '20',
  DATAVERSE_CONCURRENCY: '1',
  SYNC_INTERVAL_MINUTES: '1440',
};

const runsOf = async (accountId: string) =>
  (
    await db.pool.query<{ id: string; status: string; trigger: string; worker: string | null }>(
      'SELECT id, status, trigger, worker FROM sync_runs WHERE linked_account_id = $1 ORDER BY started_at',
      [accountId],
    )
  ).rows;

describe('two workers and one API process on one database', () => {
  it('syncs each account exactly once per schedule, and loses no sync when a worker is killed', async () => {
    const slow = sandbox.faults.add({
      route: 'dataverse',
      pathContains: 'cdm_workers',
      kind: 'slow',
      delayMs: 300,
    });
    const { platform, apiKey } = await createPlatform(db.prisma, 'Multi Co');
    const accounts: { id: string; token: string }[] = [];
    for (const name of ['one', 'two', 'three']) {
      const { account, accountToken } = await createAccountWithCredentials(db, keyring, {
        provider: 'dynamics365',
        platformId: platform.id,
        endUserOriginId: name,
        organizationName: `${name} Ltd`,
        credentials: sandboxCredentials(sandbox.defaultTenant),
      });
      accounts.push({ id: account.id, token: accountToken });
    }
    const first = accounts[0] as (typeof accounts)[0];
    const api = startGatewayProcess('api', db.url, env);
    const workers = [startGatewayProcess('worker', db.url, env), startGatewayProcess('worker', db.url, env)];
    try {
      await Promise.all([api.ready, ...workers.map((worker) => worker.ready)]);
      // Both workers' schedulers ran at start-up: one run per account, never two.
      await waitUntil(async () => (await runsOf(first.id)).some((run) => run.status === 'running'), 60_000);
      const scheduled = (await runsOf(first.id))[0];
      expect(scheduled?.trigger).toBe('schedule');

      // POST /v1/sync through the API process joins the scheduled run.
      const response = await fetch(`${api.url()}/v1/sync`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${apiKey}`,
          'x-account-token': first.token,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ kind: 'incremental' }),
      });
      expect(response.status, await response.clone().text()).toBeLessThan(300);
      expect(await response.json()).toMatchObject({ run_id: scheduled?.id, joined: true });

      // Kill the worker running the first account's sync, in its middle.
      const running = (await runsOf(first.id)).find((run) => run.status === 'running');
      const victim = workers.find((worker) => running?.worker?.endsWith(`:${worker.child.pid}`));
      expect(victim, `held by ${running?.worker}`).toBeDefined();
      // The victim runs two jobs at a time: every run it holds now dies with it.
      const held = await db.pool.query<{ linked_account_id: string }>(
        `SELECT linked_account_id FROM sync_runs WHERE status = 'running' AND worker = $1`,
        [running?.worker],
      );
      await victim?.kill('SIGKILL');
      const killedAccounts = new Set(held.rows.map((row) => row.linked_account_id));
      expect(killedAccounts.has(first.id)).toBe(true);

      const settled = async () => {
        for (const account of accounts) {
          const runs = await runsOf(account.id);
          if (runs.length === 0 || runs.some((run) => ['queued', 'running'].includes(run.status)))
            return false;
        }
        return true;
      };
      await waitUntil(settled, 90_000, 250);
      for (const account of accounts) {
        const runs = await runsOf(account.id);
        // Exactly once: both schedulers saw the account due, one run was made.
        expect(runs.filter((run) => run.trigger === 'schedule')).toHaveLength(1);
        // The runs the killed worker held, and only those, failed and were resumed.
        const expected = killedAccounts.has(account.id)
          ? [
              ['schedule', 'failed'],
              ['recovery', 'succeeded'],
            ]
          : [['schedule', 'succeeded']];
        expect(runs.map((run) => [run.trigger, run.status])).toEqual(expected);
        expect(await expectEqualToTruth(db, account.id, sandbox)).toEqual([]);
      }
      expect(await employeeCreatedEvents(db, first.id)).toEqual({
        events: sandbox.truth.workers.length,
        records: sandbox.truth.workers.length,
      });
    } finally {
      sandbox.faults.remove(slow.id);
      await Promise.all([api.stop(), ...workers.map((worker) => worker.stop())]);
    }
  });
});
