import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { createHttpPool } from '../../src/providers/http-pool.js';
import type { SandboxBambooHR } from '../../src/sandbox/index.js';
import { startFileSandbox } from '../helpers/sandbox.js';

// The BambooHR simulator's wire format, as docs/bamboohr.md describes BambooHR's.
const sandbox = await startFileSandbox({ workers: 40, seed: 5, provider: 'bamboohr' });
const bamboo = sandbox.bamboohr as SandboxBambooHR;
const dispatcher = createHttpPool({ caCertPem: sandbox.caCertPem });
afterAll(() => dispatcher.close());

const base = () => `${bamboo.apiBaseUrl}/${bamboo.companyDomain}/v1/`;
const basic = (key: string) => `Basic ${Buffer.from(`${key}:x`).toString('base64')}`;

async function call(
  path: string,
  options: {
    method?: 'GET' | 'POST';
    key?: string | null;
    body?: unknown;
    url?: string;
    contentType?: string;
  } = {},
) {
  const response = await request(options.url ?? new URL(path, base()), {
    method: options.method ?? 'GET',
    dispatcher,
    headers: {
      accept: 'application/json',
      ...(options.key === null ? {} : { authorization: basic(options.key ?? bamboo.apiKey) }),
      ...(options.body === undefined ? {} : { 'content-type': options.contentType ?? 'application/json' }),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.body.text();
  return {
    status: response.statusCode,
    headers: response.headers,
    text,
    body: (text ? JSON.parse(text) : {}) as Record<string, unknown>,
  };
}

describe('BambooHR simulator: authentication', () => {
  it('takes the API key as the Basic user name with any password, and refuses others with 401', async () => {
    expect((await call('meta/fields')).status).toBe(200);
    const missing = await call('meta/fields', { key: null });
    expect(missing.status).toBe(401);
    const wrong = await call('meta/fields', { key: 'a'.repeat(40) });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['x-bamboohr-error-message']).toMatch(/Invalid API key/);
    expect(wrong.text).toBe('');
  });

  it('answers 403 for a disabled user and 404 for an unknown company domain', async () => {
    bamboo.controls.setKeyEnabled(false);
    try {
      expect((await call('meta/fields')).status).toBe(403);
    } finally {
      bamboo.controls.setKeyEnabled(true);
    }
    const unknown = await call('', { url: `${bamboo.apiBaseUrl}/nosuchcompany/v1/meta/fields` });
    expect(unknown.status).toBe(404);
  });
});

describe('BambooHR simulator: reads', () => {
  it('serves a custom report of every employee, silently leaving out unknown or hidden fields', async () => {
    const fields = ['firstName', 'payRate', 'noSuchField'];
    const report = await call('reports/custom?format=JSON', { method: 'POST', body: { fields } });
    expect(report.status).toBe(200);
    expect((report.body.fields as { id: string }[]).map((field) => field.id)).toEqual([
      'firstName',
      'payRate',
    ]);
    expect(report.body.employees).toHaveLength(bamboo.truth.employees.size);
    bamboo.controls.setAccess({ compensation: false });
    try {
      const hidden = await call('reports/custom?format=JSON', { method: 'POST', body: { fields } });
      expect((hidden.body.fields as { id: string }[]).map((field) => field.id)).toEqual(['firstName']);
      expect((await call('employees/all/tables/compensation')).status).toBe(403);
    } finally {
      bamboo.controls.setAccess({ compensation: true });
    }
  });

  it('parses a report body as XML unless the content type is exactly application/json', async () => {
    const xml = await call('reports/custom?format=JSON', {
      method: 'POST',
      body: { fields: ['firstName'] },
      contentType: 'application/json; charset=UTF-8',
    });
    expect(xml.status).toBe(400);
    expect(xml.headers['x-bamboohr-error-message']).toBe('Malformed XML');
  });

  it('lists dependents and benefits only for Benefits Administration, with filters in a GET body', async () => {
    const dependents = await call('employeedependents');
    expect((dependents.body['Employee Dependents'] as unknown[]).length).toBe(bamboo.truth.dependents.length);
    const plan = bamboo.truth.companyBenefits[0];
    const benefits = await call('benefit/employee_benefit', {
      body: { filters: { companyBenefitId: Number(plan?.id) } },
    });
    const enrolled = (benefits.body.employeeBenefits as { employeeBenefit: unknown[] }[]).flatMap(
      (entry) => entry.employeeBenefit,
    );
    expect(enrolled.length).toBe(
      bamboo.truth.employeeBenefits.filter((row) => String(row.companyBenefitId) === plan?.id).length,
    );
    expect((await call('benefit/employee_benefit', { body: { filters: {} } })).status).toBe(400);
    bamboo.controls.setAccess({ benefitsAdministration: false });
    try {
      expect((await call('employeedependents')).status).toBe(403);
      expect((await call('benefit/company_benefit')).status).toBe(403);
    } finally {
      bamboo.controls.setAccess({ benefitsAdministration: true });
    }
  });
});

describe('BambooHR simulator: changed since', () => {
  it('reports inserts, updates and deletions since a timestamp, with the latest change', async () => {
    const since = new Date(Date.now() - 1000).toISOString().slice(0, 19);
    const [updated] = bamboo.controls.updateEmployees({ count: 1 });
    const [created] = bamboo.controls.createEmployees(1);
    const [deleted] = bamboo.controls.deleteEmployees({
      count: 1,
      ids: [[...bamboo.truth.employees.keys()][5] as string],
    });
    const changed = await call(`employees/changed?since=${encodeURIComponent(`${since}+00:00`)}`);
    expect(changed.status).toBe(200);
    const employees = changed.body.employees as Record<string, { action: string; lastChanged: string }>;
    expect(employees[updated as string]?.action).toBe('Updated');
    expect(employees[created as string]?.action).toBe('Inserted');
    expect(employees[deleted as string]?.action).toBe('Deleted');
    expect(Object.keys(employees)).toHaveLength(3);
    expect(changed.body.latest).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$/);
    const onlyDeleted = await call(`employees/changed?since=${since}Z&type=deleted`);
    expect(Object.keys(onlyDeleted.body.employees as object)).toEqual([deleted]);
    const table = await call(`employees/changed/tables/compensation?since=${since}Z`);
    const rows = table.body.employees as Record<string, { rows: { rate: string; endDate: string | null }[] }>;
    // A raise is a new row; every row of the changed employee comes back.
    expect(rows[updated as string]?.rows.length).toBeGreaterThanOrEqual(2);
    expect(rows[deleted as string]).toBeUndefined();
  });

  it('refuses a missing or malformed since (an unencoded + arrives as a space) with 400', async () => {
    expect((await call('employees/changed')).status).toBe(400);
    expect((await call('employees/changed?since=2026-01-01T00:00:00+00:00')).status).toBe(400);
    expect((await call('employees/changed?since=yesterday')).status).toBe(400);
  });
});

describe('BambooHR simulator: rate limiting and faults', () => {
  it('throttles an API key with 429 and Retry-After, or 503 as before 2026-09-16', async () => {
    bamboo.controls.setRateLimit({ requestLimit: 2, windowSeconds: 60 });
    try {
      const statuses: number[] = [];
      let retryAfter: unknown;
      for (let index = 0; index < 4; index++) {
        const response = await call('meta/fields');
        statuses.push(response.status);
        retryAfter ??= response.headers['retry-after'];
      }
      expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(2);
      expect(Number(retryAfter)).toBeGreaterThan(0);
      bamboo.controls.setRateLimit({ status: 503 });
      expect((await call('meta/fields')).status).toBe(503);
    } finally {
      bamboo.controls.setRateLimit({ requestLimit: 200, windowSeconds: 10, status: 429 });
    }
  });

  it('plays injected faults on the bamboohr route only', async () => {
    const rule = sandbox.faults.add({ route: 'bamboohr', kind: 'throttle', retryAfterSeconds: 7, count: 1 });
    const throttled = await call('meta/lists');
    expect(throttled.status).toBe(429);
    expect(throttled.headers['retry-after']).toBe('7');
    expect(sandbox.faults.list().some((active) => active.id === rule.id)).toBe(false);
    sandbox.faults.add({ route: 'bamboohr', kind: 'server-error', status: 503, count: 1 });
    expect((await call('meta/lists')).status).toBe(503);
    expect((await call('meta/lists')).status).toBe(200);
  });
});
