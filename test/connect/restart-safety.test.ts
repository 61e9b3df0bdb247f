import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createPlatform } from '../../src/platforms/platform-service.js';
import { createTestDatabase } from '../helpers/database.js';
import { type GatewayProcess, startGatewayProcess, waitUntil } from '../helpers/processes.js';
import { startFileSandbox } from '../helpers/sandbox.js';
import { events, sandboxForm } from './helpers.js';

/**
 * A real `--role api` process killed with -9 in the middle of a connect flow, a relink and a
 * public-token exchange. The test holds a row or table lock so that the process is provably inside
 * its transaction (its statement waits on the lock in pg_stat_activity) when it dies: nothing of the
 * half-done work may survive, the link stays usable, and after a restart the same request succeeds.
 * The exchange is a single statement, so it either never ran or committed whole; when it committed
 * but its answer died with the process, the platform's retry gets the same account token.
 */
const db = await createTestDatabase();
const sandbox = await startFileSandbox({ workers: 30, seed: 5 });
const tenant = sandbox.defaultTenant;
const env = {
  ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  DYNAMICS_CA_FILE: sandbox.caCertPath,
  SYNC_INTERVAL_MINUTES: '1440',
};
const { apiKey } = await createPlatform(db.prisma, 'Restart Co');
const auth = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };

let api: (GatewayProcess & { url: () => string | undefined }) | undefined;
async function startApi() {
  api = startGatewayProcess('api', db.url, env);
  await api.ready;
  return api.url() as string;
}
afterAll(async () => api?.stop());

async function createLink(base: string, body: Record<string, unknown>) {
  const response = await fetch(`${base}/v1/link-tokens`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ organization_name: 'Contoso Ltd', provider: 'dynamics365', ...body }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { link_token: string }).link_token;
}

/** Opens the page like a browser, then posts the form; the response body is the NDJSON stream. */
async function connect(base: string, linkToken: string) {
  const page = await fetch(`${base}/connect/${linkToken}`);
  expect(page.status).toBe(200);
  const cookie = (page.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const csrf = /name="csrf-token" content="([^"]+)"/.exec(await page.text())?.[1] ?? '';
  return fetch(`${base}/connect/${linkToken}/connect`, {
    method: 'POST',
    headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
    body: JSON.stringify(sandboxForm(tenant)),
  });
}

/**
 * Takes `lock` on a connection of its own, starts `request` (which must end up waiting on that
 * lock), kills the API process with -9 once it waits, then releases the lock and waits until the dead
 * process's backend is gone, so that whatever it would have done has been rolled back.
 */
async function killWhileWaitingOnLock(
  lock: string,
  waitingStatement: string,
  request: () => Promise<unknown>,
) {
  const holder: pg.PoolClient = await db.pool.connect();
  try {
    await holder.query('BEGIN');
    await holder.query(lock);
    void request().catch(() => undefined);
    let backend: number | undefined;
    await waitUntil(async () => {
      const { rows } = await db.pool.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1`,
        [`%${waitingStatement}%`],
      );
      backend = rows[0]?.pid;
      return backend !== undefined;
    }, 30_000);
    await api?.kill('SIGKILL');
    await holder.query('ROLLBACK');
    await waitUntil(async () => {
      const { rows } = await db.pool.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [backend]);
      return rows.length === 0;
    }, 30_000);
  } finally {
    holder.release();
  }
}

const countAccounts = async (origin: string) =>
  (
    await db.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM linked_accounts WHERE end_user_origin_id = $1',
      [origin],
    )
  ).rows[0]?.n;

describe('an API process killed with -9', () => {
  let publicToken = '';
  let accountId = '';

  it('in the middle of a connect leaves no account, no token and a usable link', async () => {
    let base = await startApi();
    const linkToken = await createLink(base, { end_user_origin_id: 'kill-connect' });
    await killWhileWaitingOnLock(
      'LOCK TABLE connect_public_tokens IN ACCESS EXCLUSIVE MODE',
      'INSERT INTO connect_public_tokens',
      () => connect(base, linkToken),
    );
    expect(await countAccounts('kill-connect')).toBe(0);
    const { rows: links } = await db.pool.query(
      `SELECT used_at, linked_account_id FROM connect_links WHERE end_user_origin_id = 'kill-connect'`,
    );
    expect(links).toEqual([{ used_at: null, linked_account_id: null }]);
    const { rows: tokens } = await db.pool.query('SELECT 1 FROM connect_public_tokens');
    expect(tokens).toHaveLength(0);

    // After a restart the admin simply tries again with the same link.
    base = await startApi();
    const response = await connect(base, linkToken);
    expect(response.status).toBe(200);
    const [linked, ...rest] = events(await response.text());
    expect(linked?.type).toBe('linked');
    expect(rest.at(-1)).toMatchObject({ type: 'finished', status: 'succeeded' });
    publicToken = String(linked?.public_token);
    accountId = String(linked?.linked_account_id);
    expect(await countAccounts('kill-connect')).toBe(1);
  });

  it('in the middle of a relink keeps the old credentials and the link usable', async () => {
    let base = api?.url() as string;
    const relink = await fetch(`${base}/v1/linked-accounts/${accountId}/relink`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({}),
    });
    expect(relink.status).toBe(201);
    const linkToken = ((await relink.json()) as { link_token: string }).link_token;
    const before = await db.pool.query(
      'SELECT credentials_encrypted, updated_at FROM linked_accounts WHERE id = $1',
      [accountId],
    );
    await killWhileWaitingOnLock(
      `SELECT 1 FROM linked_accounts WHERE id = '${accountId}' FOR UPDATE`,
      'UPDATE linked_accounts SET credentials_encrypted',
      () => connect(base, linkToken),
    );
    const after = await db.pool.query(
      'SELECT credentials_encrypted, updated_at FROM linked_accounts WHERE id = $1',
      [accountId],
    );
    expect(after.rows).toEqual(before.rows);
    base = await startApi();
    const response = await connect(base, linkToken);
    expect(response.status).toBe(200);
    expect(events(await response.text())[0]).toMatchObject({ type: 'linked', purpose: 'relink' });
  });

  it('during a token exchange: the platform that never got the answer gets the token on retry', async () => {
    let base = api?.url() as string;
    const exchange = () =>
      fetch(`${base}/v1/account-token`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ public_token: publicToken }),
      });
    await killWhileWaitingOnLock(
      `SELECT 1 FROM connect_public_tokens WHERE linked_account_id = '${accountId}' FOR UPDATE`,
      'UPDATE connect_public_tokens SET exchanged_at',
      exchange,
    );
    // The exchange is one statement: once the lock was released it ran and committed on its own,
    // though the process that sent it was dead. Its answer never reached the platform.
    const { rows } = await db.pool.query<{ exchanged: boolean; kept: boolean }>(
      `SELECT exchanged_at IS NOT NULL AS exchanged, account_token_encrypted IS NOT NULL AS kept
       FROM connect_public_tokens WHERE linked_account_id = $1`,
      [accountId],
    );
    expect(rows).toEqual([{ exchanged: true, kept: true }]);

    base = await startApi();
    const first = await exchange();
    expect(first.status).toBe(200);
    const { account_token: accountToken } = (await first.json()) as { account_token: string };
    const retry = await exchange();
    expect(((await retry.json()) as { account_token: string }).account_token).toBe(accountToken);
    const details = await fetch(`${base}/v1/account-details`, {
      headers: { ...auth, 'x-account-token': accountToken },
    });
    expect(((await details.json()) as { id: string }).id).toBe(accountId);
  });
});
