import { describe, expect, it } from 'vitest';
import type { SandboxBambooHR } from '../../src/sandbox/index.js';
import { createTestDatabase } from '../helpers/database.js';
import { createTestTenant } from '../helpers/fixtures.js';
import { startFileSandbox } from '../helpers/sandbox.js';
import { createConnectApp, createLink, events, sandboxForm } from './helpers.js';

// Linking a BambooHR account through the same link tokens and connect page as Dynamics, and one
// platform reading both through the same API.
const db = await createTestDatabase();
const sandbox = await startFileSandbox({ workers: 40, seed: 3, provider: 'all' });
const bamboo = sandbox.bamboohr as SandboxBambooHR;
// The connect page's own HTTP pools trust the sandbox through each provider's CA setting.
// No BAMBOOHR_CA_FILE: the connect page's pools trust the CA given to the app (createConnectApp).
const { app } = await createConnectApp(db, sandbox);
const platform = await createTestTenant(db, 'Benefits Co');
const auth = { authorization: `Bearer ${platform.apiKey}` };

const bambooForm = (overrides: Record<string, string> = {}) => ({
  company_domain: bamboo.companyDomain,
  api_key: bamboo.apiKey,
  api_root: bamboo.apiBaseUrl,
  ...overrides,
});

async function postAs(token: string, path: string, payload: object) {
  const page = await app.inject({ method: 'GET', url: `/connect/${token}` });
  const cookie = String(page.headers['set-cookie']).split(';')[0] ?? '';
  const csrf = /name="csrf-token" content="([^"]+)"/.exec(page.payload)?.[1] ?? '';
  return app.inject({
    method: 'POST',
    url: `/connect/${token}/${path}`,
    headers: { cookie, 'x-csrf-token': csrf },
    payload,
  });
}

async function checks(form: object) {
  const { body } = await createLink(app, platform.apiKey, { provider: 'bamboohr' });
  return events((await postAs(body.link_token, 'checks', form)).payload);
}

/** Links an account through the page and exchanges its public token: the account token. */
async function connect(provider: string, form: object): Promise<string> {
  const { body } = await createLink(app, platform.apiKey, {
    provider,
    end_user_origin_id: `employer-${provider}`,
  });
  const stream = events((await postAs(body.link_token, 'connect', form)).payload);
  expect(stream.at(-1)).toMatchObject({ type: 'finished', status: 'succeeded' });
  const linked = stream[0] as unknown as { public_token: string };
  const exchange = await app.inject({
    method: 'POST',
    url: '/v1/account-token',
    headers: auth,
    payload: { public_token: linked.public_token },
  });
  return exchange.json().account_token as string;
}

describe('the connect page for BambooHR', () => {
  it('asks for the company domain and an API key', async () => {
    const { body } = await createLink(app, platform.apiKey, { provider: 'bamboohr' });
    const page = await app.inject({ method: 'GET', url: `/connect/${body.link_token}` });
    expect(page.statusCode).toBe(200);
    expect(page.payload).toContain('BambooHR');
    expect(page.payload).toContain('name="company_domain"');
    expect(page.payload).toContain('name="api_key"');
    expect(page.payload).not.toContain('name="tenant_id"');
  });

  it('streams live checks that pass for a good key, with each model’s source', async () => {
    const stream = await checks(bambooForm());
    const results = stream.filter((event) => event.type === 'check');
    expect(results.map((check) => [check.id, check.status])).toEqual([
      ['api-key', 'ok'],
      ['employees', 'ok'],
      ['tables', 'ok'],
      ['benefits', 'ok'],
    ]);
    const models = stream.find((event) => event.type === 'models')?.models as {
      model: string;
      kind?: string;
    }[];
    expect(models.find((model) => model.model === 'employees')?.kind).toBe('bamboohr');
    expect(stream.at(-1)).toMatchObject({ type: 'done', can_connect: true, failures: 0 });
  });

  it('names the fix for a wrong key, a wrong company domain and rate limiting, and refuses to connect', async () => {
    const badKey = await checks(bambooForm({ api_key: 'f'.repeat(40) }));
    expect(badKey[0]).toMatchObject({ id: 'api-key', status: 'failure' });
    expect(String(badKey[0]?.remediation)).toMatch(/API Keys/);
    expect(badKey.at(-1)).toMatchObject({ type: 'done', can_connect: false });

    const badDomain = await checks(bambooForm({ company_domain: 'not-our-company' }));
    expect(String(badDomain[0]?.remediation)).toMatch(/before \.bamboohr\.com/);

    bamboo.controls.setRateLimit({ requestLimit: 1, windowSeconds: 120 });
    try {
      await checks(bambooForm()); // uses up the window
      const throttled = await checks(bambooForm());
      expect(throttled[0]).toMatchObject({ id: 'api-key', status: 'failure' });
      expect(String(throttled[0]?.remediation)).toMatch(/rate limiting/);
    } finally {
      bamboo.controls.setRateLimit({ requestLimit: 200, windowSeconds: 10 });
    }
  });

  it('warns, without blocking, when the key lacks Benefits Administration', async () => {
    bamboo.controls.setAccess({ benefitsAdministration: false });
    try {
      const stream = await checks(bambooForm());
      const benefits = stream.find((event) => event.type === 'check' && event.id === 'benefits');
      expect(benefits).toMatchObject({
        status: 'warning',
        remediation: expect.stringMatching(/Benefits Administration/),
      });
      expect(stream.at(-1)).toMatchObject({ type: 'done', can_connect: true });
    } finally {
      bamboo.controls.setAccess({ benefitsAdministration: true });
    }
  });

  it('rejects a form field by name without echoing the key', async () => {
    const { body } = await createLink(app, platform.apiKey, { provider: 'bamboohr' });
    const response = await postAs(body.link_token, 'checks', bambooForm({ api_key: 'short!' }));
    expect(response.statusCode).toBe(400);
    expect(response.json().error.details).toContainEqual(expect.objectContaining({ field: 'api_key' }));
    expect(response.payload).not.toContain('short!');
  });
});

describe('one platform, a Dynamics account and a BambooHR account', () => {
  it('gets the same API shapes from both providers', async () => {
    // With the F&O URL, Dynamics serves dependents and enrollments too.
    const dynamicsToken = await connect('dynamics365', {
      ...sandboxForm(sandbox.defaultTenant),
      fno_url: sandbox.defaultTenant.fnoUrl,
    });
    const bambooToken = await connect('bamboohr', bambooForm());
    const get = async (path: string, token: string) => {
      const response = await app.inject({
        method: 'GET',
        url: path,
        headers: { ...auth, 'x-account-token': token },
      });
      expect(response.statusCode, path).toBe(200);
      return response.json() as { next: unknown; previous: unknown; results: Record<string, unknown>[] };
    };
    for (const model of [
      'employees',
      'employments',
      'dependents',
      'benefit-plans',
      'benefit-enrollments',
      'departments',
    ]) {
      const fromDynamics = await get(`/v1/${model}?page_size=3`, dynamicsToken);
      const fromBamboo = await get(`/v1/${model}?page_size=3`, bambooToken);
      expect(fromBamboo.results.length, model).toBeGreaterThan(0);
      expect(Object.keys(fromBamboo).sort()).toEqual(Object.keys(fromDynamics).sort());
      expect(Object.keys(fromBamboo.results[0] ?? {}).sort(), model).toEqual(
        Object.keys(fromDynamics.results[0] ?? {}).sort(),
      );
    }
    // The same generated people behind both accounts.
    const numbers = async (token: string) =>
      new Set((await get('/v1/employees?page_size=500', token)).results.map((row) => row.employee_number));
    expect(await numbers(bambooToken)).toEqual(await numbers(dynamicsToken));
    const accounts = await app.inject({ method: 'GET', url: '/v1/linked-accounts', headers: auth });
    expect(accounts.json().results.map((row: { provider: string }) => row.provider)).toEqual(
      expect.arrayContaining(['dynamics365', 'bamboohr']),
    );
  });
});
