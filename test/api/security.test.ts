import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { recordId } from '../../src/unified/record-id.js';
import { createTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { createTestTenant, insertRecords } from '../helpers/fixtures.js';

/**
 * What an attacker or a careless client tries: raw data as a side door around sensitive fields,
 * URL spellings that skip authentication, bytes PostgreSQL cannot store, key guessing, empty values,
 * and requests the framework refuses before any route runs. Each must get a documented 4xx.
 */
const db = await createTestDatabase();
const { app } = await createTestApp(db, { AUTH_FAILURES_PER_MINUTE: '1000' });
const tenant = await createTestTenant(db, 'Acme');
const accountId = tenant.account.id;
const headers = { authorization: `Bearer ${tenant.apiKey}`, 'x-account-token': tenant.accountToken };
const sensitiveHeaders = { ...headers, authorization: `Bearer ${tenant.sensitiveApiKey}` };
const workerId = recordId(accountId, 'employees', 'w-1');

async function get(url: string, requestHeaders: Record<string, string> = headers) {
  const response = await app.inject({ method: 'GET', url, headers: requestHeaders });
  return { status: response.statusCode, body: response.json(), headers: response.headers };
}

async function auditRows(): Promise<{ fields: string[] }[]> {
  const { rows } = await db.pool.query<{ fields: string[] }>(
    'SELECT fields FROM sensitive_read_audits WHERE linked_account_id = $1 ORDER BY id',
    [accountId],
  );
  return rows;
}

beforeAll(async () => {
  await insertRecords(db, accountId, 'employees', [
    {
      remote_id: 'w-1',
      first_name: 'Ada',
      date_of_birth: '1980-12-10',
      remote_data: {
        cdm_workerid: 'w-1',
        cdm_firstname: 'Ada',
        cdm_birthdate: '1980-12-10',
        'cdm_birthdate@OData.Community.Display.V1.FormattedValue': '12/10/1980',
      },
    },
  ]);
  const [dependentId] = await insertRecords(db, accountId, 'dependents', [
    {
      remote_id: 'd-1',
      employee_id: workerId,
      first_name: 'Bob',
      date_of_birth: '2010-05-05',
      remote_data: { WorkerPersonnelNumber: '000001', BirthDate: '2010-05-05T12:00:00Z', Gender: 'Male' },
    },
  ]);
  const [enrollmentId] = await insertRecords(db, accountId, 'benefit_enrollments', [
    { remote_id: 'e-1', employee_id: workerId, status: 'ACTIVE' },
  ]);
  await db.pool.query(
    `INSERT INTO benefit_enrollment_dependents (linked_account_id, benefit_enrollment_id, dependent_id)
     VALUES ($1, $2, $3)`,
    [accountId, enrollmentId, dependentId],
  );
});

describe('sensitive data in remote_data', () => {
  it('cuts the raw birth date and its annotation from remote_data without sensitive reads', async () => {
    for (const url of [
      '/v1/employees?include_remote_data=true',
      `/v1/employees/${workerId}?include_remote_data=true`,
    ]) {
      const { status, body } = await get(url, sensitiveHeaders);
      expect(status).toBe(200);
      const employee = body.results ? body.results[0] : body;
      expect(employee.remote_data).toEqual({ cdm_workerid: 'w-1', cdm_firstname: 'Ada' });
      expect(JSON.stringify(body)).not.toContain('1980');
    }
    const dependents = await get('/v1/dependents?include_remote_data=true');
    expect(dependents.body.results[0].remote_data).toEqual({
      WorkerPersonnelNumber: '000001',
      Gender: 'Male',
    });
    expect(await auditRows()).toEqual([]);
  });

  it('cuts it from expanded records too', async () => {
    const { body } = await get(
      '/v1/benefit-enrollments?include_remote_data=true&expand=covered_dependents,employee',
    );
    const text = JSON.stringify(body);
    expect(body.results[0].covered_dependents[0].remote_data).toEqual({
      WorkerPersonnelNumber: '000001',
      Gender: 'Male',
    });
    expect(text).not.toContain('2010-05-05');
    expect(text).not.toContain('1980');
  });

  it('returns it, audited, to a sensitive key that asks', async () => {
    const { status, body } = await get(
      '/v1/employees?include_remote_data=true&include_sensitive_fields=true',
      sensitiveHeaders,
    );
    expect(status).toBe(200);
    expect(body.results[0].remote_data.cdm_birthdate).toBe('1980-12-10');
    const audits = await auditRows();
    // Every raw column that may carry the birth date, whichever source (Dataverse, F&O, BambooHR)
    // filled the row.
    expect(audits.at(-1)?.fields).toEqual([
      'employees.date_of_birth',
      'employees.remote_data.cdm_birthdate',
      'employees.remote_data.BirthDate',
      'employees.remote_data.dateOfBirth',
    ]);
  });
});

/** Routes public by design (README "Operations", the hosted connect page, the API docs). */
const PUBLIC_ROUTE = /^\/(health|ready|docs|connect)(\/|$)/;

/** A concrete URL for a route pattern: every parameter filled with a well-formed value. */
function concrete(url: string): string {
  return url.replace(/:[a-zA-Z_]+/g, '00000000-0000-4000-8000-000000000000').replace('*', 'x');
}

describe('authentication is bound to the routes', () => {
  const protectedRoutes = app.routeTable.filter((route) => !PUBLIC_ROUTE.test(route.url));

  it('is required by every registered route but the documented public ones', async () => {
    expect(protectedRoutes.length).toBeGreaterThan(20);
    expect(app.routeTable.filter((route) => PUBLIC_ROUTE.test(route.url)).length).toBeGreaterThan(3);
    for (const route of protectedRoutes) {
      const response = await app.inject({
        method: route.method as 'GET',
        url: concrete(route.url),
        ...(['POST', 'PUT', 'PATCH'].includes(route.method) ? { payload: {} } : {}),
      });
      expect(response.statusCode, `${route.method} ${route.url}`).toBe(401);
      if (route.method !== 'HEAD') {
        expect(response.json().error.code, `${route.method} ${route.url}`).toBe('missing_api_key');
      }
    }
  });

  it('cannot be skipped by another spelling of the URL', async () => {
    const spellings = (url: string) => [
      url.replace('/v1/', '/%761/'),
      url.replace('/v1/', '/v%31/'),
      url.replace('/v1/', '/%76%31/'),
      url.replace('/v1/', '//v1/'),
      `${url}/`,
      `${url}?`,
      url.replace(/\/([a-z])/, (_match, letter: string) => `/%${letter.charCodeAt(0).toString(16)}`),
    ];
    for (const route of protectedRoutes.filter((candidate) => candidate.method === 'GET')) {
      for (const url of spellings(concrete(route.url))) {
        const response = await app.inject({ method: 'GET', url });
        expect([401, 404], `GET ${url}`).toContain(response.statusCode);
        expect(response.json().error.code, `GET ${url}`).toMatch(/^(missing_api_key|not_found)$/);
      }
    }
  });
});

describe('text PostgreSQL cannot store', () => {
  it('refuses a NUL byte in any query parameter, naming it', async () => {
    for (const url of [
      '/v1/employees?remote_id=a%00b',
      '/v1/employees?employee_number=%00',
      '/v1/dependents?relationship=CHILD%00',
      '/v1/employees?modified_after=2026-01-01%00',
    ]) {
      const { status, body } = await get(url);
      expect(status, url).toBe(400);
      expect(body.error.code).toBe('invalid_query_params');
      expect(body.error.details[0].field).toBe(new URL(url, 'http://x').searchParams.keys().next().value);
    }
  });

  it('refuses a NUL byte or a lone surrogate in a JSON body, naming the field', async () => {
    for (const [payload, field] of [
      ['{"end_user_origin_id":"a\\u0000b","organization_name":"x"}', 'end_user_origin_id'],
      ['{"end_user_origin_id":"ok","organization_name":"\\ud800"}', 'organization_name'],
      ['{"end_user_origin_id":"ok","organization_name":"x","end_user_email":null,"x\\u0000":1}', 'x\u0000'],
    ] as const) {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/link-tokens',
        headers: { authorization: headers.authorization, 'content-type': 'application/json' },
        payload,
      });
      expect(response.statusCode, payload).toBe(400);
      expect(response.json().error).toMatchObject({ code: 'invalid_request_body', details: [{ field }] });
    }
  });

  it('refuses a NUL byte in a path parameter', async () => {
    const { status, body } = await get('/v1/employees/%00');
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: 'invalid_path_params', details: [{ field: 'id' }] });
  });
});

describe('empty values', () => {
  it('refuses empty or blank expand and cursor values with a 400 naming the parameter', async () => {
    for (const [url, field] of [
      ['/v1/employees?expand=', 'expand'],
      ['/v1/employees?expand=,,,', 'expand'],
      ['/v1/employees?expand=manager,', 'expand'],
      ['/v1/employees?cursor=', 'cursor'],
      ['/v1/employees?remote_id=', 'remote_id'],
      ['/v1/employees?modified_after=', 'modified_after'],
      ['/v1/employees?page_size=', 'page_size'],
    ]) {
      const { status, body } = await get(url as string);
      expect(status, url).toBe(400);
      expect(
        body.error.details.map((detail: { field: string }) => detail.field),
        url,
      ).toContain(field);
    }
  });

  it('does not offer expand on models with nothing to expand', async () => {
    const { status, body } = await get('/v1/companies?expand=company');
    expect(status).toBe(400);
    expect(body.error.details).toEqual([{ field: 'expand', message: 'unknown query parameter' }]);
  });
});

describe('framework errors keep the error shape', () => {
  it('answers malformed percent-encoding, over-long ids and bad bodies with the documented shape', async () => {
    const cases: {
      url: string;
      method?: 'POST';
      payload?: string;
      type?: string;
      status: number;
      code: string;
    }[] = [
      { url: '/v1/employees/%E0%A4%A', status: 400, code: 'bad_request' },
      { url: `/v1/employees/${'a'.repeat(5000)}`, status: 414, code: 'uri_too_long' },
      { url: '/v1/link-tokens', method: 'POST', payload: '{"a":', status: 400, code: 'bad_request' },
      {
        url: '/v1/link-tokens',
        method: 'POST',
        payload: 'a=b',
        type: 'text/csv',
        status: 415,
        code: 'unsupported_media_type',
      },
    ];
    for (const { url, method = 'GET', payload, type = 'application/json', status, code } of cases) {
      const response = await app.inject({
        method,
        url,
        headers: { ...headers, ...(payload ? { 'content-type': type } : {}) },
        ...(payload ? { payload } : {}),
      });
      expect(response.statusCode, url.slice(0, 80)).toBe(status);
      expect(response.json().error, url.slice(0, 80)).toMatchObject({
        code,
        message: expect.any(String),
        details: [],
      });
    }
  });

  it('refuses prototype-poisoning keys in a JSON body with a 400 naming the key, and an empty body', async () => {
    const post = (payload: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/link-tokens',
        headers: { ...headers, 'content-type': 'application/json' },
        payload,
      });
    for (const [payload, key] of [
      ['{"organization_name":"x","nested":{"__proto__":{"admin":true}}}', '__proto__'],
      ['{"constructor":{"prototype":{"admin":true}}}', 'constructor'],
    ] as const) {
      const response = await post(payload);
      expect(response.statusCode, payload).toBe(400);
      expect(response.json().error).toMatchObject({
        code: 'invalid_request_body',
        details: [{ field: key, message: 'refused key' }],
      });
    }
    // A key merely named "constructor" is data like any other: refused only by the route's schema.
    const plain = await post('{"constructor":"x"}');
    expect(plain.json().error.code).toBe('invalid_request_body');
    expect(plain.json().error.details).not.toContainEqual({ field: 'constructor', message: 'refused key' });
    const empty = await post('');
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error.code).toBe('bad_request');
  });

  it('answers over-large headers from the HTTP parser in the same shape', async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(`GET /v1/employees HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      });
      let data = '';
      socket.on('data', (chunk) => {
        data += chunk.toString();
      });
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 431 /);
    const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
    expect(body.error).toMatchObject({ code: 'headers_too_large', details: [] });
  });
});

describe('rate limits for unauthenticated traffic', () => {
  it('limits failed authentications per client address, documented in Retry-After', async () => {
    const limited = await createTestApp(db, { AUTH_FAILURES_PER_MINUTE: '5' });
    const attempt = (authorization: string, remoteAddress = '10.0.0.7') =>
      limited.app.inject({ method: 'GET', url: '/v1/employees', headers: { authorization }, remoteAddress });
    for (let guess = 0; guess < 5; guess++) {
      expect((await attempt(`Bearer hk_guess_${guess}`)).statusCode).toBe(401);
    }
    const refused = await attempt('Bearer hk_guess_6');
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error.code).toBe('rate_limited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // Even a valid key is refused from that address until the window ends: guessing costs time.
    expect((await attempt(headers.authorization)).statusCode).toBe(429);
    // Another address is unaffected.
    expect((await attempt(headers.authorization, '10.0.0.8')).statusCode).toBe(401);
    const ok = await limited.app.inject({
      method: 'GET',
      url: '/v1/employees',
      headers,
      remoteAddress: '10.0.0.9',
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['x-ratelimit-limit']).toBeDefined();
  });
});
