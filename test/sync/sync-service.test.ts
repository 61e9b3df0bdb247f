import { describe, expect, it } from 'vitest';
import { createAccountWithCredentials } from '../../src/accounts/linked-accounts.js';
import { createLinkedAccount, createPlatform } from '../../src/platforms/platform-service.js';
import { createTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { sandboxCredentials, startFileSandbox } from '../helpers/sandbox.js';
import { expectEqualToTruth } from '../helpers/truth.js';

const db = await createTestDatabase();
const sandbox = await startFileSandbox({ workers: 120, seed: 3 });
const { app, services } = await createTestApp(db, { SYNC_RETRY_BUDGET_SECONDS: '5' }, false, {
  caCertPem: sandbox.caCertPem,
});
await services.sync.start();
const { platform, apiKey } = await createPlatform(db.prisma, 'Benefits Co');

async function linkSandbox(auth: 'secret' | 'certificate' = 'secret') {
  return createAccountWithCredentials(db, services.keyring, {
    provider: 'dynamics365',
    platformId: platform.id,
    endUserOriginId: `employer-${auth}-${Math.random()}`,
    organizationName: 'Contoso',
    credentials: sandboxCredentials(sandbox.defaultTenant, auth),
  });
}

async function accountStatus(id: string) {
  const { rows } = await db.pool.query('SELECT status, status_reason FROM linked_accounts WHERE id = $1', [
    id,
  ]);
  return rows[0] as { status: string; status_reason: string | null };
}

describe('sync service', () => {
  it('syncs an account authenticated with a certificate, end to end', async () => {
    const { account } = await linkSandbox('certificate');
    const result = await services.sync.runNow(account.id, { kind: 'full', trigger: 'test' });
    expect(result?.status).toBe('succeeded');
    expect(await expectEqualToTruth(db, account.id, sandbox)).toEqual([]);
    expect((await accountStatus(account.id)).status).toBe('connected');
  });

  it('stores credentials encrypted: no secret in the row', async () => {
    const { account } = await linkSandbox('secret');
    const { rows } = await db.pool.query('SELECT * FROM linked_accounts WHERE id = $1', [account.id]);
    const raw = JSON.stringify(rows[0]) + Buffer.from(rows[0].credentials_encrypted).toString('latin1');
    expect(raw).not.toContain(sandbox.defaultTenant.clientSecret);
  });

  it('marks error_permissions with what to fix when the application user lacks a security role', async () => {
    const { account } = await linkSandbox();
    sandbox.controls.removeSecurityRole();
    const result = await services.sync.runNow(account.id, { kind: 'full', trigger: 'test' });
    sandbox.controls.restoreSecurityRole();
    expect(result?.status).toBe('failed');
    const status = await accountStatus(account.id);
    expect(status.status).toBe('error_permissions');
    expect(status.status_reason).toContain(
      'Entra registration alone does not grant Dynamics data access: assign a security role',
    );
    expect(status.status_reason).toContain('Power Platform admin center');
    // Fixed at the source, the next sync heals the account.
    const healed = await services.sync.runNow(account.id, { kind: 'incremental', trigger: 'test' });
    expect(healed?.status).toBe('succeeded');
    expect((await accountStatus(account.id)).status).toBe('connected');
  });

  it('marks needs_reauth when the client secret expired', async () => {
    const { account } = await linkSandbox();
    sandbox.controls.expireClientSecret();
    const result = await services.sync.runNow(account.id, { kind: 'full', trigger: 'test' });
    sandbox.controls.restoreClientSecret();
    expect(result?.status).toBe('failed');
    const status = await accountStatus(account.id);
    expect(status.status).toBe('needs_reauth');
    expect(status.status_reason).toMatch(/AADSTS7000222/);
  });

  it('explains a missing application user', async () => {
    const { account } = await linkSandbox();
    sandbox.controls.removeApplicationUser();
    await services.sync.runNow(account.id, { kind: 'full', trigger: 'test' });
    sandbox.controls.restoreApplicationUser();
    const status = await accountStatus(account.id);
    expect(status.status).toBe('error_permissions');
    expect(status.status_reason).toMatch(/no application user.*New app user/);
  });

  it('runs one sync per account at a time: a second request joins the first', async () => {
    const { account } = await linkSandbox();
    const [first, second] = await Promise.all([
      services.sync.runNow(account.id, { kind: 'full', trigger: 'test' }),
      services.sync.runNow(account.id, { kind: 'full', trigger: 'test' }),
    ]);
    expect(first?.runId).toBe(second?.runId);
    const runs = await db.pool.query(
      'SELECT count(*)::int AS n FROM sync_runs WHERE linked_account_id = $1',
      [account.id],
    );
    expect(runs.rows[0].n).toBe(1);
  });
});

describe('sync API', () => {
  it('queues a sync, joins it on a second request, and reports status and history', async () => {
    const { account, accountToken } = await linkSandbox();
    const headers = { authorization: `Bearer ${apiKey}`, 'x-account-token': accountToken };
    const first = await app.inject({ method: 'POST', url: '/v1/sync', headers, payload: { kind: 'full' } });
    expect(first.statusCode).toBe(202);
    expect(first.json()).toMatchObject({ status: 'queued', joined: false });
    const second = await app.inject({ method: 'POST', url: '/v1/sync', headers, payload: {} });
    expect(second.json()).toMatchObject({ run_id: first.json().run_id, joined: true });

    // This process works the queue like any gateway worker would.
    await services.sync.startWorker(1);
    const deadline = Date.now() + 30_000;
    let status: {
      current_run: unknown;
      models: Array<{ model: string; source: string; record_count: number }>;
    };
    do {
      await new Promise((resolve) => setTimeout(resolve, 200));
      status = (await app.inject({ method: 'GET', url: '/v1/sync-status', headers })).json();
    } while (status.current_run !== null && Date.now() < deadline);
    expect(status.current_run).toBeNull();
    const employees = status.models.find((model) => model.model === 'employees');
    expect(employees).toMatchObject({
      source: 'dataverse:cdm_workers',
      record_count: sandbox.truth.workers.length,
    });
    expect(status.models.find((model) => model.model === 'dependents')?.source).toBe('unavailable');

    const runs = (await app.inject({ method: 'GET', url: '/v1/sync-runs', headers })).json();
    expect(runs.results[0]).toMatchObject({
      id: first.json().run_id,
      status: 'succeeded',
      kind: 'full',
      trigger: 'api',
    });
    expect(runs.results[0].stats.employees.created).toBe(sandbox.truth.workers.length);
    expect(await expectEqualToTruth(db, account.id, sandbox)).toEqual([]);
  });

  it('refuses to sync an account that holds generated data', async () => {
    const seeded = await createLinkedAccount(db.prisma, {
      platformId: platform.id,
      endUserOriginId: 'seeded',
      organizationName: 'Seeded',
      provider: 'seed',
      status: 'connected',
    });
    const response = await app.inject({
      method: 'POST',
      url: '/v1/sync',
      headers: { authorization: `Bearer ${apiKey}`, 'x-account-token': seeded.accountToken },
    });
    expect(response.statusCode).toBe(409);
    expect(response.json().error.code).toBe('conflict');
  });
});
