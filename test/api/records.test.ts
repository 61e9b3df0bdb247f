import { beforeAll, describe, expect, it } from 'vitest';
import { recordId } from '../../src/unified/record-id.js';
import { RECORD_SCHEMAS } from '../../src/unified/schemas.js';
import { createTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { createTestTenant, insertRecords } from '../helpers/fixtures.js';

const db = await createTestDatabase();
const { app } = await createTestApp(db);
const tenant = await createTestTenant(db, 'Acme');
const other = await createTestTenant(db, 'Rival');
const accountId = tenant.account.id;

const headers = { authorization: `Bearer ${tenant.apiKey}`, 'x-account-token': tenant.accountToken };
const sensitiveHeaders = { ...headers, authorization: `Bearer ${tenant.sensitiveApiKey}` };

async function get(url: string, requestHeaders: Record<string, string> = headers) {
  const response = await app.inject({ method: 'GET', url, headers: requestHeaders });
  return { status: response.statusCode, body: response.json(), headers: response.headers };
}

const companyId = recordId(accountId, 'companies', 'usmf');
const ceoId = recordId(accountId, 'employees', 'w-000');

beforeAll(async () => {
  await insertRecords(db, accountId, 'companies', [
    { remote_id: 'usmf', name: 'Contoso USA', company_code: 'usmf' },
  ]);
  await insertRecords(db, accountId, 'employees', [
    {
      remote_id: 'w-000',
      first_name: 'Ada',
      last_name: 'Lovelace',
      company_id: companyId,
      date_of_birth: '1980-12-10',
      gender: 'FEMALE',
      gender_raw: '754400001',
      employment_status: 'ACTIVE',
      employment_status_raw: '754400000',
      remote_data: { cdm_workerid: 'w-000' },
    },
    ...Array.from({ length: 119 }, (_, index) => ({
      remote_id: `w-${String(index + 1).padStart(3, '0')}`,
      first_name: `Worker ${index + 1}`,
      last_name: 'Smith',
      company_id: companyId,
      manager_id: ceoId,
      date_of_birth: '1990-01-01',
      employment_status: index % 10 === 0 ? 'INACTIVE' : 'ACTIVE',
      employment_status_raw: index % 10 === 0 ? '754400001' : '754400000',
    })),
  ]);
  await insertRecords(db, accountId, 'employees', [
    { remote_id: 'w-gone', first_name: 'Gone', remote_was_deleted: true, remote_deleted_at: new Date() },
  ]);
  await insertRecords(db, other.account.id, 'employees', [{ remote_id: 'w-rival', first_name: 'Rival' }]);
  const planId = recordId(accountId, 'benefit_plans', 'plan-med');
  await insertRecords(db, accountId, 'benefit_plans', [
    {
      remote_id: 'plan-med',
      name: 'Medical PPO',
      plan_type: 'MEDICAL',
      coverage_levels_offered: ['EMPLOYEE_ONLY', 'EMPLOYEE_FAMILY'],
    },
  ]);
  const [spouseId] = await insertRecords(db, accountId, 'dependents', [
    {
      remote_id: 'd-1',
      employee_id: ceoId,
      first_name: 'Bob',
      relationship: 'SPOUSE',
      date_of_birth: '1979-05-05',
    },
  ]);
  const [enrollmentId] = await insertRecords(db, accountId, 'benefit_enrollments', [
    {
      remote_id: 'e-1',
      employee_id: ceoId,
      benefit_plan_id: planId,
      status: 'ACTIVE',
      coverage_level: 'EMPLOYEE_SPOUSE',
      employee_contribution_amount_minor: 12550,
      employee_contribution_currency: 'USD',
      company_contribution_percent_bps: 550,
    },
  ]);
  await db.pool.query(
    'INSERT INTO benefit_enrollment_dependents (linked_account_id, benefit_enrollment_id, dependent_id) VALUES ($1, $2, $3)',
    [accountId, enrollmentId, spouseId],
  );
});

describe('authentication', () => {
  it('answers 401 without an API key, naming the header', async () => {
    const { status, body } = await get('/v1/employees', {});
    expect(status).toBe(401);
    expect(body.error.code).toBe('missing_api_key');
    expect(body.error.details[0].field).toBe('Authorization');
  });

  it('answers 401 for an unknown key and for a malformed header', async () => {
    expect(
      (await get('/v1/employees', { ...headers, authorization: 'Bearer hk_nope' })).body.error.code,
    ).toBe('invalid_api_key');
    expect((await get('/v1/employees', { ...headers, authorization: 'Basic abc' })).status).toBe(401);
  });

  it('answers 401 without an account token', async () => {
    const { status, body } = await get('/v1/employees', { authorization: headers.authorization });
    expect(status).toBe(401);
    expect(body.error.code).toBe('missing_account_token');
  });

  it("answers another platform's account token exactly like an unknown one (404)", async () => {
    const foreign = await get('/v1/employees', { ...headers, 'x-account-token': other.accountToken });
    const unknown = await get('/v1/employees', { ...headers, 'x-account-token': 'hat_does_not_exist' });
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual(unknown.body);
  });
});

describe('pagination', () => {
  it('walks every live employee exactly once, in pages, and back again', async () => {
    const seen: string[] = [];
    const pages: Array<{ next: string | null; previous: string | null; results: Array<{ id: string }> }> = [];
    let url = '/v1/employees?page_size=50';
    for (;;) {
      const { status, body } = await get(url);
      expect(status).toBe(200);
      pages.push(body);
      seen.push(...body.results.map((record: { id: string }) => record.id));
      if (!body.next) break;
      url = `/v1/employees?page_size=50&cursor=${body.next}`;
    }
    expect(pages.map((page) => page.results.length)).toEqual([50, 50, 20]);
    expect(new Set(seen).size).toBe(120);
    expect([...seen].sort()).toEqual(seen);
    expect(pages[0]?.previous).toBeNull();
    const back = await get(`/v1/employees?page_size=50&cursor=${pages[1]?.previous}`);
    expect(back.body.results.map((record: { id: string }) => record.id)).toEqual(
      pages[0]?.results.map((record) => record.id),
    );
    expect(back.body.previous).toBeNull();
  });

  it.each([['0'], ['-1'], ['10000'], ['abc'], ['1.5']])(
    'rejects page_size=%s with a 400 naming page_size',
    async (value) => {
      const { status, body } = await get(`/v1/employees?page_size=${value}`);
      expect(status).toBe(400);
      expect(body.error.code).toBe('invalid_query_params');
      expect(body.error.details.map((detail: { field: string }) => detail.field)).toContain('page_size');
    },
  );

  it('rejects a forged or garbled cursor with a 400 naming cursor', async () => {
    for (const cursor of ['garbage', Buffer.from('{"v":1,"d":"n","id":"x"}').toString('base64url')]) {
      const { status, body } = await get(`/v1/employees?cursor=${cursor}`);
      expect(status).toBe(400);
      expect(body.error).toMatchObject({ code: 'invalid_cursor', details: [{ field: 'cursor' }] });
    }
  });
});

describe('filters and validation', () => {
  it('rejects unknown parameters, bad dates and unknown expands, naming each', async () => {
    const unknown = await get('/v1/employees?modified_afer=2020-01-01');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details).toEqual([
      { field: 'modified_afer', message: 'unknown query parameter' },
    ]);
    const badDate = await get('/v1/employees?modified_after=yesterday');
    expect(badDate.body.error.details[0].field).toBe('modified_after');
    const badExpand = await get('/v1/employees?expand=boss');
    expect(badExpand.status).toBe(400);
    expect(badExpand.body.error.details[0]).toMatchObject({ field: 'expand' });
    expect(badExpand.body.error.message).toContain("unknown expand 'boss'");
    const badEnum = await get('/v1/employees?employment_status=FIRED');
    expect(badEnum.body.error.details[0].field).toBe('employment_status');
    const badId = await get('/v1/employees/not-a-uuid');
    expect(badId.status).toBe(400);
  });

  it('filters by model fields and by time', async () => {
    const inactive = await get('/v1/employees?employment_status=INACTIVE&page_size=500');
    expect(inactive.body.results).toHaveLength(12);
    const reports = await get(`/v1/employees?manager_id=${ceoId}&page_size=500`);
    expect(reports.body.results).toHaveLength(119);
    const future = await get('/v1/employees?modified_after=2999-01-01');
    expect(future.body.results).toHaveLength(0);
    const past = await get('/v1/employees?modified_after=2000-01-01T00:00:00Z&page_size=500');
    expect(past.body.results).toHaveLength(120);
  });

  it('hides provider-deleted records unless include_deleted_data=true', async () => {
    const byRemote = await get('/v1/employees?remote_id=w-gone');
    expect(byRemote.body.results).toHaveLength(0);
    const withDeleted = await get('/v1/employees?remote_id=w-gone&include_deleted_data=true');
    expect(withDeleted.body.results[0]).toMatchObject({ remote_was_deleted: true, first_name: 'Gone' });
  });

  it("never returns another account's records", async () => {
    const all = await get('/v1/employees?page_size=500&include_deleted_data=true');
    expect(all.body.results.some((record: { remote_id: string }) => record.remote_id === 'w-rival')).toBe(
      false,
    );
    const rivalId = recordId(other.account.id, 'employees', 'w-rival');
    expect((await get(`/v1/employees/${rivalId}`)).status).toBe(404);
  });
});

describe('records', () => {
  it('returns records matching the documented schema, raw enum values beside the normalized ones', async () => {
    for (const path of ['employees', 'companies', 'dependents', 'benefit-plans', 'benefit-enrollments']) {
      const { status, body } = await get(`/v1/${path}?page_size=5`);
      expect(status).toBe(200);
      const model = path.replace('-', '_') as keyof typeof RECORD_SCHEMAS;
      for (const record of body.results) RECORD_SCHEMAS[model].parse(record);
    }
    const ada = (await get(`/v1/employees/${ceoId}`)).body;
    expect(ada).toMatchObject({
      first_name: 'Ada',
      gender: 'FEMALE',
      gender_raw: '754400001',
      company_id: companyId,
    });
    expect(ada).not.toHaveProperty('linked_account_id');
    expect(ada).not.toHaveProperty('remote_data');
  });

  it('adds remote_data only on request', async () => {
    const { body } = await get(`/v1/employees/${ceoId}?include_remote_data=true`);
    expect(body.remote_data).toEqual({ cdm_workerid: 'w-000' });
  });

  it('expands references in place', async () => {
    const { body } = await get(`/v1/employees?remote_id=w-001&expand=manager,company`);
    expect(body.results[0].manager).toMatchObject({ id: ceoId, first_name: 'Ada' });
    expect(body.results[0].company).toMatchObject({ id: companyId, name: 'Contoso USA' });
  });

  it('shows enrollments with contributions, covered dependents and their plan', async () => {
    const { body } = await get('/v1/benefit-enrollments?expand=covered_dependents,benefit_plan');
    const enrollment = body.results[0];
    expect(enrollment.employee_contribution).toEqual({
      amount_minor: 12550,
      currency: 'USD',
      percent_basis_points: null,
    });
    expect(enrollment.company_contribution).toEqual({
      amount_minor: null,
      currency: null,
      percent_basis_points: 550,
    });
    expect(enrollment.covered_dependent_ids).toEqual([recordId(accountId, 'dependents', 'd-1')]);
    expect(enrollment.covered_dependents[0]).toMatchObject({ first_name: 'Bob', relationship: 'SPOUSE' });
    expect(enrollment.covered_dependents[0]).not.toHaveProperty('date_of_birth');
    expect(enrollment.benefit_plan).toMatchObject({
      name: 'Medical PPO',
      coverage_levels_offered: ['EMPLOYEE_ONLY', 'EMPLOYEE_FAMILY'],
    });
  });
});

describe('sensitive fields', () => {
  it('omits date_of_birth by default', async () => {
    const { body } = await get(`/v1/employees/${ceoId}`);
    expect(body).not.toHaveProperty('date_of_birth');
  });

  it('refuses include_sensitive_fields to a key without the permission', async () => {
    const { status, body } = await get(`/v1/employees/${ceoId}?include_sensitive_fields=true`);
    expect(status).toBe(403);
    expect(body.error.details[0].field).toBe('include_sensitive_fields');
  });

  it('returns them to a sensitive key and leaves an audit record', async () => {
    const before = await db.pool.query('SELECT count(*)::int AS n FROM sensitive_read_audits');
    const { status, body } = await get(
      '/v1/employees?remote_id=w-000&include_sensitive_fields=true&expand=manager',
      sensitiveHeaders,
    );
    expect(status).toBe(200);
    expect(body.results[0].date_of_birth).toBe('1980-12-10');
    const audits = await db.pool.query(
      'SELECT model, fields, record_count FROM sensitive_read_audits ORDER BY id DESC LIMIT 1',
    );
    expect(audits.rows[0]).toEqual({
      model: 'employees',
      fields: ['employees.date_of_birth'],
      record_count: 1,
    });
    const after = await db.pool.query('SELECT count(*)::int AS n FROM sensitive_read_audits');
    expect(after.rows[0].n).toBe(before.rows[0].n + 1);
  });
});

describe('linked accounts', () => {
  it("lists only the platform's own accounts, with status and without secrets", async () => {
    const { status, body } = await get('/v1/linked-accounts', { authorization: headers.authorization });
    expect(status).toBe(200);
    expect(body.results).toHaveLength(1);
    expect(body.results[0]).toMatchObject({
      id: accountId,
      status: 'connected',
      organization_name: 'Acme Employer',
    });
    expect(JSON.stringify(body)).not.toContain('token');
  });

  it('describes the account an account token names', async () => {
    const { status, body } = await get('/v1/account-details');
    expect(status).toBe(200);
    expect(body.id).toBe(accountId);
  });
});

describe('operations', () => {
  it('answers health and readiness, with request ids and security headers', async () => {
    const health = await app.inject({
      method: 'GET',
      url: '/health',
      headers: { 'x-request-id': 'trace-123' },
    });
    expect(health.json()).toEqual({ status: 'ok' });
    expect(health.headers['x-request-id']).toBe('trace-123');
    expect(health.headers['x-content-type-options']).toBe('nosniff');
    const ready = await app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().checks).toEqual({ database: 'ok', migrations: 'ok' });
  });

  it('answers unknown routes with the error shape', async () => {
    const { status, body } = await get('/v1/nope');
    expect(status).toBe(404);
    expect(body.error.code).toBe('not_found');
  });
});
