import { describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/auth/secrets.js';
import { erasePublicTokenSecrets, HANDOVER_RETRY_MINUTES } from '../../src/connect/public-tokens.js';
import { createTestDatabase } from '../helpers/database.js';
import { createTestTenant } from '../helpers/fixtures.js';
import { startFileSandbox } from '../helpers/sandbox.js';
import { createConnectApp, createLink, events, sandboxForm } from './helpers.js';

const db = await createTestDatabase();
const sandbox = await startFileSandbox({ workers: 40, seed: 3 });
const tenant = sandbox.defaultTenant;
const { app, logs } = await createConnectApp(db, sandbox);
const platform = await createTestTenant(db, 'Benefits Co');
const other = await createTestTenant(db, 'Other Platform');
const auth = { authorization: `Bearer ${platform.apiKey}` };

/** Every response body the tests saw, for the secrets scan at the end. */
const seen: string[] = [];

async function page(token: string, headers: Record<string, string> = {}) {
  const response = await app.inject({ method: 'GET', url: `/connect/${token}`, headers });
  seen.push(response.payload);
  return response;
}

/** Opens the page like a browser: returns the CSRF cookie and the token the page embeds. */
async function session(token: string) {
  const response = await page(token);
  const cookie = String(response.headers['set-cookie']).split(';')[0] ?? '';
  const csrf = /name="csrf-token" content="([^"]+)"/.exec(response.payload)?.[1] ?? '';
  return { cookie, csrf };
}

async function post(token: string, path: string, payload: object, headers: Record<string, string>) {
  const response = await app.inject({ method: 'POST', url: `/connect/${token}/${path}`, headers, payload });
  seen.push(response.payload);
  return response;
}

async function postAs(token: string, path: string, payload: object) {
  const { cookie, csrf } = await session(token);
  return post(token, path, payload, { cookie, 'x-csrf-token': csrf });
}

let accountToken = '';
let accountId = '';

describe('POST /v1/link-tokens', () => {
  it('returns a single-use magic link whose token is stored only as a hash', async () => {
    const { response, body } = await createLink(app, platform.apiKey);
    expect(response.statusCode).toBe(201);
    expect(body.link_token).toMatch(/^hlt_[\w-]{43}$/);
    expect(body.magic_link_url).toBe(`http://127.0.0.1:3000/connect/${body.link_token}`);
    const days = (Date.parse(body.expires_at) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.99);
    expect(days).toBeLessThanOrEqual(7);
    const { rows } = await db.pool.query('SELECT * FROM connect_links');
    expect(JSON.stringify(rows)).not.toContain(body.link_token);
    expect(rows.map((row) => row.token_hash)).toContain(hashSecret(body.link_token));
  });

  it('validates the body and needs the API key', async () => {
    const tooLong = await createLink(app, platform.apiKey, { expires_in_days: 31 });
    expect(tooLong.response.statusCode).toBe(400);
    expect(tooLong.body).toMatchObject({ error: { details: [{ field: 'expires_in_days' }] } });
    const badProvider = await createLink(app, platform.apiKey, { provider: 'workday' });
    expect(badProvider.response.statusCode).toBe(400);
    const anonymous = await app.inject({ method: 'POST', url: '/v1/link-tokens', payload: {} });
    expect(anonymous.statusCode).toBe(401);
  });
});

describe('the connect page', () => {
  it('serves the page with a strict CSP, no-store and a CSRF cookie scoped to the link', async () => {
    const { body } = await createLink(app, platform.apiKey);
    const response = await page(body.link_token);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/html');
    expect(response.headers['content-security-policy']).toContain("script-src 'self'");
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['set-cookie']).toMatch(
      new RegExp(
        `^hris_connect_\\w+=[\\w-]+\\.[\\w-]+; Path=/connect/${body.link_token}; HttpOnly; SameSite=Strict`,
      ),
    );
    expect(response.payload).toContain('Contoso Ltd');
    expect(response.payload).toContain('<script src="/connect/assets/connect.js"></script>');
    expect(response.payload).not.toMatch(/https?:\/\/(?!login\.microsoftonline|contoso)[a-z]/i);
    const script = await app.inject({ method: 'GET', url: '/connect/assets/connect.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toContain('javascript');
  });

  it('answers an unknown link with a friendly 404 page and a malformed one without touching the database', async () => {
    const unknown = await page(`hlt_${'A'.repeat(43)}`);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers['content-type']).toContain('text/html');
    expect(unknown.payload).toContain('This link is not valid');
    expect((await page('nonsense')).statusCode).toBe(404);
  });

  it('refuses posts without the CSRF token, with a token of another link, or from another origin', async () => {
    const { body } = await createLink(app, platform.apiKey);
    const { body: second } = await createLink(app, platform.apiKey);
    const form = sandboxForm(tenant);
    const { cookie, csrf } = await session(body.link_token);
    const missing = await post(body.link_token, 'checks', form, { cookie });
    expect(missing.statusCode).toBe(403);
    expect(missing.json().error.code).toBe('forbidden');
    const noCookie = await post(body.link_token, 'checks', form, { 'x-csrf-token': csrf });
    expect(noCookie.statusCode).toBe(403);
    const otherLink = await session(second.link_token);
    const crossLink = await post(body.link_token, 'checks', form, {
      cookie: otherLink.cookie.replace(/^[^=]+/, cookie.split('=')[0] ?? ''),
      'x-csrf-token': otherLink.csrf,
    });
    expect(crossLink.statusCode).toBe(403);
    const crossSite = await post(body.link_token, 'checks', form, {
      cookie,
      'x-csrf-token': csrf,
      origin: 'https://evil.example',
    });
    expect(crossSite.statusCode).toBe(403);
    const good = await post(body.link_token, 'checks', form, {
      cookie,
      'x-csrf-token': csrf,
      origin: 'http://localhost:80',
    });
    expect(good.statusCode).toBe(200);
  });

  it('rejects invalid fields with the field named, never echoing a value', async () => {
    const { body } = await createLink(app, platform.apiKey);
    const response = await postAs(body.link_token, 'checks', {
      ...sandboxForm(tenant),
      tenant_id: 'not-a-guid',
      dataverse_url: 'https://contoso.crm.dynamics.com/api/data/v9.2',
      client_secret: '',
    });
    expect(response.statusCode).toBe(400);
    const fields = response.json().error.details.map((detail: { field: string }) => detail.field);
    expect(fields).toEqual(expect.arrayContaining(['tenant_id', 'dataverse_url', 'client_secret']));
  });

  it('describes a certificate (thumbprint, expiry) and checks the key belongs to it', async () => {
    const { body } = await createLink(app, platform.apiKey);
    const response = await postAs(body.link_token, 'certificate', {
      certificate_pem: tenant.certificatePem,
      private_key_pem: tenant.privateKeyPem,
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      thumbprint_sha1: expect.stringMatching(/^[0-9A-F]{40}$/),
      key_matches: true,
    });
    expect(response.payload).not.toContain('PRIVATE KEY');
    const garbage = await postAs(body.link_token, 'certificate', { certificate_pem: 'hello' });
    expect(garbage.json().error.details[0].field).toBe('certificate_pem');
  });

  it('streams the live checks: token, WhoAmI, every table, expiry, and each model’s source', async () => {
    const { body } = await createLink(app, platform.apiKey);
    const response = await postAs(body.link_token, 'checks', sandboxForm(tenant));
    expect(response.headers['content-type']).toContain('application/x-ndjson');
    const stream = events(response.payload);
    const checks = stream.filter((event) => event.type === 'check');
    expect(checks.map((check) => check.id)).toEqual(
      expect.arrayContaining(['token', 'whoami', 'table:cdm_worker', 'expiry']),
    );
    expect(checks.filter((check) => check.status === 'failure')).toEqual([]);
    const models = stream.find((event) => event.type === 'models')?.models as Array<{
      model: string;
      kind: string;
    }>;
    expect(models.find((model) => model.model === 'employees')?.kind).toBe('dataverse');
    expect(stream.at(-1)).toMatchObject({ type: 'done', can_connect: true, failures: 0 });
  });

  it('explains a wrong client secret (AADSTS7000215) and does not allow connecting', async () => {
    const { body } = await createLink(app, platform.apiKey);
    const form = { ...sandboxForm(tenant), client_secret: 'definitely-not-the-secret' };
    const stream = events((await postAs(body.link_token, 'checks', form)).payload);
    expect(stream[0]).toMatchObject({ id: 'token', status: 'failure' });
    expect(String(stream[0]?.remediation)).toContain('AADSTS7000215');
    expect(stream.at(-1)).toMatchObject({ type: 'done', can_connect: false });
    const connect = await postAs(body.link_token, 'connect', form);
    expect(connect.statusCode).toBe(400);
    expect(connect.json().error.message).toContain('AADSTS7000215');
    expect((await page(body.link_token)).statusCode).toBe(200); // the link is still usable
  });
});

describe('connecting, the public token and relinking', () => {
  it('creates the account, runs the first sync with progress, and uses up the link', async () => {
    const { body } = await createLink(app, platform.apiKey);
    const response = await postAs(body.link_token, 'connect', sandboxForm(tenant));
    expect(response.statusCode).toBe(200);
    const stream = events(response.payload);
    const linked = stream[0] as { type: string; linked_account_id: string; public_token: string };
    expect(linked).toMatchObject({ type: 'linked', public_token: expect.stringMatching(/^hpt_/) });
    expect(
      stream.some((event) => event.type === 'progress' && event.model === 'employees' && event.done),
    ).toBe(true);
    expect(stream.at(-1)).toMatchObject({
      type: 'finished',
      status: 'succeeded',
      account_status: 'connected',
    });
    accountId = linked.linked_account_id;

    const used = await page(body.link_token);
    expect(used.statusCode).toBe(410);
    expect(used.payload).toContain('already been used');
    const again = await postAs(body.link_token, 'connect', sandboxForm(tenant));
    expect(again.statusCode).toBe(410);
    expect(again.json().error.code).toBe('gone');

    // The exchange works once, for the platform that made the link only.
    const foreign = await app.inject({
      method: 'POST',
      url: '/v1/account-token',
      headers: { authorization: `Bearer ${other.apiKey}` },
      payload: { public_token: linked.public_token },
    });
    expect(foreign.statusCode).toBe(404);
    const exchange = await app.inject({
      method: 'POST',
      url: '/v1/account-token',
      headers: auth,
      payload: { public_token: linked.public_token },
    });
    expect(exchange.statusCode).toBe(200);
    accountToken = exchange.json().account_token;
    expect(exchange.json()).toEqual({
      account_token: expect.stringMatching(/^hat_/),
      linked_account_id: accountId,
    });
    // A retry within the handover window (the first answer was lost) gets the same token; once the
    // window has passed and the sweep has run, the database can no longer produce it.
    const exchangeAgain = () =>
      app.inject({
        method: 'POST',
        url: '/v1/account-token',
        headers: auth,
        payload: { public_token: linked.public_token },
      });
    const retried = await exchangeAgain();
    expect(retried.statusCode).toBe(200);
    expect(retried.json().account_token).toBe(accountToken);
    expect(await erasePublicTokenSecrets(db.pool)).toBe(0);
    await db.pool.query(
      `UPDATE connect_public_tokens SET exchanged_at = now() - make_interval(mins => $1 + 1)
       WHERE linked_account_id = $2`,
      [HANDOVER_RETRY_MINUTES, accountId],
    );
    expect(await erasePublicTokenSecrets(db.pool)).toBe(1);
    const twice = await exchangeAgain();
    expect(twice.statusCode).toBe(410);
    seen.push(twice.payload);
    const { rows } = await db.pool.query(
      'SELECT account_token_encrypted FROM connect_public_tokens WHERE linked_account_id = $1',
      [accountId],
    );
    expect(rows.map((row) => row.account_token_encrypted)).toEqual([null]);

    const employees = await app.inject({
      method: 'GET',
      url: '/v1/employees?page_size=5',
      headers: { ...auth, 'x-account-token': accountToken },
    });
    seen.push(employees.payload);
    expect(employees.statusCode).toBe(200);
    expect(employees.json().results).toHaveLength(5);
    const accounts = await app.inject({ method: 'GET', url: '/v1/linked-accounts', headers: auth });
    seen.push(accounts.payload);
    expect(accounts.json().results).toContainEqual(
      expect.objectContaining({ id: accountId, organization_name: 'Contoso Ltd', status: 'connected' }),
    );
  });

  it('lets a platform without a front end claim the new account token by account id, retry-safe for a short window, then never again', async () => {
    const { body } = await createLink(app, platform.apiKey, { end_user_origin_id: 'employer-claim' });
    const response = await postAs(body.link_token, 'connect', sandboxForm(tenant));
    const linked = events(response.payload)[0] as unknown as { linked_account_id: string };
    const url = `/v1/linked-accounts/${linked.linked_account_id}/account-token`;
    const foreign = await app.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${other.apiKey}` },
    });
    expect(foreign.statusCode).toBe(404);
    const claimed = await app.inject({ method: 'POST', url, headers: auth });
    expect(claimed.statusCode).toBe(200);
    expect(claimed.json()).toEqual({
      account_token: expect.stringMatching(/^hat_/),
      linked_account_id: linked.linked_account_id,
    });
    const retried = await app.inject({ method: 'POST', url, headers: auth });
    expect(retried.json().account_token).toBe(claimed.json().account_token);
    await db.pool.query(
      `UPDATE connect_public_tokens SET exchanged_at = now() - make_interval(mins => $1 + 1)
       WHERE linked_account_id = $2`,
      [HANDOVER_RETRY_MINUTES, linked.linked_account_id],
    );
    const twice = await app.inject({ method: 'POST', url, headers: auth });
    expect(twice.statusCode).toBe(410);
    const details = await app.inject({
      method: 'GET',
      url: '/v1/account-details',
      headers: { ...auth, 'x-account-token': claimed.json().account_token },
    });
    expect(details.json().id).toBe(linked.linked_account_id);
  });

  it('a used link in a race: only one connect wins', async () => {
    const { body } = await createLink(app, platform.apiKey, { end_user_origin_id: 'race' });
    const { cookie, csrf } = await session(body.link_token);
    const headers = { cookie, 'x-csrf-token': csrf };
    const [first, second] = await Promise.all([
      post(body.link_token, 'connect', sandboxForm(tenant), headers),
      post(body.link_token, 'connect', sandboxForm(tenant), headers),
    ]);
    expect([first.statusCode, second.statusCode].sort()).toEqual([200, 410]);
    const { rows } = await db.pool.query(
      "SELECT count(*)::int AS n FROM linked_accounts WHERE end_user_origin_id = 'race'",
    );
    expect(rows[0].n).toBe(1);
  });

  it('relinks with a certificate: same account, same data, same account token', async () => {
    const relink = await app.inject({
      method: 'POST',
      url: `/v1/linked-accounts/${accountId}/relink`,
      headers: auth,
      payload: { expires_in_days: 2 },
    });
    expect(relink.statusCode).toBe(201);
    const token = relink.json().link_token;
    const html = await page(token);
    expect(html.payload).toContain('Update the Dynamics 365 credentials of Contoso Ltd');
    const before = await db.pool.query('SELECT credentials_encrypted FROM linked_accounts WHERE id = $1', [
      accountId,
    ]);
    const stream = events((await postAs(token, 'connect', sandboxForm(tenant, 'certificate'))).payload);
    expect(stream[0]).toMatchObject({ type: 'linked', linked_account_id: accountId, public_token: null });
    expect(stream.at(-1)).toMatchObject({ type: 'finished', status: 'succeeded' });
    const after = await db.pool.query(
      'SELECT credentials_encrypted, credentials_expire_at FROM linked_accounts WHERE id = $1',
      [accountId],
    );
    expect(after.rows[0].credentials_encrypted).not.toEqual(before.rows[0].credentials_encrypted);
    const employees = await app.inject({
      method: 'GET',
      url: '/v1/employees?page_size=1',
      headers: { ...auth, 'x-account-token': accountToken },
    });
    expect(employees.statusCode).toBe(200);
    seen.push(employees.payload);

    const notMine = await app.inject({
      method: 'POST',
      url: `/v1/linked-accounts/${accountId}/relink`,
      headers: { authorization: `Bearer ${other.apiKey}` },
      payload: {},
    });
    expect(notMine.statusCode).toBe(404);
    const seeded = await app.inject({
      method: 'POST',
      url: `/v1/linked-accounts/${platform.account.id}/relink`,
      headers: auth,
      payload: {},
    });
    expect(seeded.statusCode).toBe(409);
  });

  it('shows an expired link as a friendly 410 page', async () => {
    const { body } = await createLink(app, platform.apiKey);
    await db.pool.query(
      "UPDATE connect_links SET expires_at = now() - interval '1 minute' WHERE token_hash = $1",
      [hashSecret(body.link_token)],
    );
    const response = await page(body.link_token);
    expect(response.statusCode).toBe(410);
    expect(response.payload).toContain('This link has expired');
  });
});

describe('secrets', () => {
  it('never appear in logs or API responses: client secret, private key, link tokens, the exchanged account token', async () => {
    const secretValues = [
      tenant.clientSecret,
      tenant.privateKeyPem.split('\n')[1] ?? 'x',
      'definitely-not-the-secret',
    ];
    const { rows } = await db.pool.query<{ token_hash: string }>('SELECT token_hash FROM connect_links');
    expect(rows.length).toBeGreaterThan(5);
    const text = logs.join('\n');
    expect(text).toContain('connect link used');
    for (const secret of secretValues) {
      expect(text).not.toContain(secret);
      for (const body of seen) expect(body).not.toContain(secret);
    }
    expect(text).not.toMatch(/hlt_[\w-]{43}/);
    expect(text).not.toContain(accountToken);
    expect(text).not.toMatch(/hpt_[\w-]{43}/);
    // After the exchange, no response carries the account token again.
    const afterExchange = seen.slice(seen.findIndex((body) => body.includes('already exchanged')));
    for (const body of afterExchange) expect(body).not.toContain(accountToken);
  });

  it('rate limits /connect per client address', async () => {
    let status = 0;
    for (let i = 0; i < 70 && status !== 429; i++) {
      status = (await app.inject({ method: 'GET', url: `/connect/hlt_${'B'.repeat(43)}` })).statusCode;
    }
    expect(status).toBe(429);
  });
});
