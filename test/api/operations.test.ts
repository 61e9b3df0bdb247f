import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { createTestTenant } from '../helpers/fixtures.js';

const db = await createTestDatabase();
const logLines: string[] = [];
const logStream = new Writable({
  write(chunk, _encoding, done) {
    logLines.push(chunk.toString());
    done();
  },
});
const { app } = await createTestApp(db, { RATE_LIMIT_PER_MINUTE: '5' }, { level: 'info', stream: logStream });
const tenant = await createTestTenant(db);

describe('rate limiting', () => {
  it('answers 429 with Retry-After and the error shape once a key exceeds its limit', async () => {
    const headers = { authorization: `Bearer ${tenant.apiKey}`, 'x-account-token': tenant.accountToken };
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof app.inject>> | undefined;
    for (let request = 0; request < 7; request++) {
      last = await app.inject({ method: 'GET', url: '/v1/employees', headers });
      statuses.push(last.statusCode);
    }
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    expect(Number(last?.headers['retry-after'])).toBeGreaterThan(0);
    expect(last?.json().error.code).toBe('rate_limited');
    // Another key has its own budget.
    const otherTenant = await createTestTenant(db, 'Other');
    const other = await app.inject({
      method: 'GET',
      url: '/v1/employees',
      headers: { authorization: `Bearer ${otherTenant.apiKey}`, 'x-account-token': otherTenant.accountToken },
    });
    expect(other.statusCode).toBe(200);
  });
});

describe('logs', () => {
  it('never contain API keys or account tokens, and mask magic-link tokens in URLs', async () => {
    await app.inject({
      method: 'GET',
      url: '/v1/linked-accounts',
      headers: { authorization: `Bearer ${tenant.sensitiveApiKey}`, 'x-account-token': tenant.accountToken },
    });
    await app.inject({ method: 'GET', url: '/connect/lt_supersecretlinktoken123' });
    const logs = logLines.join('');
    expect(logs).toContain('/v1/linked-accounts');
    expect(logs).toContain('/connect/[redacted]');
    for (const secret of [
      tenant.apiKey,
      tenant.sensitiveApiKey,
      tenant.accountToken,
      'lt_supersecretlinktoken123',
    ]) {
      expect(logs).not.toContain(secret);
    }
  });
});

describe('documentation', () => {
  it('serves Swagger UI from the gateway itself, with no CDN', async () => {
    const page = await app.inject({ method: 'GET', url: '/docs/' });
    expect(page.statusCode).toBe(200);
    const html = page.body;
    expect(html).toContain('swagger-ui');
    expect(html).not.toMatch(/(src|href)="https?:\/\//);
    const initializer = await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    expect(initializer.statusCode).toBe(200);
    expect(initializer.body).not.toMatch(/["'`]https?:\/\//);
  });

  it('documents every operation with a summary, a description and its error responses', async () => {
    const document = (await app.inject({ method: 'GET', url: '/docs/json' })).json();
    const operations = Object.entries(
      document.paths as Record<string, Record<string, Record<string, unknown>>>,
    ).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
    );
    expect(operations.length).toBeGreaterThanOrEqual(18);
    for (const { path, operation } of operations) {
      expect(operation.summary, path).toBeTruthy();
      expect(operation.description, path).toBeTruthy();
      if (path.startsWith('/v1/')) {
        const statuses = Object.keys(operation.responses as object);
        expect(
          statuses.some((status) => status.startsWith('2')),
          path,
        ).toBe(true);
        expect(statuses, path).toEqual(expect.arrayContaining(['400', '401']));
      }
    }
    expect(document.components.schemas.Employee.example).toBeTruthy();
  });
});

describe('configuration', () => {
  it('lists every problem at once', () => {
    try {
      loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x' });
      expect.unreachable('loadConfig accepted bad values');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toContain('PORT');
      expect(problems).toContain('LOG_LEVEL');
      expect(problems).toContain('DATABASE_URL');
    }
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', PORT: '' }).PORT).toBe(3000);
  });
});
