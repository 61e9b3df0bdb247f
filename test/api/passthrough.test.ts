import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import {
  createAccountWithCredentials,
  encryptedCredentialColumns,
} from '../../src/accounts/linked-accounts.js';
import { PASSTHROUGH_PATH } from '../../src/api/passthrough-input.js';
import {
  createApiKey,
  createLinkedAccount,
  createPlatform,
  replaceLinkedAccountCredentials,
} from '../../src/platforms/platform-service.js';
import { confinedUrl, REFUSED_REQUEST_HEADERS } from '../../src/providers/passthrough-http.js';
import { PassthroughError } from '../../src/providers/types.js';
import { createTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { sandboxCredentials, startFileSandbox } from '../helpers/sandbox.js';

/**
 * POST /v1/passthrough against the Dynamics sandbox: real tokens, real Dataverse and F&O answers.
 * What a platform gets (the provider's status, headers and body), and what it cannot do: leave the
 * account's API root, send credentials of its own, skip the permission, exceed the limits.
 */
const db = await createTestDatabase();
const sandbox = await startFileSandbox({ workers: 20, seed: 5 });
// One key for both gateways, so either can read the accounts' credentials.
const ENCRYPTION_KEY = randomBytes(32).toString('base64');
const { app, services } = await createTestApp(db, {
  DYNAMICS_CA_FILE: sandbox.caCertPath,
  ENCRYPTION_KEY,
  PASSTHROUGH_MAX_REQUEST_BYTES: '2048',
  PASSTHROUGH_RATE_LIMIT_PER_MINUTE: '100000',
});
// Tight limits, to see them enforced.
const { app: limited } = await createTestApp(db, {
  DYNAMICS_CA_FILE: sandbox.caCertPath,
  ENCRYPTION_KEY,
  PASSTHROUGH_TIMEOUT_SECONDS: '1',
  PASSTHROUGH_MAX_RESPONSE_BYTES: '1024',
  PASSTHROUGH_RATE_LIMIT_PER_MINUTE: '3',
});

const { platform, apiKey: plainKey } = await createPlatform(db.prisma, 'Passthrough Co');
const key = await createApiKey(db.prisma, platform.id, { name: 'raw', sensitive: true, passthrough: true });

async function linkAccount(withFno: boolean): Promise<{ accountId: string; accountToken: string }> {
  const { account, accountToken } = await createAccountWithCredentials(db, services.keyring, {
    provider: 'dynamics365',
    platformId: platform.id,
    endUserOriginId: `employer-${withFno ? 'fno' : 'dataverse'}`,
    organizationName: 'Contoso',
    credentials: sandboxCredentials(sandbox.defaultTenant, 'secret', withFno),
  });
  return { accountId: account.id, accountToken };
}
const { accountToken } = await linkAccount(true);
const { accountToken: dataverseOnlyToken } = await linkAccount(false);
const headers = { authorization: `Bearer ${key.apiKey}`, 'x-account-token': accountToken };

async function passthrough(
  payload: Record<string, unknown>,
  requestHeaders: Record<string, string> = headers,
  gateway: FastifyInstance = app,
) {
  const response = await gateway.inject({
    method: 'POST',
    url: '/v1/passthrough',
    headers: requestHeaders,
    payload,
  });
  return { status: response.statusCode, body: response.json(), headers: response.headers };
}

interface AuditRow {
  api_key_id: string;
  method: string;
  target: string | null;
  path: string;
  query_names: string[];
  status: number;
  provider_status: number | null;
  error_code: string | null;
  request_id: string;
}

async function lastAudit(): Promise<AuditRow | undefined> {
  const { rows } = await db.pool.query<AuditRow>('SELECT * FROM passthrough_audits ORDER BY id DESC LIMIT 1');
  return rows[0];
}

describe('requests reach the account’s own provider API', () => {
  it('GETs a Dataverse table with the query and headers given, and answers its status, headers and body', async () => {
    const { status, body } = await passthrough({
      method: 'GET',
      path: 'cdm_workers',
      query: {
        $select: 'cdm_firstname,cdm_lastname',
        $filter: "cdm_lastname ne 'Nobody'",
        $orderby: 'cdm_lastname asc',
      },
      headers: { Prefer: 'odata.maxpagesize=5' },
    });
    expect(status).toBe(200);
    expect(body.status).toBe(200);
    expect(body.body_encoding).toBe('json');
    expect(body.headers['content-type']).toMatch(/^application\/json/);
    expect(body.headers['preference-applied']).toBe('odata.maxpagesize=5');
    expect(body.headers['set-cookie']).toBeUndefined();
    const rows = body.body.value as { cdm_firstname: string; cdm_lastname: string }[];
    expect(rows).toHaveLength(5);
    const lastNames = sandbox.truth.workers.map((worker) => worker.cdm_lastname as string);
    expect(rows.map((row) => row.cdm_lastname)).toEqual(
      [...lastNames].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())).slice(0, 5),
    );
    expect(Object.keys(rows[0] ?? {})).toEqual(
      expect.arrayContaining(['cdm_firstname', 'cdm_lastname', '@odata.etag']),
    );
  });

  it('GETs a Finance & Operations entity with target fno', async () => {
    const { status, body } = await passthrough({
      method: 'GET',
      target: 'fno',
      path: 'Workers',
      query: { 'cross-company': 'true', $select: 'PersonnelNumber', $top: '3' },
    });
    expect(status).toBe(200);
    expect(body.status).toBe(200);
    const numbers = (body.body.value as { PersonnelNumber: string }[]).map((row) => row.PersonnelNumber);
    expect(numbers).toHaveLength(3);
    const known = new Set(sandbox.truth.fnoWorkers.map((worker) => worker.PersonnelNumber));
    for (const number of numbers) expect(known.has(number)).toBe(true);
    expect(body.body['@odata.context']).toContain('/data/$metadata');
  });

  it('passes a provider 404 through as data, with the provider’s error body', async () => {
    const { status, body } = await passthrough({ method: 'GET', path: 'cdm_nosuchtables' });
    expect(status).toBe(200);
    expect(body.status).toBe(404);
    expect(body.body.error.code).toBe('0x8006088a');
  });

  it('sends a JSON body to create a row', async () => {
    const { status, body } = await passthrough({
      method: 'POST',
      path: 'cdm_jobs',
      headers: { Prefer: 'return=representation' },
      body: { cdm_name: 'Passthrough engineer' },
    });
    expect(status).toBe(200);
    expect(body.status).toBe(201);
    expect(body.body.cdm_name).toBe('Passthrough engineer');
    expect(sandbox.truth.jobs.some((job) => job.cdm_name === 'Passthrough engineer')).toBe(true);
  });

  it('returns a redirect as it is, without following it', async () => {
    const fault = sandbox.faults.add({
      route: 'dataverse',
      pathContains: 'cdm_departments',
      kind: 'answer',
      answerStatus: 302,
      answerBody: {},
      answerHeaders: { location: 'https://attacker.example/collect' },
      count: 1,
    });
    try {
      const { status, body } = await passthrough({ method: 'GET', path: 'cdm_departments' });
      expect(status).toBe(200);
      expect(body.status).toBe(302);
      expect(body.headers.location).toBe('https://attacker.example/collect');
    } finally {
      sandbox.faults.remove(fault.id);
    }
  });
});

/** What the schema refuses, Dynamics' impersonation headers included. */
const REFUSED = new Set([...REFUSED_REQUEST_HEADERS, 'callerobjectid', 'mscrmcallerid']);

describe('any request the schema accepts', () => {
  it('reaches the provider under the API root and comes back as its answer, never a gateway error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.stringMatching(PASSTHROUGH_PATH, { size: 'small' }),
        fc.constantFrom('dataverse', 'fno'),
        // A JSON key "__proto__" is refused before any route (test/api/security.test.ts).
        fc.dictionary(
          fc.string({ minLength: 1 }).filter((name) => name !== '__proto__'),
          fc.string(),
          { maxKeys: 3 },
        ),
        fc.dictionary(
          fc
            .stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,20}$/)
            .filter((name) => !REFUSED.has(name.toLowerCase()) && name !== '__proto__'),
          fc.stringMatching(/^[\t -~]{0,40}$/),
          { maxKeys: 3 },
        ),
        async (path, target, query, requestHeaders) => {
          const payload = { method: 'GET', path, target, query, headers: requestHeaders };
          const { status, body } = await passthrough(payload);
          expect(status, JSON.stringify(payload)).toBe(200);
          expect(body.status, JSON.stringify(payload)).toBeGreaterThanOrEqual(200);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('refusals', () => {
  it('refuses paths that could leave the API root, naming the path', async () => {
    for (const path of [
      'https://attacker.example/x',
      '//attacker.example/x',
      '/api/data/v9.2/cdm_workers',
      '../cdm_workers',
      'cdm_workers/../../../x',
      './cdm_workers',
      '%2e%2e/x',
      '.%2E/x',
      'cdm_workers%2F..%2F..',
      'cdm_workers%5c..',
      'cdm_workers%252e%252e',
      'cdm_workers\\..\\x',
      'cdm_workers?$top=1',
      'cdm_workers#x',
      'cdm_workers//x',
      'cdm_workers%00',
    ]) {
      const { status, body } = await passthrough({ method: 'GET', path });
      expect(status, path).toBe(400);
      expect(body.error.code, path).toBe('invalid_request_body');
      expect(body.error.details[0].field, path).toBe('path');
    }
  });

  it('keeps the confined URL under the root even for a path the route would refuse', () => {
    const root = 'https://contoso.crm.dynamics.com/api/data/v9.2/';
    expect(confinedUrl(root, 'cdm_workers', { $top: '1', $filter: "name eq 'a b'" }).href).toBe(
      // The URL parser escapes ' in queries of https URLs; servers read %27 as '.
      'https://contoso.crm.dynamics.com/api/data/v9.2/cdm_workers?$top=1&$filter=name%20eq%20%27a%20b%27',
    );
    // Concatenated, a scheme-relative or scheme-changing reference stays a path under the root.
    expect(confinedUrl(root, 'http:attacker.example', {}).host).toBe('contoso.crm.dynamics.com');
    for (const path of ['../x', '%2e%2e/%2e%2e/x', 'a/../../x', 'x?y=1', 'x#y']) {
      expect(() => confinedUrl(root, path, {}), path).toThrow(PassthroughError);
    }
  });

  it('refuses credentials and hop-by-hop headers from the caller, and impersonation', async () => {
    for (const name of [
      'Authorization',
      'authorization',
      'Cookie',
      'Host',
      'Transfer-Encoding',
      'Connection',
    ]) {
      const { status, body } = await passthrough({
        method: 'GET',
        path: 'cdm_workers',
        headers: { [name]: 'x' },
      });
      expect(status, name).toBe(400);
      expect(body.error.details[0].field, name).toBe(`headers.${name}`);
    }
    const smuggled = await passthrough({ method: 'GET', path: 'WhoAmI', headers: { 'X-A': 'a\r\nHost: b' } });
    expect(smuggled.status).toBe(400);
    expect(smuggled.body.error.details[0].field).toBe('headers.X-A');
    const twice = await passthrough({
      method: 'GET',
      path: 'WhoAmI',
      headers: { Prefer: 'odata.maxpagesize=1', prefer: 'odata.maxpagesize=2' },
    });
    expect(twice.status).toBe(400);
    expect(twice.body.error.details[0]).toEqual({ field: 'headers.prefer', message: 'given twice' });
    const impersonating = await passthrough({
      method: 'GET',
      path: 'WhoAmI',
      headers: { CallerObjectId: '00000000-0000-4000-8000-000000000001' },
    });
    expect(impersonating.status).toBe(400);
    expect(impersonating.body.error.details[0].field).toBe('headers.callerobjectid');
  });

  it('refuses target fno for an account without Finance & Operations, and unknown methods', async () => {
    const noFno = await passthrough(
      { method: 'GET', target: 'fno', path: 'Workers' },
      { ...headers, 'x-account-token': dataverseOnlyToken },
    );
    expect(noFno.status).toBe(400);
    expect(noFno.body.error.details[0].field).toBe('target');
    const head = await passthrough({ method: 'HEAD', path: 'cdm_workers' });
    expect(head.status).toBe(400);
    expect(head.body.error.details[0].field).toBe('method');
  });

  it('refuses keys without both the passthrough and the sensitive permission', async () => {
    const sensitiveOnly = await createApiKey(db.prisma, platform.id, { name: 's', sensitive: true });
    const passthroughOnly = await createApiKey(db.prisma, platform.id, {
      name: 'p',
      sensitive: false,
      passthrough: true,
    });
    for (const apiKey of [plainKey, sensitiveOnly.apiKey, passthroughOnly.apiKey]) {
      const { status, body } = await passthrough(
        { method: 'GET', path: 'cdm_workers' },
        { authorization: `Bearer ${apiKey}`, 'x-account-token': accountToken },
      );
      expect(status).toBe(403);
      expect(body.error.code).toBe('passthrough_not_allowed');
      expect(body.error.details[0].field).toBe('Authorization');
    }
    expect(await lastAudit()).toMatchObject({ status: 403, error_code: 'passthrough_not_allowed' });
  });

  it('refuses a body larger than PASSTHROUGH_MAX_REQUEST_BYTES with 413', async () => {
    const { status, body } = await passthrough({
      method: 'POST',
      path: 'cdm_jobs',
      body: { cdm_name: 'x'.repeat(3000) },
    });
    expect(status).toBe(413);
    expect(body.error).toMatchObject({ code: 'payload_too_large', details: [{ field: 'body' }] });
    expect(sandbox.truth.jobs.some((job) => String(job.cdm_name).startsWith('xxxx'))).toBe(false);
  });

  it('refuses an account without a provider API (generated data) with 409', async () => {
    const { accountToken: seedToken } = await createLinkedAccount(db.prisma, {
      platformId: platform.id,
      endUserOriginId: 'seeded',
      organizationName: 'Seeded',
      provider: 'seed',
      status: 'connected',
    });
    const { status, body } = await passthrough(
      { method: 'GET', path: 'cdm_workers' },
      { ...headers, 'x-account-token': seedToken },
    );
    expect(status).toBe(409);
    expect(body.error.code).toBe('conflict');
  });
});

describe('limits', () => {
  it('answers 504 provider_timeout when the provider is slower than PASSTHROUGH_TIMEOUT_SECONDS', async () => {
    const fault = sandbox.faults.add({
      route: 'dataverse',
      pathContains: 'cdm_companies',
      kind: 'slow',
      delayMs: 4000,
    });
    try {
      const started = performance.now();
      const { status, body } = await passthrough({ method: 'GET', path: 'cdm_companies' }, headers, limited);
      expect(status).toBe(504);
      expect(body.error.code).toBe('provider_timeout');
      // Answered at the limit, not when the slow answer finally came.
      expect(performance.now() - started).toBeLessThan(3500);
    } finally {
      sandbox.faults.remove(fault.id);
    }
    expect(await lastAudit()).toMatchObject({
      status: 504,
      provider_status: null,
      error_code: 'provider_timeout',
    });
  });

  it('answers 502 provider_response_too_large past PASSTHROUGH_MAX_RESPONSE_BYTES', async () => {
    const { status, body } = await passthrough({ method: 'GET', path: 'cdm_workers' }, headers, limited);
    expect(status).toBe(502);
    expect(body.error.code).toBe('provider_response_too_large');
  });

  it('rate limits passthrough per key at PASSTHROUGH_RATE_LIMIT_PER_MINUTE', async () => {
    const fresh = await createApiKey(db.prisma, platform.id, {
      name: 'r',
      sensitive: true,
      passthrough: true,
    });
    const freshHeaders = { authorization: `Bearer ${fresh.apiKey}`, 'x-account-token': accountToken };
    for (let call = 0; call < 3; call++) {
      const { status, headers: responseHeaders } = await passthrough(
        { method: 'GET', path: 'WhoAmI' },
        freshHeaders,
        limited,
      );
      expect(status).toBe(200);
      expect(responseHeaders['x-ratelimit-limit']).toBe('3');
    }
    const refused = await passthrough({ method: 'GET', path: 'WhoAmI' }, freshHeaders, limited);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('rate_limited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // Other routes keep the general limit.
    const list = await limited.inject({ method: 'GET', url: '/v1/employees', headers: freshHeaders });
    expect(list.statusCode).toBe(200);
  });
});

describe('credentials', () => {
  it('reuses the account’s token across calls, and takes new credentials after a relink', async () => {
    const relinked = await linkAccount(false);
    const call = () =>
      passthrough(
        { method: 'GET', path: 'WhoAmI' },
        { ...headers, 'x-account-token': relinked.accountToken },
      );
    expect((await call()).body.status).toBe(200);
    // From now on Entra ID refuses the secret, as it would a wrong one (docs/microsoft-wire.md).
    const refusal = sandbox.faults.add({
      route: 'entra',
      pathContains: '/token',
      kind: 'answer',
      answerStatus: 401,
      answerBody: {
        error: 'invalid_client',
        error_description: 'AADSTS7000215: Invalid client secret provided.',
        error_codes: [7000215],
      },
    });
    try {
      // The token the first call got still serves.
      expect((await call()).body.status).toBe(200);
      // A relink stores new credentials (same values, new ciphertext): the next call needs a token.
      await replaceLinkedAccountCredentials(
        db.pool,
        relinked.accountId,
        encryptedCredentialColumns(
          services.keyring,
          'dynamics365',
          sandboxCredentials(sandbox.defaultTenant, 'secret', false),
        ),
      );
      const refused = await call();
      expect(refused.status).toBe(502);
      expect(refused.body.error.code).toBe('provider_unreachable');
      expect(refused.body.error.message).toMatch(/AADSTS7000215/);
    } finally {
      sandbox.faults.remove(refusal.id);
    }
    expect((await call()).body.status).toBe(200);
  });
});

describe('audit', () => {
  it('writes a row per call: method, target, path, query names, status, key, account; never a body', async () => {
    const { status, body } = await passthrough({
      method: 'POST',
      path: 'cdm_jobs',
      query: { $select: 'cdm_name' },
      headers: { Prefer: 'return=representation' },
      body: { cdm_name: 'Audited secret title' },
    });
    expect(status).toBe(200);
    expect(body.body.cdm_name).toBe('Audited secret title');
    const { rows } = await db.pool.query(
      `SELECT a.*, l.platform_id FROM passthrough_audits a JOIN linked_accounts l ON l.id = a.linked_account_id
       ORDER BY a.id DESC LIMIT 1`,
    );
    const row = rows[0];
    expect(row).toMatchObject({
      api_key_id: key.key.id,
      platform_id: platform.id,
      method: 'POST',
      target: null,
      path: 'cdm_jobs',
      query_names: ['$select'],
      status: 200,
      provider_status: 201,
      error_code: null,
    });
    expect(row.duration_ms).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify(row)).not.toContain('Audited secret title');
  });
});
