import type { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox, SandboxTenant } from '../../src/sandbox/index.js';
import { fetchToken, getJson, startTestSandbox } from './helpers.js';

let sandbox: Sandbox;
let agent: Agent;
let tenant: SandboxTenant;
let token: string;
let root: string;

beforeAll(async () => {
  ({ sandbox, agent } = await startTestSandbox({ workers: 120 }));
  tenant = sandbox.defaultTenant;
  token = await fetchToken(agent, tenant, tenant.dataverseUrl);
  root = `${tenant.dataverseUrl}/api/data/v9.2/`;
});
afterAll(async () => {
  await agent.close();
  await sandbox.close();
});

const get = (path: string, headers: Record<string, string> = {}) =>
  getJson<Record<string, unknown> & { value: Array<Record<string, unknown>> }>(agent, `${root}${path}`, {
    authorization: `Bearer ${token}`,
    accept: 'application/json',
    'odata-version': '4.0',
    'odata-maxversion': '4.0',
    ...headers,
  });

describe('Dataverse Web API', () => {
  it('answers WhoAmI with the WhoAmIResponse context', async () => {
    const { status, body } = await get('WhoAmI');
    expect(status).toBe(200);
    expect(body['@odata.context']).toBe(`${root}$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse`);
    expect(Object.keys(body)).toEqual(['@odata.context', 'BusinessUnitId', 'UserId', 'OrganizationId']);
  });

  it('resolves EntityDefinitions by key, by $filter, with $expand=Attributes', async () => {
    const byKey = await get(
      "EntityDefinitions(LogicalName='cdm_worker')?$select=LogicalName,EntitySetName,ChangeTrackingEnabled",
    );
    expect(byKey.body).toMatchObject({
      LogicalName: 'cdm_worker',
      EntitySetName: 'cdm_workers',
      ChangeTrackingEnabled: true,
    });
    expect(String(byKey.body['@odata.context'])).toBe(
      `${root}$metadata#EntityDefinitions(LogicalName,EntitySetName,ChangeTrackingEnabled)/$entity`,
    );
    const missing = await get("EntityDefinitions(LogicalName='cdm_workerdependent')");
    expect(missing.status).toBe(404);
    const filtered = await get(
      "EntityDefinitions?$filter=LogicalName eq 'cdm_employment'&$select=LogicalName,EntitySetName",
    );
    expect(filtered.body.value).toEqual([
      expect.objectContaining({ LogicalName: 'cdm_employment', EntitySetName: 'cdm_employments' }),
    ]);
    const none = await get("EntityDefinitions?$filter=LogicalName eq 'cdm_dependent'");
    expect(none.body.value).toEqual([]);
    const attributes = await get(
      "EntityDefinitions(LogicalName='cdm_worker')?$select=LogicalName&$expand=Attributes($select=LogicalName,AttributeType)",
    );
    const list = attributes.body.Attributes as Array<{ LogicalName: string; AttributeType: string }>;
    expect(list).toContainEqual(
      expect.objectContaining({ LogicalName: 'cdm_managerworkerid', AttributeType: 'Lookup' }),
    );
    expect(list).toContainEqual(
      expect.objectContaining({ LogicalName: 'cdm_gender', AttributeType: 'Picklist' }),
    );
  });

  it('serves rows with etags, $select context and primary key', async () => {
    const { body, headers } = await get('cdm_workers?$select=cdm_firstname,cdm_lastname&$top=3');
    expect(headers['odata-version']).toBe('4.0');
    expect(body['@odata.context']).toBe(`${root}$metadata#cdm_workers(cdm_firstname,cdm_lastname)`);
    expect(body.value).toHaveLength(3);
    const row = body.value[0] as Record<string, unknown>;
    expect(Object.keys(row)).toEqual(['@odata.etag', 'cdm_firstname', 'cdm_lastname', 'cdm_workerid']);
    expect(row['@odata.etag']).toMatch(/^W\/"\d+"$/);
    expect(body['@odata.nextLink']).toBeUndefined();
  });

  it('pages with odata.maxpagesize and stateless $skiptoken nextLinks covering every row once', async () => {
    const seen = new Set<string>();
    let url: string | undefined = 'cdm_workers?$select=cdm_workernumber';
    let pages = 0;
    while (url) {
      const { body, headers } = await get(url.replace(root, ''), { prefer: 'odata.maxpagesize=25' });
      expect(headers['preference-applied']).toBe('odata.maxpagesize=25');
      for (const row of body.value) seen.add(String(row.cdm_workerid));
      url = body['@odata.nextLink'] as string | undefined;
      if (url) expect(url).toContain('$skiptoken=');
      pages++;
    }
    expect(pages).toBe(Math.ceil(120 / 25));
    expect(seen.size).toBe(120);
    expect([...seen].sort()).toEqual(sandbox.truth.workers.map((worker) => worker.cdm_workerid).sort());
  });

  it('caps the page size at 5000', async () => {
    const { headers } = await get('cdm_workers?$select=cdm_workernumber', {
      prefer: 'odata.maxpagesize=9000',
    });
    expect(headers['preference-applied']).toBe('odata.maxpagesize=5000');
  });

  it('filters with the full grammar', async () => {
    const truth = sandbox.truth.workers;
    const manager = truth[0]?.cdm_workerid as string;
    const reports = await get(
      `cdm_workers?$select=cdm_workerid&$filter=_cdm_managerworkerid_value eq ${manager}`,
    );
    expect(reports.body.value.length).toBe(
      truth.filter((w) => w._cdm_managerworkerid_value === manager).length,
    );
    const tricky = await get(
      'cdm_workers?$select=cdm_workerid&$filter=(cdm_gender eq 754400000 or cdm_gender eq 754400001) and not (cdm_middlename eq null) and cdm_birthdate lt 1990-01-01',
    );
    const expected = truth.filter(
      (w) =>
        (w.cdm_gender === 754400000 || w.cdm_gender === 754400001) &&
        w.cdm_middlename !== null &&
        w.cdm_birthdate !== null &&
        w.cdm_birthdate < '1990-01-01',
    );
    expect(tricky.body.value.length).toBe(expected.length);
    const text = await get(
      "cdm_workers?$select=cdm_lastname&$filter=startswith(cdm_lastname,'a') or contains(cdm_primaryemailaddress,'.b')",
    );
    expect(text.body.value.length).toBe(
      truth.filter(
        (w) =>
          w.cdm_lastname.toLowerCase().startsWith('a') || (w.cdm_primaryemailaddress ?? '').includes('.b'),
      ).length,
    );
    const dated = await get('cdm_workers?$select=cdm_workerid&$filter=modifiedon ge 2021-01-01T00:00:00Z');
    expect(dated.body.value.length).toBe(truth.filter((w) => w.modifiedon >= '2021-01-01T00:00:00Z').length);
    const quoted = await get("cdm_workers?$select=cdm_workerid&$filter=cdm_lastname eq 'O''Brien'");
    expect(quoted.body.value.length).toBe(truth.filter((w) => w.cdm_lastname === "O'Brien").length);
  });

  it('orders, counts and pages ordered results without losing rows', async () => {
    const first = await get('cdm_workers?$select=cdm_lastname&$orderby=cdm_lastname desc&$count=true', {
      prefer: 'odata.maxpagesize=50',
    });
    expect(first.body['@odata.count']).toBe(120);
    const names = first.body.value.map((row) => String(row.cdm_lastname).toLowerCase());
    expect(names).toEqual([...names].sort().reverse());
    const second = await get(String(first.body['@odata.nextLink']).replace(root, ''), {
      prefer: 'odata.maxpagesize=50',
    });
    const third = await get(String(second.body['@odata.nextLink']).replace(root, ''), {
      prefer: 'odata.maxpagesize=50',
    });
    const ids = [...first.body.value, ...second.body.value, ...third.body.value].map(
      (row) => row.cdm_workerid,
    );
    expect(new Set(ids).size).toBe(120);
  });

  it('adds annotations only when asked', async () => {
    const plain = await get(
      'cdm_workers?$select=cdm_gender,_cdm_managerworkerid_value&$filter=_cdm_managerworkerid_value ne null&$top=1',
    );
    expect(Object.keys(plain.body.value[0] as object).filter((key) => key.includes('@'))).toEqual([
      '@odata.etag',
    ]);
    const annotated = await get(
      'cdm_workers?$select=cdm_gender,_cdm_managerworkerid_value&$filter=_cdm_managerworkerid_value ne null&$top=1',
      {
        prefer:
          'odata.include-annotations="OData.Community.Display.V1.FormattedValue,Microsoft.Dynamics.CRM.lookuplogicalname"',
      },
    );
    const row = annotated.body.value[0] as Record<string, unknown>;
    expect(row['cdm_gender@OData.Community.Display.V1.FormattedValue']).toMatch(
      /Male|Female|NotSpecified|Non-specific/,
    );
    expect(row['_cdm_managerworkerid_value@Microsoft.Dynamics.CRM.lookuplogicalname']).toBe('cdm_worker');
    expect(
      row['_cdm_managerworkerid_value@Microsoft.Dynamics.CRM.associatednavigationproperty'],
    ).toBeUndefined();
    const manager = sandbox.truth.workers.find((w) => w.cdm_workerid === row._cdm_managerworkerid_value);
    expect(row['_cdm_managerworkerid_value@OData.Community.Display.V1.FormattedValue']).toBe(
      manager?.cdm_fullname,
    );
    const all = await get(
      'cdm_workers?$select=_cdm_managerworkerid_value&$filter=_cdm_managerworkerid_value ne null&$top=1',
      {
        prefer: 'odata.include-annotations="*"',
      },
    );
    expect(
      all.body.value[0]?.['_cdm_managerworkerid_value@Microsoft.Dynamics.CRM.associatednavigationproperty'],
    ).toBe('cdm_ManagerWorkerId');
  });

  it('expands a single-valued navigation property with nested $select', async () => {
    const { body } = await get(
      'cdm_employments?$select=cdm_employmentstartdate&$expand=cdm_WorkerId($select=cdm_fullname)&$top=2',
    );
    const row = body.value[0] as Record<string, Record<string, unknown>>;
    expect(Object.keys(row.cdm_WorkerId ?? {})).toEqual(['@odata.etag', 'cdm_fullname', 'cdm_workerid']);
  });

  it('reports errors as Dataverse does (docs/microsoft-wire.md, Dataverse errors)', async () => {
    const segment = await get('cdm_workerz');
    expect(segment.status).toBe(404);
    expect(segment.body).toEqual({
      error: { code: '0x8006088a', message: "Resource not found for the segment 'cdm_workerz'." },
    });
    const property = await get('cdm_workers?$select=x');
    expect(property.status).toBe(400);
    expect(property.body).toEqual({
      error: {
        code: '0x0',
        message: "Could not find a property named 'x' on type 'Microsoft.Dynamics.CRM.cdm_worker'.",
      },
    });
    const skip = await get('cdm_workers?$skip=10');
    expect(skip.status).toBe(400);
    const dependents = await get('cdm_dependents');
    expect(dependents.status).toBe(404);
  });

  it('answers 401 with WWW-Authenticate for missing, invalid and wrong-audience tokens', async () => {
    const fnoToken = await fetchToken(agent, tenant, tenant.fnoUrl);
    for (const authorization of [undefined, 'Bearer abc.def.ghi', `Bearer ${fnoToken}`]) {
      const response = await getJson(agent, `${root}WhoAmI`, authorization ? { authorization } : {});
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe(
        `Bearer authorization_uri=${sandbox.baseUrl}/${tenant.tenantId}/oauth2/authorize, resource_id=${tenant.dataverseUrl}/`,
      );
    }
  });

  it('answers 401 once a token has expired', async () => {
    // exp = floor(iat) + 2 s: valid for at least one second whatever the sub-second of issue.
    const shortLived = await startTestSandbox({ workers: 10, tokenLifetimeSeconds: 2 });
    try {
      const shortTenant = shortLived.sandbox.defaultTenant;
      const shortToken = await fetchToken(shortLived.agent, shortTenant, shortTenant.dataverseUrl);
      const whoAmI = `${shortTenant.dataverseUrl}/api/data/v9.2/WhoAmI`;
      expect(
        (await getJson(shortLived.agent, whoAmI, { authorization: `Bearer ${shortToken}` })).status,
      ).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 2100));
      const expired = await getJson(shortLived.agent, whoAmI, { authorization: `Bearer ${shortToken}` });
      expect(expired.status).toBe(401);
      expect(expired.headers['www-authenticate']).toMatch(/^Bearer authorization_uri=/);
    } finally {
      await shortLived.agent.close();
      await shortLived.sandbox.close();
    }
  });

  it('does not let one tenant read another tenant', async () => {
    const other = await sandbox.createTenant({ name: 'fabrikam', workers: 10 });
    const otherToken = await fetchToken(agent, other, other.dataverseUrl);
    const crossed = await getJson(agent, `${root}WhoAmI`, { authorization: `Bearer ${otherToken}` });
    expect(crossed.status).toBe(401);
    const own = await getJson<{ value: unknown[] }>(
      agent,
      `${other.dataverseUrl}/api/data/v9.2/cdm_workers?$select=cdm_workerid`,
      {
        authorization: `Bearer ${otherToken}`,
      },
    );
    expect(own.body.value).toHaveLength(10);
  });
});
