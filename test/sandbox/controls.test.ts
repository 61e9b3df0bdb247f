import type { Agent } from 'undici';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox, SandboxTenant } from '../../src/sandbox/index.js';
import { fetchToken, getJson, postJson, startTestSandbox } from './helpers.js';

let sandbox: Sandbox;
let agent: Agent;
let tenant: SandboxTenant;
let token: string;
let root: string;

beforeAll(async () => {
  ({ sandbox, agent } = await startTestSandbox({ workers: 40 }));
  tenant = sandbox.defaultTenant;
  token = await fetchToken(agent, tenant, tenant.dataverseUrl);
  root = `${tenant.dataverseUrl}/api/data/v9.2/`;
});
afterEach(() => sandbox.faults.clear());
afterAll(async () => {
  await agent.close();
  await sandbox.close();
});

type ErrorBody = { error: { code: string; message: string } };
const get = (path: string) =>
  getJson<ErrorBody & Record<string, unknown>>(agent, `${root}${path}`, { authorization: `Bearer ${token}` });

describe('tenant controls', () => {
  it('accepts a fault route of a registered simulator only, naming route otherwise, and answers in its wire shape', async () => {
    const unknown = await postJson<{ error: string }>(agent, `${sandbox.baseUrl}/_sandbox/faults`, {
      route: 'nohris',
      kind: 'throttle',
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toContain('route');
    expect(unknown.body.error).toContain('dataverse');
    sandbox.faults.add({ route: 'dataverse', kind: 'server-error', status: 503, count: 1 });
    const failed = await get('WhoAmI');
    expect(failed.status).toBe(503);
    expect(failed.body.error.code).toBe('0x80040216');
    const other = await getJson<{ error: string }>(agent, `${sandbox.baseUrl}/_sandbox/nothing-here`);
    expect(other.status).toBe(404);
  });

  it('removes and restores the application user (403 0x80072560)', async () => {
    sandbox.controls.removeApplicationUser();
    const denied = await get('WhoAmI');
    expect(denied.status).toBe(403);
    expect(denied.body).toEqual({
      error: { code: '0x80072560', message: 'The user is not a member of the organization.' },
    });
    sandbox.controls.restoreApplicationUser();
    expect((await get('WhoAmI')).status).toBe(200);
  });

  it('removes and restores the security role (403 0x80040220 naming the table)', async () => {
    sandbox.controls.removeSecurityRole();
    const denied = await get('cdm_employments?$select=cdm_employmentid');
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe('0x80040220');
    expect(denied.body.error.message).toMatch(
      /^Principal user \(Id=[0-9a-f-]{36}, type=8, roleCount=0, privilegeCount=0, accessMode=0\), is missing prvReadcdm_employment privilege \(Id=[0-9a-f-]{36}\) on OTC=\d+ for entity 'cdm_employment'\. context\.Caller=[0-9a-f-]{36}$/,
    );
    expect((await get('WhoAmI')).status).toBe(200);
    sandbox.controls.restoreSecurityRole();
    expect((await get('cdm_employments?$select=cdm_employmentid')).status).toBe(200);
  });

  it('removes and restores a table', async () => {
    sandbox.controls.removeTable('cdm_benefitplan');
    expect((await get('cdm_benefitplans')).status).toBe(404);
    expect((await get("EntityDefinitions(LogicalName='cdm_benefitplan')")).status).toBe(404);
    sandbox.controls.restoreTable('cdm_benefitplans');
    expect((await get('cdm_benefitplans')).status).toBe(200);
  });

  it('rotates the client secret: both secrets work', async () => {
    const rotated = sandbox.controls.rotateClientSecret();
    expect(rotated.clientSecret).not.toBe(tenant.clientSecret);
    await expect(
      fetchToken(agent, { ...tenant, clientSecret: rotated.clientSecret }, tenant.dataverseUrl),
    ).resolves.toBeTruthy();
    await expect(fetchToken(agent, tenant, tenant.dataverseUrl)).resolves.toBeTruthy();
  });

  it('updates records with new etags and modifiedon', async () => {
    const before = sandbox.truth.workers[5];
    const [id] = sandbox.controls.updateRecords('cdm_workers', { ids: [before?.cdm_workerid as string] });
    const after = await get(`cdm_workers(${id})?$select=modifiedon`);
    expect(after.headers.etag).not.toBe(`W/"${before?.versionnumber}"`);
    expect(after.body['@odata.etag']).toBe(after.headers.etag);
    expect(String(after.body.modifiedon) > String(before?.modifiedon)).toBe(true);
  });

  it('enforces the request window with 429 0x80072322 and Retry-After', async () => {
    sandbox.controls.setServiceProtectionLimits({ requestLimit: 2, windowSeconds: 60 });
    try {
      await get('WhoAmI');
      await get('WhoAmI');
      const throttled = await get('WhoAmI');
      expect(throttled.status).toBe(429);
      expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
      expect(throttled.body).toEqual({
        error: {
          code: '0x80072322',
          message: 'Number of requests exceeded the limit of 2 over time window of 60 seconds.',
        },
      });
    } finally {
      sandbox.controls.setServiceProtectionLimits({});
    }
    expect((await get('WhoAmI')).status).toBe(200);
  });

  it('enforces the concurrency limit with 429 0x80072326', async () => {
    sandbox.controls.setServiceProtectionLimits({ concurrencyLimit: 2 });
    sandbox.faults.add({ route: 'dataverse', kind: 'slow', delayMs: 300 });
    try {
      const results = await Promise.all(Array.from({ length: 5 }, () => get('WhoAmI')));
      const codes = results.map((result) =>
        result.status === 429 ? result.body.error.code : String(result.status),
      );
      expect(codes.filter((code) => code === '200')).toHaveLength(2);
      expect(codes.filter((code) => code === '0x80072326')).toHaveLength(3);
    } finally {
      sandbox.controls.setServiceProtectionLimits({});
    }
  });
});

describe('fault injection', () => {
  it('throttles the next N matching requests with Retry-After, then recovers', async () => {
    sandbox.faults.add({
      route: 'dataverse',
      pathContains: 'cdm_workers',
      kind: 'throttle',
      retryAfterSeconds: 7,
      count: 2,
    });
    const first = await get('cdm_workers?$top=1');
    const second = await get('cdm_workers?$top=1');
    const third = await get('cdm_workers?$top=1');
    expect([first.status, second.status, third.status]).toEqual([429, 429, 200]);
    expect(first.headers['retry-after']).toBe('7');
    expect((await get('WhoAmI')).status).toBe(200);
  });

  it('answers 503 and 500 on demand', async () => {
    const rule = sandbox.faults.add({ route: 'dataverse', kind: 'server-error', status: 503 });
    expect((await get('WhoAmI')).status).toBe(503);
    sandbox.faults.remove(rule.id);
    sandbox.faults.add({ route: 'entra', kind: 'server-error', count: 1 });
    await expect(fetchToken(agent, tenant, tenant.dataverseUrl)).rejects.toThrow(/token request failed/);
    await expect(fetchToken(agent, tenant, tenant.dataverseUrl)).resolves.toBeTruthy();
  });

  it('resets the connection in the middle of a body', async () => {
    sandbox.faults.add({ route: 'dataverse', kind: 'reset', count: 1 });
    await expect(
      request(`${root}cdm_workers`, {
        dispatcher: agent,
        headers: { authorization: `Bearer ${token}` },
      }).then((response) => response.body.text()),
    ).rejects.toThrow();
    expect((await get('WhoAmI')).status).toBe(200);
  });

  it('truncates JSON bodies', async () => {
    sandbox.faults.add({ route: 'dataverse', kind: 'truncate', count: 1 });
    const response = await request(`${root}cdm_workers?$top=5`, {
      dispatcher: agent,
      headers: { authorization: `Bearer ${token}` },
    });
    const text = await response.body.text();
    expect(response.statusCode).toBe(200);
    expect(() => JSON.parse(text)).toThrow();
  });

  it('slows responses down', async () => {
    sandbox.faults.add({ route: 'dataverse', kind: 'slow', delayMs: 250, count: 1 });
    const started = performance.now();
    expect((await get('WhoAmI')).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(240);
  });

  it('fires by probability (0 never, 1 always)', async () => {
    const never = sandbox.faults.add({ route: 'dataverse', kind: 'server-error', probability: 0 });
    expect((await get('WhoAmI')).status).toBe(200);
    sandbox.faults.remove(never.id);
    sandbox.faults.add({ route: 'dataverse', kind: 'server-error', probability: 1 });
    expect((await get('WhoAmI')).status).toBe(500);
  });
});

describe('controls over HTTP', () => {
  it('drives records, tenants and faults under /_sandbox', async () => {
    const updated = await postJson<{ result: { ids: string[] } }>(
      agent,
      `${sandbox.baseUrl}/_sandbox/tenants/contoso/records/update`,
      {
        table: 'cdm_workers',
        count: 2,
      },
    );
    expect(updated.status).toBe(200);
    expect(updated.body.result.ids).toHaveLength(2);
    const fault = await postJson<{ id: string }>(agent, `${sandbox.baseUrl}/_sandbox/faults`, {
      route: 'dataverse',
      kind: 'throttle',
    });
    expect(fault.status).toBe(201);
    expect((await get('WhoAmI')).status).toBe(429);
    await request(`${sandbox.baseUrl}/_sandbox/faults/${fault.body.id}`, {
      method: 'DELETE',
      dispatcher: agent,
    }).then((r) => r.body.text());
    expect((await get('WhoAmI')).status).toBe(200);
    const removal = await postJson(
      agent,
      `${sandbox.baseUrl}/_sandbox/tenants/contoso/application-user/remove`,
      {},
    );
    expect(removal.status).toBe(200);
    expect((await get('WhoAmI')).status).toBe(403);
    await postJson(agent, `${sandbox.baseUrl}/_sandbox/tenants/contoso/application-user/restore`, {});
    expect((await get('WhoAmI')).status).toBe(200);
    const tenants = await getJson<{ value: Array<{ name: string }> }>(
      agent,
      `${sandbox.baseUrl}/_sandbox/tenants`,
    );
    expect(tenants.body.value.map((item) => item.name)).toContain('contoso');
  });
});
