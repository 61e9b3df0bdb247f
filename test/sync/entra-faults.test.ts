import { describe, expect, it } from 'vitest';
import { TokenAcquisitionError } from '../../src/providers/dynamics/auth.js';
import { diagnose } from '../../src/providers/dynamics/diagnose.js';
import { createClientCertificate } from '../../src/sandbox/certs.js';
import { SyncEngine } from '../../src/sync/engine.js';
import { createTestDatabase } from '../helpers/database.js';
import { createTestTenant } from '../helpers/fixtures.js';
import {
  connectSandbox,
  sandboxCredentials,
  sandboxDependencies,
  startFileSandbox,
} from '../helpers/sandbox.js';
import { expectEqualToTruth } from '../helpers/truth.js';

/**
 * Entra ID as the sync meets it, through real MSAL Node against the sandbox's token endpoint: its
 * outages are retried like Dataverse's, and its refusals are diagnosed, never retried as outages.
 */
const db = await createTestDatabase();
const sandbox = await startFileSandbox({ workers: 60, seed: 31 });
const retries: string[] = [];
const deps = sandboxDependencies(sandbox, { onRetry: (event) => retries.push(event.reason) });
const engine = new SyncEngine(db.pool);
const TOKEN_PATH = '/oauth2/v2.0/token';

async function tokenError(credentials = sandboxCredentials(sandbox.defaultTenant), budgetMs = 2_000) {
  const tenant = await createTestTenant(db, `token ${Math.random()}`);
  const connection = connectSandbox(
    tenant.account.id,
    sandbox,
    { ...deps, retryBudgetMs: budgetMs },
    credentials,
  );
  const error = await connection.tokens.token(credentials.dataverseUrl).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(TokenAcquisitionError);
  return error as TokenAcquisitionError;
}

describe('Entra ID outages during a sync', () => {
  it.each([
    ['503', { kind: 'server-error', status: 503 }, /Entra ID answered 503/],
    ['500', { kind: 'server-error', status: 500 }, /Entra ID answered 500/],
    ['429 with Retry-After', { kind: 'throttle', retryAfterSeconds: 1 }, /Entra ID answered 429/],
    ['a connection reset', { kind: 'reset' }, /network error/],
    ['a truncated body', { kind: 'truncate' }, /truncated or malformed JSON from Entra ID/],
  ] as const)('retries token acquisition after %s and the sync succeeds', async (_name, rule, reason) => {
    retries.length = 0;
    const tenant = await createTestTenant(db, `entra ${_name}`);
    const fault = sandbox.faults.add({ route: 'entra', pathContains: TOKEN_PATH, count: 2, ...rule });
    const result = await engine.run({
      linkedAccountId: tenant.account.id,
      connection: connectSandbox(tenant.account.id, sandbox, deps),
      kind: 'full',
      trigger: 'test',
    });
    sandbox.faults.remove(fault.id);
    expect(result.errors.map((error) => String(error.error))).toEqual([]);
    expect(
      retries.filter((message) => reason.test(message)).length,
      retries.join('; '),
    ).toBeGreaterThanOrEqual(1);
    expect(await expectEqualToTruth(db, tenant.account.id, sandbox)).toEqual([]);
  });

  it('gives up after the retry budget with "could not reach Entra ID", diagnosed as degraded', async () => {
    const fault = sandbox.faults.add({
      route: 'entra',
      pathContains: TOKEN_PATH,
      kind: 'server-error',
      status: 503,
    });
    try {
      const started = Date.now();
      const error = await tokenError(undefined, 1_500);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(error.message).toMatch(
        /^Could not reach Entra ID \(gave up after \d+ attempts\): Entra ID answered 503/,
      );
      expect(diagnose(error)).toMatchObject({ status: 'degraded' });
    } finally {
      sandbox.faults.remove(fault.id);
    }
  });
});

describe('Entra ID refusals, as MSAL Node raises them', () => {
  it('missing admin consent (AADSTS65001, suberror consent_required) is a permissions problem, not retried', async () => {
    retries.length = 0;
    sandbox.controls.revokeConsent();
    try {
      const started = Date.now();
      const error = await tokenError(undefined, 30_000);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(retries).toEqual([]);
      expect([error.aadsts, error.oauthError, error.suberror]).toEqual([
        65001,
        'invalid_grant',
        'consent_required',
      ]);
      const diagnosis = diagnose(error);
      expect(diagnosis.status).toBe('error_permissions');
      expect(diagnosis.reason).toMatch(/Admin consent is missing.*Grant admin consent/);
    } finally {
      sandbox.controls.grantConsent();
    }
  });

  it('diagnoses each AADSTS code of the diagnosis table from what MSAL raises', async () => {
    const credentials = sandboxCredentials(sandbox.defaultTenant);
    const cases: [string, typeof credentials, number, string, RegExp][] = [
      [
        'wrong secret',
        {
          ...credentials,
          auth: { ...credentials.auth, clientSecret: 'not-the-secret' } as typeof credentials.auth,
        },
        7000215,
        'needs_reauth',
        /AADSTS7000215/,
      ],
      [
        'unknown app',
        { ...credentials, clientId: '11111111-2222-4333-8444-555555555555' },
        700016,
        'error_config',
        /AADSTS700016/,
      ],
      [
        'unknown tenant (refused at discovery)',
        { ...credentials, tenantId: '99999999-aaaa-4bbb-8ccc-dddddddddddd' },
        90002,
        'error_config',
        /AADSTS90002/,
      ],
      [
        'unknown resource',
        { ...credentials, dataverseUrl: 'https://nowhere.crm.dynamics.com' },
        500011,
        'error_config',
        /AADSTS500011/,
      ],
    ];
    for (const [name, given, aadsts, status, reason] of cases) {
      const error = await tokenError(given, 30_000);
      expect([name, error.aadsts], error.message).toEqual([name, aadsts]);
      const diagnosis = diagnose(error);
      expect([name, diagnosis.status]).toEqual([name, status]);
      expect(diagnosis.reason).toMatch(reason);
    }
    // A certificate Entra does not know for the app (AADSTS700027).
    const stranger = await createClientCertificate('stranger');
    const unknownCertificate = await tokenError(
      {
        ...credentials,
        auth: {
          type: 'certificate',
          certificatePem: stranger.certificatePem,
          privateKeyPem: stranger.privateKeyPem,
        },
      },
      30_000,
    );
    expect(unknownCertificate.aadsts).toBe(700027);
    expect(diagnose(unknownCertificate)).toMatchObject({ status: 'needs_reauth' });
    sandbox.controls.expireClientSecret();
    try {
      const expired = await tokenError(undefined, 30_000);
      expect(expired.aadsts).toBe(7000222);
      expect(diagnose(expired).status).toBe('needs_reauth');
    } finally {
      sandbox.controls.restoreClientSecret();
    }
  });
});
