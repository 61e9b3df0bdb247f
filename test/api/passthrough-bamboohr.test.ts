import { describe, expect, it } from 'vitest';
import { createAccountWithCredentials } from '../../src/accounts/linked-accounts.js';
import { createApiKey, createPlatform } from '../../src/platforms/platform-service.js';
import type { SandboxBambooHR } from '../../src/sandbox/index.js';
import { createTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { startFileSandbox } from '../helpers/sandbox.js';

/** POST /v1/passthrough for a BambooHR account: its own API root, its own API key (docs/bamboohr.md). */
const db = await createTestDatabase();
const sandbox = await startFileSandbox({ workers: 20, seed: 5, provider: 'bamboohr' });
const bamboo = sandbox.bamboohr as SandboxBambooHR;
// No BAMBOOHR_CA_FILE: passthrough's pools trust the CA given to the app, like the sync's.
const { app, services } = await createTestApp(db, {}, false, { caCertPem: sandbox.caCertPem });
const { platform } = await createPlatform(db.prisma, 'Passthrough Co');
const key = await createApiKey(db.prisma, platform.id, { name: 'raw', sensitive: true, passthrough: true });
const { accountToken } = await createAccountWithCredentials(db, services.keyring, {
  provider: 'bamboohr',
  platformId: platform.id,
  endUserOriginId: 'employer-bamboohr',
  organizationName: 'Acme',
  credentials: { companyDomain: bamboo.companyDomain, apiKey: bamboo.apiKey, apiRoot: bamboo.apiBaseUrl },
});

async function passthrough(payload: Record<string, unknown>) {
  const response = await app.inject({
    method: 'POST',
    url: '/v1/passthrough',
    headers: { authorization: `Bearer ${key.apiKey}`, 'x-account-token': accountToken },
    payload,
  });
  return { status: response.statusCode, body: response.json() };
}

describe('passthrough to BambooHR', () => {
  it('sends a request under the account’s API root with its API key and answers BambooHR’s response', async () => {
    const { status, body } = await passthrough({
      method: 'GET',
      path: 'employees/1',
      query: { fields: 'firstName,lastName,workEmail' },
    });
    expect(status).toBe(200);
    expect(body.status).toBe(200);
    const employee = bamboo.truth.employees.get('1')?.values;
    expect(body.body).toEqual({
      id: '1',
      firstName: employee?.firstName,
      lastName: employee?.lastName,
      workEmail: employee?.workEmail,
    });
  });

  it('passes a POST with a JSON body (a custom report) and BambooHR’s own errors as they are', async () => {
    const report = await passthrough({
      method: 'POST',
      path: 'reports/custom',
      query: { format: 'JSON' },
      body: { fields: ['firstName'] },
    });
    expect(report.body.status).toBe(200);
    expect(report.body.body.employees).toHaveLength(bamboo.truth.employees.size);
    const missing = await passthrough({ method: 'GET', path: 'employees/changed' });
    expect(missing.body.status).toBe(400);
    expect(missing.body.headers['x-bamboohr-error-message']).toMatch(/since/);
  });

  it('refuses another target and paths that leave the account’s API root', async () => {
    expect((await passthrough({ method: 'GET', target: 'fno', path: 'employees/1' })).status).toBe(400);
    const outside = await passthrough({ method: 'GET', path: '../../othercompany/v1/employees/directory' });
    expect(outside.status).toBe(400);
  });
});
