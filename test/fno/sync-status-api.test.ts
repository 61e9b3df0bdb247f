import { describe, expect, it } from 'vitest';
import { DynamicsConnection } from '../../src/providers/dynamics/connection.js';
import { SyncEngine } from '../../src/sync/engine.js';
import { createTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { createTestTenant } from '../helpers/fixtures.js';
import { sandboxCredentials, sandboxDependencies, startFileSandbox } from '../helpers/sandbox.js';

const db = await createTestDatabase();
const sandbox = await startFileSandbox({ workers: 40, seed: 9, dmfExportDurationMs: 100 });
const deps = sandboxDependencies(sandbox, { pageSize: 500 });
const { app } = await createTestApp(db);
const tenant = await createTestTenant(db);
const headers = { authorization: `Bearer ${tenant.apiKey}`, 'x-account-token': tenant.accountToken };

async function syncStatus() {
  const response = await app.inject({ method: 'GET', url: '/v1/sync-status', headers });
  expect(response.statusCode).toBe(200);
  const body = response.json() as {
    models: {
      model: string;
      source: string;
      source_reason: string | null;
      record_count: number;
      last_error: string | null;
    }[];
  };
  return new Map(body.models.map((model) => [model.model, model]));
}

describe('GET /v1/sync-status shows the F&O routing', () => {
  it('per model: the source that served it, why, and the records it brought', async () => {
    const credentials = {
      ...sandboxCredentials(sandbox.defaultTenant, 'secret', true),
      sources: { benefit_enrollments: 'dmf' as const },
    };
    const connection = new DynamicsConnection(tenant.account.id, credentials, deps);
    const result = await new SyncEngine(db.pool).run({
      linkedAccountId: tenant.account.id,
      connection,
      kind: 'full',
      trigger: 'test',
    });
    expect(result.status).toBe('succeeded');
    const models = await syncStatus();
    const dependents = sandbox.truth.dependents.filter((contact) => contact.IsDependent === 'Yes').length;
    expect(models.get('dependents')).toMatchObject({
      source: 'fno-odata:WorkerPersonalContactPersons',
      source_reason: expect.stringMatching(/Served by F&O OData entity WorkerPersonalContactPersons/),
      record_count: dependents,
      last_error: null,
    });
    expect(models.get('benefit_enrollments')).toMatchObject({
      source: 'dmf:HR export',
      source_reason: expect.stringMatching(/Settings ask for DMF/),
      record_count: sandbox.truth.enrollments.length,
    });
    expect(models.get('employees')?.source).toBe('dataverse:cdm_workers');

    // Enrollments expose their covered dependents through the API (coverage links from F&O).
    const response = await app.inject({
      method: 'GET',
      url: '/v1/benefit-enrollments?page_size=100',
      headers,
    });
    expect(response.statusCode).toBe(200);
    const page = response.json() as { results: { remote_id: string; covered_dependent_ids: string[] }[] };
    const linked = page.results.filter((enrollment) => enrollment.covered_dependent_ids.length > 0);
    expect(linked.length).toBeGreaterThan(0);
    await connection.close();
  });
});

describe('connection check', () => {
  it('reports whether F&O is reachable and which entities its OData serves', async () => {
    const connection = new DynamicsConnection(
      tenant.account.id,
      sandboxCredentials(sandbox.defaultTenant, 'secret', true),
      deps,
    );
    const results = [];
    for await (const result of connection.check()) results.push(result);
    expect(results.find((result) => result.id === 'fno')).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining('WorkerPersonalContactPersons'),
    });
  });
});
