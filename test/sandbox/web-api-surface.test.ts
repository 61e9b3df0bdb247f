import type { Agent } from 'undici';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataverseCatalog } from '../../src/sandbox/dataverse/catalog.js';
import type { Sandbox, SandboxTenant } from '../../src/sandbox/index.js';
import { fetchToken, getJson, type JsonResponse, startTestSandbox } from './helpers.js';

/**
 * The parts of the Web API surface that independent clients rely on, checked against the shapes in
 * Microsoft's Web API pages (docs/microsoft-wire.md, "Web API surface").
 */
let sandbox: Sandbox;
let agent: Agent;
let tenant: SandboxTenant;
let token: string;
let root: string;
const workers = 40;

beforeAll(async () => {
  ({ sandbox, agent } = await startTestSandbox({ workers }));
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
    ...headers,
  });

async function getText(path: string) {
  const response = await request(`${root}${path}`, {
    dispatcher: agent,
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
}

async function post(path: string, body: string, headers: Record<string, string>) {
  const response = await request(`${root}${path}`, {
    method: 'POST',
    dispatcher: agent,
    headers: { authorization: `Bearer ${token}`, ...headers },
    body,
  });
  return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
}

describe('Web API surface', () => {
  it('has an environment URL without a path, and a service document listing the entity sets', async () => {
    expect(new URL(tenant.dataverseUrl).pathname).toBe('/');
    expect(new URL(tenant.fnoUrl).pathname).toBe('/');
    expect(new URL(tenant.dataverseUrl).origin).not.toBe(new URL(tenant.fnoUrl).origin);
    const { status, body } = await get('');
    expect(status).toBe(200);
    expect(body['@odata.context']).toBe(`${root}$metadata`);
    expect(body.value).toContainEqual({ name: 'cdm_workers', kind: 'EntitySet', url: 'cdm_workers' });
    expect(body.value).toContainEqual({
      name: 'EntityDefinitions',
      kind: 'EntitySet',
      url: 'EntityDefinitions',
    });
  });

  it('serves $metadata as CSDL with the tables it serves', async () => {
    const response = await getText('$metadata');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toContain('application/xml');
    expect(response.text).toContain('<Schema Namespace="Microsoft.Dynamics.CRM" Alias="mscrm"');
    expect(response.text).toContain(
      '<EntitySet Name="cdm_workers" EntityType="Microsoft.Dynamics.CRM.cdm_worker" />',
    );
    expect(response.text).toContain('<Key><PropertyRef Name="cdm_workerid" /></Key>');
    sandbox.controls.removeTable('cdm_job');
    try {
      expect((await getText('$metadata')).text).not.toContain('EntitySet Name="cdm_jobs"');
    } finally {
      sandbox.controls.restoreTable('cdm_job');
    }
  });

  it("reads '+' in a query string as a space, and %2B as a plus sign", async () => {
    const worker = tenant.truth.workers[0];
    if (!worker) throw new Error('no workers');
    const formEncoded = `cdm_workers?$select=cdm_workerid&$filter=cdm_workerid+eq+${worker.cdm_workerid}`;
    const { status, body } = await get(formEncoded);
    expect(status).toBe(200);
    expect(body.value.map((row) => row.cdm_workerid)).toEqual([worker.cdm_workerid]);
    const plus = await get("cdm_workers?$select=cdm_workerid&$filter=cdm_lastname+eq+'a%2Bb'");
    expect(plus.status).toBe(200);
    expect(plus.body.value).toEqual([]);
  });

  it('follows links a client re-encoded with form encoding (parse the query, urlencode it again)', async () => {
    // What ETL connectors written in Python do with nextLink/deltaLink: parse_qsl, then requests' urlencode
    // ('+' for spaces, %3D for '='). URLSearchParams decodes and encodes the same way.
    const reencode = (link: string): string => {
      const url = new URL(link);
      return `${url.origin}${url.pathname}?${new URLSearchParams(url.search).toString()}`;
    };
    const prefer = { prefer: 'odata.track-changes,odata.maxpagesize=7' };
    const ids: string[] = [];
    let next: string | undefined = `${root}cdm_workers`;
    let deltaLink: string | undefined;
    type Page = {
      value: Array<{ cdm_workerid: string }>;
      '@odata.nextLink'?: string;
      '@odata.deltaLink'?: string;
    };
    while (next) {
      const url: string = next;
      const page: JsonResponse<Page> = await getJson<Page>(agent, url, {
        authorization: `Bearer ${token}`,
        ...prefer,
      });
      expect(page.status).toBe(200);
      ids.push(...page.body.value.map((row) => row.cdm_workerid));
      next = page.body['@odata.nextLink'] ? reencode(page.body['@odata.nextLink']) : undefined;
      if (next) expect(next).toContain('%3Ccookie+pagenumber%3D%22');
      deltaLink = page.body['@odata.deltaLink'];
    }
    expect(ids.sort()).toEqual(tenant.truth.workers.map((row) => row.cdm_workerid).sort());
    const [changed] = sandbox.controls.updateRecords(
      'cdm_workers',
      { count: 1 },
      { cdm_lastname: 'Re Encoded' },
    );
    const delta = await getJson<{ value: Array<{ cdm_workerid: string; cdm_lastname: string }> }>(
      agent,
      reencode(String(deltaLink)),
      { authorization: `Bearer ${token}`, ...prefer },
    );
    expect(delta.status).toBe(200);
    expect(delta.body.value.map((row) => [row.cdm_workerid, row.cdm_lastname])).toEqual([
      [changed, 'Re Encoded'],
    ]);
  });

  it('answers /$count as plain text, with $filter', async () => {
    const all = await getText('cdm_workers/$count');
    expect(all.status).toBe(200);
    expect(all.headers['content-type']).toContain('text/plain');
    expect(all.text).toBe(String(workers));
    const active = tenant.truth.workers.filter((row) => row.statecode === 0).length;
    expect((await getText('cdm_workers/$count?$filter=statecode%20eq%200')).text).toBe(String(active));
  });

  it("writes nextLinks with Dataverse's paging cookie: pagenumber of the next page, page of this one", async () => {
    const first = await get('cdm_workers?$select=cdm_workerid', { prefer: 'odata.maxpagesize=10' });
    const nextLink = String(first.body['@odata.nextLink']);
    // Dataverse's encoding: upper-case hex, '=' and '/' as they are, the inner cookie encoded again.
    expect(nextLink).toMatch(
      /\$skiptoken=%3Ccookie%20pagenumber=%222%22%20pagingcookie=%22%253ccookie%2520page%253d%25221%2522%253e%253ccdm_workerid%2520last%253d%2522%257b/,
    );
    expect(nextLink).toMatch(/%22%20istracking=%22False%22%20\/%3E$/);
    const last = String(first.body.value[9]?.cdm_workerid).toUpperCase();
    const firstKey = String(first.body.value[0]?.cdm_workerid).toUpperCase();
    const inner = decodeURIComponent(/pagingcookie="([^"]*)"/.exec(decodeURIComponent(nextLink))?.[1] ?? '');
    expect(inner).toBe(`<cookie page="1"><cdm_workerid last="{${last}}" first="{${firstKey}}" /></cookie>`);
    const second = await getJson<{ '@odata.nextLink': string }>(agent, nextLink, {
      authorization: `Bearer ${token}`,
      prefer: 'odata.maxpagesize=10',
    });
    expect(decodeURIComponent(second.body['@odata.nextLink'])).toContain(
      '<cookie pagenumber="3" pagingcookie="%3ccookie%20page%3d%222%22',
    );
  });

  it('counts with the totalrecordcount annotations only when asked', async () => {
    const plain = await get('cdm_workers?$select=cdm_workerid&$count=true');
    expect(plain.body['@odata.count']).toBe(workers);
    expect(plain.body).not.toHaveProperty('@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded');
    const annotated = await get('cdm_workers?$select=cdm_workerid&$count=true', {
      prefer:
        'odata.include-annotations="Microsoft.Dynamics.CRM.totalrecordcount,Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"',
    });
    expect(annotated.body['@Microsoft.Dynamics.CRM.totalrecordcount']).toBe(workers);
    expect(annotated.body['@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded']).toBe(false);
  });

  it('describes attributes by type cast, one by key, and expands a picklist OptionSet', async () => {
    const dates = await get(
      "EntityDefinitions(LogicalName='cdm_worker')/Attributes/Microsoft.Dynamics.CRM.DateTimeAttributeMetadata?$select=LogicalName,DateTimeBehavior,Format",
    );
    expect(dates.status).toBe(200);
    expect(String(dates.body['@odata.context'])).toContain(
      '/Attributes/Microsoft.Dynamics.CRM.DateTimeAttributeMetadata(LogicalName,DateTimeBehavior,Format)',
    );
    expect(dates.body.value).toContainEqual(
      expect.objectContaining({
        LogicalName: 'cdm_birthdate',
        Format: 'DateOnly',
        DateTimeBehavior: { Value: 'DateOnly' },
      }),
    );
    expect(
      dates.body.value.every(
        (attribute) => attribute['@odata.type'] === '#Microsoft.Dynamics.CRM.DateTimeAttributeMetadata',
      ),
    ).toBe(true);
    const gender = await get(
      "EntityDefinitions(LogicalName='cdm_worker')/Attributes(LogicalName='cdm_gender')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$expand=OptionSet",
    );
    expect(gender.status).toBe(200);
    const options = (
      gender.body.OptionSet as {
        Options: Array<{ Value: number; Label: { UserLocalizedLabel: { Label: string } } }>;
      }
    ).Options;
    const genderOptions = dataverseCatalog
      .find((table) => table.logicalName === 'cdm_worker')
      ?.columns.find((column) => column.logicalName === 'cdm_gender')?.optionSet;
    expect(options.map((option) => [option.Value, option.Label.UserLocalizedLabel.Label])).toEqual(
      Object.entries(genderOptions ?? { none: 'none' }).map(([value, text]) => [Number(value), text]),
    );
    const uncast = await get(
      "EntityDefinitions(LogicalName='cdm_worker')/Attributes?$select=LogicalName,Format",
    );
    expect(uncast.status).toBe(400);
    const mismatch = await get(
      "EntityDefinitions(LogicalName='cdm_worker')/Attributes(LogicalName='cdm_gender')/Microsoft.Dynamics.CRM.DateTimeAttributeMetadata",
    );
    expect(mismatch.status).toBe(404);
    const entity = await get(
      "EntityDefinitions(LogicalName='cdm_worker')?$select=CanChangeTrackingBeEnabled,IsCustomizable,DisplayName",
    );
    expect(entity.body.CanChangeTrackingBeEnabled).toEqual({
      Value: true,
      CanBeChanged: true,
      ManagedPropertyLogicalName: 'canchangetrackingbeenabled',
    });
    expect(entity.body.DisplayName).toMatchObject({ UserLocalizedLabel: { LanguageCode: 1033 } });
  });

  it('runs a $batch shaped as in "Execute batch operations": relative URLs, a change set with Content-IDs, a GET', async () => {
    const [a, b] = tenant.truth.workers;
    if (!a || !b) throw new Error('two workers needed');
    const body = [
      '--batch_AAA123',
      'Content-Type: multipart/mixed; boundary="changeset_BBB456"',
      '',
      '--changeset_BBB456',
      'Content-Type: application/http',
      'Content-Transfer-Encoding: binary',
      'Content-ID: 1',
      '',
      `PATCH /api/data/v9.2/cdm_workers(${a.cdm_workerid}) HTTP/1.1`,
      'Content-Type: application/json; type=entry',
      '',
      '{"cdm_lastname":"Batched"}',
      '--changeset_BBB456',
      'Content-Type: application/http',
      'Content-Transfer-Encoding: binary',
      'Content-ID: 2',
      '',
      `PATCH ${root}cdm_workers(${b.cdm_workerid}) HTTP/1.1`,
      'Content-Type: application/json; type=entry',
      '',
      '{"cdm_lastname":"Batched too"}',
      '--changeset_BBB456--',
      '',
      '--batch_AAA123',
      'Content-Type: application/http',
      'Content-Transfer-Encoding: binary',
      '',
      `GET cdm_workers(${a.cdm_workerid})?$select=cdm_lastname HTTP/1.1`,
      '',
      '',
      '--batch_AAA123--',
      '',
    ].join('\r\n');
    const response = await post('$batch', body, {
      'content-type': 'multipart/mixed; boundary="batch_AAA123"',
    });
    expect(response.status).toBe(200);
    const boundary = /boundary=(batchresponse_[0-9a-f-]+)/.exec(
      String(response.headers['content-type']),
    )?.[1];
    expect(boundary).toBeDefined();
    expect(
      response.text.startsWith(`--${boundary}\r\nContent-Type: multipart/mixed; boundary=changesetresponse_`),
    ).toBe(true);
    expect(response.text).toContain('Content-ID: 1\r\n\r\nHTTP/1.1 204 No Content');
    expect(response.text).toContain(`OData-EntityId: ${root}cdm_workers(${a.cdm_workerid})`);
    expect(response.text).toContain('"cdm_lastname":"Batched"');
    expect(response.text.trimEnd().endsWith(`--${boundary}--`)).toBe(true);
    expect(tenant.truth.workers.find((row) => row.cdm_workerid === b.cdm_workerid)?.cdm_lastname).toBe(
      'Batched too',
    );
  });

  it('stops a batch at the first error unless odata.continue-on-error, and rolls back a failed change set', async () => {
    const [, , c] = tenant.truth.workers;
    if (!c) throw new Error('three workers needed');
    const before = c.cdm_lastname;
    const part = (method: string, url: string, json?: string) =>
      [
        'Content-Type: application/http',
        'Content-Transfer-Encoding: binary',
        '',
        `${method} ${url} HTTP/1.1`,
        ...(json ? ['Content-Type: application/json', '', json] : ['', '']),
      ].join('\r\n');
    const body = [
      '--batch_X',
      'Content-Type: multipart/mixed; boundary=changeset_Y',
      '',
      '--changeset_Y',
      part('PATCH', `cdm_workers(${c.cdm_workerid})`, '{"cdm_lastname":"Rolled back"}'),
      '--changeset_Y',
      part('PATCH', `cdm_workers(${c.cdm_workerid})`, '{"not_a_column":1}'),
      '--changeset_Y--',
      '--batch_X',
      part('GET', 'cdm_workers/$count'),
      '--batch_X--',
      '',
    ].join('\r\n');
    const stopped = await post('$batch', body, { 'content-type': 'multipart/mixed;boundary=batch_X' });
    expect(stopped.status).toBe(400);
    expect(stopped.text).toContain('"code":"0x0"');
    expect(stopped.text).not.toContain('text/plain');
    expect(tenant.truth.workers.find((row) => row.cdm_workerid === c.cdm_workerid)?.cdm_lastname).toBe(
      before,
    );
    const continued = await post('$batch', body, {
      'content-type': 'multipart/mixed;boundary=batch_X',
      prefer: 'odata.continue-on-error',
    });
    expect(continued.status).toBe(200);
    expect(continued.text).toContain('HTTP/1.1 400 Bad Request');
    expect(continued.text).toMatch(
      /HTTP\/1\.1 200 OK\r\nContent-Type: text\/plain; charset=utf-8\r\nOData-Version: 4\.0\r\n\r\n\d+/,
    );
  });

  it('creates with @odata.bind and Prefer: return=representation, and the row shows in the next delta', async () => {
    // A position bound to its department: cdm_jobposition's department lookup is a published column.
    const department = tenant.truth.departments[0];
    if (!department) throw new Error('no department');
    const tracked = await get('cdm_jobpositions?$select=cdm_jobpositionnumber', {
      prefer: 'odata.track-changes',
    });
    const created = await request(
      `${root}cdm_jobpositions?$select=cdm_jobpositionnumber,_cdm_departmentid_value`,
      {
        method: 'POST',
        dispatcher: agent,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          prefer: 'return=representation',
        },
        body: JSON.stringify({
          cdm_jobpositionnumber: 'Made Through The Web API',
          'cdm_DepartmentId@odata.bind': `/cdm_departments(${department.cdm_departmentid})`,
        }),
      },
    );
    expect(created.statusCode).toBe(201);
    const row = (await created.body.json()) as Record<string, unknown>;
    expect(row).toMatchObject({
      cdm_jobpositionnumber: 'Made Through The Web API',
      _cdm_departmentid_value: department.cdm_departmentid,
    });
    expect(String(created.headers['odata-entityid'])).toBe(
      `${root}cdm_jobpositions(${String(row.cdm_jobpositionid)})`,
    );
    const delta = await getJson<{ value: Array<Record<string, unknown>> }>(
      agent,
      String(tracked.body['@odata.deltaLink']),
      { authorization: `Bearer ${token}`, prefer: 'odata.track-changes' },
    );
    expect(delta.body.value.map((entry) => entry.cdm_jobpositionnumber)).toContain(
      'Made Through The Web API',
    );
    const unbound = await post('cdm_departments', JSON.stringify({ 'cdm_NoSuchNav@odata.bind': '/x(1)' }), {
      'content-type': 'application/json',
    });
    expect(unbound.status).toBe(400);
  });

  it('filters attribute definitions by AttributeTypeCode, and serves the F&O service document and /$count', async () => {
    const picklists = await get(
      "EntityDefinitions(LogicalName='cdm_worker')/Attributes?$select=LogicalName&$filter=AttributeType eq Microsoft.Dynamics.CRM.AttributeTypeCode'Picklist'",
    );
    expect(picklists.status).toBe(200);
    expect(picklists.body.value.map((attribute) => attribute.LogicalName)).toContain('cdm_gender');
    expect(
      picklists.body.value.every(
        (attribute) => attribute['@odata.type'] === '#Microsoft.Dynamics.CRM.PicklistAttributeMetadata',
      ),
    ).toBe(true);
    const fnoToken = await fetchToken(agent, tenant, tenant.fnoUrl);
    const service = await getJson<{ value: Array<{ name: string; kind: string }> }>(
      agent,
      `${tenant.fnoUrl}/data/`,
      {
        authorization: `Bearer ${fnoToken}`,
      },
    );
    expect(service.body.value).toContainEqual({ name: 'Workers', kind: 'EntitySet', url: 'Workers' });
    const count = await request(`${tenant.fnoUrl}/data/Workers/$count?cross-company=true`, {
      dispatcher: agent,
      headers: { authorization: `Bearer ${fnoToken}` },
    });
    expect(await count.body.text()).toBe(String(tenant.truth.fnoWorkers.length));
  });

  it('answers conditional requests: 304 for an unchanged ETag, upsert limits and optimistic concurrency', async () => {
    const [row] = tenant.truth.workers.slice(-1);
    if (!row) throw new Error('no worker');
    const path = `cdm_workers(${row.cdm_workerid})?$select=cdm_lastname`;
    const first = await get(path);
    const etag = String(first.headers.etag);
    expect(etag).toBe(first.body['@odata.etag']);
    const notModified = await request(`${root}${path}`, {
      dispatcher: agent,
      headers: { authorization: `Bearer ${token}`, 'if-none-match': etag },
    });
    await notModified.body.text();
    expect(notModified.statusCode).toBe(304);
    const patch = async (
      id: string,
      headers: Record<string, string>,
      body = '{"cdm_lastname":"Conditional"}',
    ) => {
      const response = await request(`${root}cdm_workers(${id})`, {
        method: 'PATCH',
        dispatcher: agent,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
        body,
      });
      return { status: response.statusCode, text: await response.body.text() };
    };
    const stale = await patch(row.cdm_workerid, { 'if-match': 'W/"1"' });
    expect(stale.status).toBe(412);
    expect(stale.text).toContain("doesn't match the RowVersion property provided");
    expect((await patch(row.cdm_workerid, { 'if-none-match': '*' })).status).toBe(412);
    expect((await patch(row.cdm_workerid, { 'if-match': etag })).status).toBe(204);
    const missing = '00000000-0000-4000-8000-00000000abcd';
    expect((await patch(missing, { 'if-match': '*' })).status).toBe(404);
    // Without If-Match a PATCH of a missing row is an upsert: the row is created under that id.
    expect((await patch(missing, {})).status).toBe(204);
    expect((await get(`cdm_workers(${missing})?$select=cdm_lastname`)).body.cdm_lastname).toBe('Conditional');
  });

  it('answers on v9.0 and v9.1 with links on the same version', async () => {
    const older = await getJson<{ '@odata.context': string; '@odata.nextLink': string }>(
      agent,
      `${tenant.dataverseUrl}/api/data/v9.1/cdm_workers?$select=cdm_workerid`,
      { authorization: `Bearer ${token}`, prefer: 'odata.maxpagesize=5' },
    );
    expect(older.status).toBe(200);
    expect(older.body['@odata.context']).toBe(
      `${tenant.dataverseUrl}/api/data/v9.1/$metadata#cdm_workers(cdm_workerid)`,
    );
    expect(
      older.body['@odata.nextLink'].startsWith(`${tenant.dataverseUrl}/api/data/v9.1/cdm_workers?`),
    ).toBe(true);
    expect(
      (
        await getJson(agent, `${tenant.dataverseUrl}/api/data/v9.0/WhoAmI`, {
          authorization: `Bearer ${token}`,
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await getJson(agent, `${tenant.dataverseUrl}/api/data/v8.2/WhoAmI`, {
          authorization: `Bearer ${token}`,
        })
      ).status,
    ).toBe(404);
  });

  it('answers FetchXML with filters and Microsoft-shaped paging cookies, and refuses what it does not read', async () => {
    const fetch = (xml: string, headers: Record<string, string> = {}) =>
      get(`cdm_workers?fetchXml=${encodeURIComponent(xml)}`, headers);
    const annotations = {
      prefer:
        'odata.include-annotations="Microsoft.Dynamics.CRM.fetchxmlpagingcookie,Microsoft.Dynamics.CRM.morerecords"',
    };
    const query = (page: number) =>
      `<fetch count='3' page='${page}'><entity name='cdm_worker'><attribute name='cdm_lastname' /><order attribute='cdm_lastname' descending='true' /></entity></fetch>`;
    const first = await fetch(query(1), annotations);
    expect(first.status).toBe(200);
    expect(first.body.value).toHaveLength(3);
    expect(first.body['@Microsoft.Dynamics.CRM.morerecords']).toBe(true);
    const cookie = String(first.body['@Microsoft.Dynamics.CRM.fetchxmlpagingcookie']);
    expect(cookie).toMatch(
      /^<cookie pagenumber="2" pagingcookie="%253ccookie%2520page%253d%25221%2522%253e%253ccdm_lastname%2520last%253d/,
    );
    const inner = decodeURIComponent(decodeURIComponent(/pagingcookie="([^"]*)"/.exec(cookie)?.[1] ?? ''));
    const [a, , c] = first.body.value;
    expect(inner).toBe(
      `<cookie page="1"><cdm_lastname last="${String(c?.cdm_lastname)}" first="${String(a?.cdm_lastname)}" /><cdm_workerid last="{${String(c?.cdm_workerid).toUpperCase()}}" first="{${String(a?.cdm_workerid).toUpperCase()}}" /></cookie>`,
    );
    const names = tenant.truth.workers
      .map((row) => row.cdm_lastname.toLowerCase())
      .sort()
      .reverse();
    expect(first.body.value.map((row) => String(row.cdm_lastname).toLowerCase())).toEqual(names.slice(0, 3));
    const lastPage = Math.ceil(tenant.truth.workers.length / 3);
    const final = await fetch(query(lastPage), annotations);
    expect(final.body).not.toHaveProperty('@Microsoft.Dynamics.CRM.morerecords');
    expect(final.body).not.toHaveProperty('@Microsoft.Dynamics.CRM.fetchxmlpagingcookie');
    const plain = await fetch(query(1));
    expect(plain.body).not.toHaveProperty('@Microsoft.Dynamics.CRM.fetchxmlpagingcookie');

    const [x, y] = tenant.truth.workers;
    const filtered = await fetch(
      `<fetch><entity name='cdm_worker'><attribute name='cdm_workerid' /><filter type='or'><condition attribute='cdm_workerid' operator='in'><value>{${String(x?.cdm_workerid).toUpperCase()}}</value><value>${String(y?.cdm_workerid)}</value></condition><condition attribute='cdm_lastname' operator='like' value='%zzz-no-such%' /></filter></entity></fetch>`,
    );
    expect(filtered.status).toBe(200);
    expect(filtered.body.value.map((row) => row.cdm_workerid).sort()).toEqual(
      [x?.cdm_workerid, y?.cdm_workerid].sort(),
    );
    const linked = await fetch(
      "<fetch><entity name='cdm_worker'><link-entity name='cdm_employment' from='cdm_workerid' to='cdm_workerid' /></entity></fetch>",
    );
    expect(linked.status).toBe(400);
    expect(JSON.stringify(linked.body)).toContain('link-entity');
  });

  it('aggregates with $apply as "Aggregate data using OData" shows, and refuses what Microsoft says it refuses', async () => {
    const positions = tenant.truth.positions;
    // Nulls take no part in a sum or an average.
    const fte = positions
      .map((row) => row.cdm_fulltimeequivalent)
      .filter((value) => value !== null && value !== undefined)
      .map(Number);
    const totals = await get(
      'cdm_jobpositions?$apply=aggregate(cdm_fulltimeequivalent with sum as total,cdm_fulltimeequivalent with average as mean,createdon with max as lastCreate,cdm_jobpositionid with countdistinct as distinct)',
    );
    expect(totals.status).toBe(200);
    expect(totals.body['@odata.context']).toBe(`${root}$metadata#cdm_jobpositions`);
    const [aggregate] = totals.body.value;
    expect(aggregate?.total).toBeCloseTo(
      fte.reduce((sum, value) => sum + value, 0),
      6,
    );
    expect(aggregate?.mean).toBeCloseTo(fte.reduce((sum, value) => sum + value, 0) / fte.length, 6);
    expect(aggregate?.lastCreate).toBe(
      positions
        .map((row) => row.createdon)
        .sort()
        .at(-1),
    );
    expect(aggregate?.distinct).toBe(positions.length);

    // filter() then groupby with $count; groups sorted by their values, nulls left out of a group's row.
    const active = await get(
      'cdm_workers?$apply=filter(statecode eq 0)/groupby((statecode,cdm_gender),aggregate($count as count))',
    );
    expect(active.status).toBe(200);
    const expected = new Map<string, number>();
    for (const row of tenant.truth.workers.filter((worker) => worker.statecode === 0)) {
      const key = String(row.cdm_gender);
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    expect(active.body.value.reduce((sum, row) => sum + Number(row.count), 0)).toBe(
      [...expected.values()].reduce((sum, count) => sum + count, 0),
    );
    for (const row of active.body.value) {
      expect(row.statecode).toBe(0);
      expect(row.count).toBe(expected.get(String(row.cdm_gender ?? null)));
    }
    const genders = active.body.value.map((row) => Number(row.cdm_gender ?? -1));
    expect(genders).toEqual([...genders].sort((a, b) => a - b));

    const descending = await get('cdm_workers?$apply=groupby((cdm_gender))&$orderby=cdm_gender desc');
    const codes = descending.body.value.map((row) => Number(row.cdm_gender ?? -1));
    expect(codes).toEqual([...codes].sort((a, b) => b - a));

    const byAlias = await get(
      'cdm_workers?$apply=groupby((cdm_gender),aggregate($count as count))&$orderby=count desc',
    );
    expect(byAlias.status).toBe(400);
    expect(byAlias.body).toEqual({
      error: {
        code: '0x80060888',
        message: 'The query node SingleValueOpenPropertyAccess is not supported.',
      },
    });
    const byDate = await get('cdm_workers?$apply=groupby((createdon))');
    expect(byDate.status).toBe(400);
    expect(JSON.stringify(byDate.body)).toContain('groupby with datetime values is not supported');
    const unknown = await get('cdm_workers?$apply=groupby((no_such_column))');
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body)).toContain("'no_such_column'");
    const unsupported = await get('cdm_workers?$apply=topcount(2,cdm_gender)');
    expect(unsupported.status).toBe(400);
    expect(JSON.stringify(unsupported.body)).toContain('topcount');
  });

  it('takes the headers Microsoft tells every client to send, and answers minimal JSON for any odata.metadata', async () => {
    // "Compose HTTP requests and handle errors": Accept, OData-MaxVersion, OData-Version and If-None-Match: null.
    const headers = {
      accept: 'application/json',
      'odata-maxversion': '4.0',
      'odata-version': '4.0',
      'if-none-match': 'null',
    };
    const [worker] = tenant.truth.workers;
    const single = await get(`cdm_workers(${worker?.cdm_workerid})?$select=cdm_lastname`, headers);
    expect(single.status).toBe(200);
    expect(single.headers['odata-version']).toBe('4.0');
    expect(single.headers['content-type']).toBe(
      'application/json; odata.metadata=minimal; odata.streaming=true',
    );
    for (const accept of ['none', 'minimal', 'full']) {
      const page = await get('cdm_workers?$select=cdm_lastname&$top=1', {
        ...headers,
        accept: `application/json;odata.metadata=${accept}`,
      });
      expect(page.status).toBe(200);
      expect(page.body['@odata.context']).toBe(`${root}$metadata#cdm_workers(cdm_lastname)`);
      expect(page.body.value[0]?.['@odata.etag']).toMatch(/^W\/"\d+"$/);
    }
    // An update with If-None-Match: null is an ordinary update (only '*' refuses it).
    const updated = await request(`${root}cdm_workers(${worker?.cdm_workerid})`, {
      method: 'PATCH',
      dispatcher: agent,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ cdm_middlename: 'Null Header' }),
    });
    expect(updated.statusCode).toBe(204);
    await updated.body.dump();
  });

  it('reads, sets and empties one property, and sets and clears a lookup by $ref, as Learn shows', async () => {
    const [worker, manager] = tenant.truth.workers;
    if (!worker || !manager) throw new Error('needs two workers');
    const send = async (method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown) => {
      const response = await request(`${root}${path}`, {
        method,
        dispatcher: agent,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.body.text();
      return { status: response.statusCode, body: text ? JSON.parse(text) : undefined };
    };
    const row = `cdm_workers(${worker.cdm_workerid})`;

    const read = await send('GET', `${row}/cdm_lastname`);
    expect(read).toEqual({
      status: 200,
      body: {
        '@odata.context': `${root}$metadata#cdm_workers(${worker.cdm_workerid})/cdm_lastname`,
        value: worker.cdm_lastname,
      },
    });
    expect((await send('PUT', `${row}/cdm_middlename`, { value: 'Put Alone' })).status).toBe(204);
    expect((await send('GET', `${row}/cdm_middlename`)).body.value).toBe('Put Alone');
    expect((await send('DELETE', `${row}/cdm_middlename`)).status).toBe(204);
    expect((await send('GET', `${row}/cdm_middlename`)).status).toBe(204);

    const reference = `${root}cdm_workers(${manager.cdm_workerid})`;
    expect((await send('PUT', `${row}/cdm_ManagerWorkerId/$ref`, { '@odata.id': reference })).status).toBe(
      204,
    );
    expect((await send('GET', `${row}/_cdm_managerworkerid_value`)).body.value).toBe(manager.cdm_workerid);
    const related = await send('GET', `${row}/cdm_ManagerWorkerId?$select=cdm_lastname`);
    expect(related.body).toMatchObject({
      '@odata.context': `${root}$metadata#cdm_workers(cdm_lastname)/$entity`,
      cdm_workerid: manager.cdm_workerid,
      cdm_lastname: manager.cdm_lastname,
    });
    expect((await send('DELETE', `${row}/cdm_ManagerWorkerId/$ref`)).status).toBe(204);
    expect((await send('GET', `${row}/_cdm_managerworkerid_value`)).status).toBe(204);

    // Each write is a new row version, so change tracking sees it; unknown segments are 404 as elsewhere.
    expect(
      tenant.truth.workers.find((candidate) => candidate.cdm_workerid === worker.cdm_workerid)?.versionnumber,
    ).toBeGreaterThan(worker.versionnumber);
    const unknown = await send('GET', `${row}/no_such_column`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('0x8006088a');
    expect((await send('PUT', `${row}/cdm_ManagerWorkerId/$ref`, {})).status).toBe(400);
  });

  it('evaluates Dataverse query functions and parameter aliases as "Filter rows using OData" shows them', async () => {
    const ids = (response: { body: { value: Array<Record<string, unknown>> } }) =>
      response.body.value.map((row) => row.cdm_workerid).sort();
    const truthIds = (keep: (row: (typeof tenant.truth.workers)[number]) => boolean) =>
      tenant.truth.workers
        .filter(keep)
        .map((row) => row.cdm_workerid)
        .sort();
    const filter = (text: string, extra = '') =>
      get(`cdm_workers?$select=cdm_workerid&$filter=${encodeURIComponent(text)}${extra}`);

    const inGenders = await filter(
      "Microsoft.Dynamics.CRM.In(PropertyName='cdm_gender',PropertyValues=['754400000','754400001'])",
    );
    expect(inGenders.status).toBe(200);
    expect(ids(inGenders)).toEqual(
      truthIds((row) => row.cdm_gender === 754400000 || row.cdm_gender === 754400001),
    );
    const notIn = await filter(
      'Microsoft.Dynamics.CRM.NotIn(PropertyName=\'cdm_gender\',PropertyValues=["754400000"])',
    );
    expect(ids(notIn)).toEqual(truthIds((row) => row.cdm_gender !== 754400000));
    const between = await filter(
      'Microsoft.Dynamics.CRM.Between(PropertyName=\'cdm_birthdate\',PropertyValues=["1980-01-01","1989-12-31"]) and statecode eq 0',
    );
    expect(ids(between)).toEqual(
      truthIds(
        (row) =>
          row.statecode === 0 &&
          row.cdm_birthdate !== null &&
          row.cdm_birthdate >= '1980-01-01' &&
          row.cdm_birthdate <= '1989-12-31',
      ),
    );

    // Learn's alias example: names with an apostrophe go in double quotes.
    const [first, second] = tenant.truth.workers;
    const aliased = await filter(
      'Microsoft.Dynamics.CRM.In(PropertyName=@p1,PropertyValues=@p2)',
      `&@p1='cdm_lastname'&@p2=${encodeURIComponent(JSON.stringify([first?.cdm_lastname, second?.cdm_lastname, "O'Brian"]))}`,
    );
    expect(aliased.status).toBe(200);
    expect(ids(aliased)).toEqual(
      truthIds(
        (row) => row.cdm_lastname === first?.cdm_lastname || row.cdm_lastname === second?.cdm_lastname,
      ),
    );
    const lastNameAlias = await filter(
      'cdm_lastname eq @name',
      `&@name=${encodeURIComponent(`'${first?.cdm_lastname}'`)}`,
    );
    expect(ids(lastNameAlias)).toEqual(truthIds((row) => row.cdm_lastname === first?.cdm_lastname));

    // Date functions against the rows' modifiedon: a row changed now is in the last day, not older than one.
    const [changed] = sandbox.controls.updateRecords('cdm_workers', { count: 1 });
    const recent = await filter(
      "Microsoft.Dynamics.CRM.LastXDays(PropertyName='modifiedon',PropertyValue=1)",
    );
    expect(ids(recent)).toContain(changed);
    const today = await filter("Microsoft.Dynamics.CRM.Today(PropertyName='modifiedon')");
    expect(ids(today)).toContain(changed);
    const older = await filter(
      "Microsoft.Dynamics.CRM.OlderThanXDays(PropertyName='modifiedon',PropertyValue=1)",
    );
    expect(ids(older)).not.toContain(changed);
    // LastXDays starts at yesterday's midnight, OlderThanXDays ends 24 hours ago: together they hold every row.
    expect([...new Set([...ids(recent), ...ids(older)])].sort()).toEqual(truthIds(() => true));

    // Column comparison ("Filter rows using OData"): two columns of one row, same type.
    const [twin] = sandbox.controls.updateRecords(
      'cdm_workers',
      { count: 1 },
      { cdm_firstname: 'Morgan', cdm_lastname: 'MORGAN' },
    );
    const sameName = await filter('cdm_firstname eq cdm_lastname');
    expect(ids(sameName)).toContain(twin);
    expect(ids(sameName)).toEqual(
      truthIds(
        (row) =>
          row.cdm_firstname !== null && row.cdm_firstname.toLowerCase() === row.cdm_lastname?.toLowerCase(),
      ),
    );
    const ordered = await filter('createdon le modifiedon');
    expect(ids(ordered)).toEqual(truthIds((row) => row.createdon <= row.modifiedon));
    const mixed = await filter('cdm_lastname eq cdm_gender');
    expect(mixed.status).toBe(400);
    expect(JSON.stringify(mixed.body)).toContain('incompatible types');

    // A lookup's column ("Filter using lookup column property values"): employments of one worker by name.
    const worker = tenant.truth.workers.find(
      (row) => row.cdm_lastname !== null,
    ) as (typeof tenant.truth.workers)[number];
    const byWorker = await get(
      `cdm_employments?$select=cdm_employmentid,_cdm_workerid_value&$filter=${encodeURIComponent(`cdm_WorkerId/cdm_lastname eq '${String(worker.cdm_lastname).replaceAll("'", "''")}'`)}`,
    );
    expect(byWorker.status).toBe(200);
    const namesakes = new Set(
      tenant.truth.workers
        .filter((row) => row.cdm_lastname === worker.cdm_lastname)
        .map((row) => row.cdm_workerid),
    );
    expect(byWorker.body.value.map((row) => row.cdm_employmentid).sort()).toEqual(
      tenant.truth.employments
        .filter((row) => namesakes.has(row._cdm_workerid_value as string))
        .map((row) => row.cdm_employmentid)
        .sort(),
    );
    expect(byWorker.body.value.length).toBeGreaterThan(0);
    const deep = await get(
      `cdm_employments?$filter=${encodeURIComponent("cdm_WorkerId/cdm_ManagerWorkerId/cdm_lastname eq 'x'")}`,
    );
    expect(deep.status).toBe(400);

    const fiscal = await filter("Microsoft.Dynamics.CRM.ThisFiscalYear(PropertyName='modifiedon')");
    expect(fiscal.status).toBe(400);
    expect(JSON.stringify(fiscal.body)).toContain('Microsoft.Dynamics.CRM.ThisFiscalYear');
    const missingAlias = await filter('cdm_lastname eq @nothing');
    expect(missingAlias.status).toBe(400);
    expect(JSON.stringify(missingAlias.body)).toContain('@nothing');
  });

  it('expands a lookup within an expanded lookup, and expands a lookup to its reference ($ref)', async () => {
    const managed = tenant.truth.workers.find((row) => row._cdm_managerworkerid_value !== null);
    const employment = tenant.truth.employments.find(
      (row) => row._cdm_workerid_value === managed?.cdm_workerid,
    );
    if (!managed || !employment) throw new Error('needs an employed worker with a manager');
    const manager = tenant.truth.workers.find(
      (row) => row.cdm_workerid === managed._cdm_managerworkerid_value,
    );

    const nested = await get(
      `cdm_employments(${employment.cdm_employmentid})?$select=cdm_employmentid&$expand=cdm_WorkerId($select=cdm_lastname;$expand=cdm_ManagerWorkerId($select=cdm_lastname))`,
    );
    expect(nested.status).toBe(200);
    expect(nested.body['@odata.context']).toBe(
      `${root}$metadata#cdm_employments(cdm_employmentid,cdm_WorkerId(cdm_lastname,cdm_ManagerWorkerId(cdm_lastname)))/$entity`,
    );
    expect(nested.body.cdm_WorkerId).toMatchObject({
      cdm_lastname: managed.cdm_lastname,
      cdm_ManagerWorkerId: { cdm_workerid: manager?.cdm_workerid, cdm_lastname: manager?.cdm_lastname },
    });

    const reference = await get(
      `cdm_employments(${employment.cdm_employmentid})?$select=cdm_employmentid&$expand=cdm_WorkerId/$ref`,
    );
    expect(reference.status).toBe(200);
    expect(reference.body['@odata.context']).toBe(
      `${root}$metadata#cdm_employments(cdm_employmentid,cdm_WorkerId)/$entity`,
    );
    expect(reference.body._cdm_workerid_value).toBe(managed.cdm_workerid);
    expect(reference.body.cdm_WorkerId).toEqual({
      '@odata.id': `${root}cdm_workers(${managed.cdm_workerid})`,
    });

    const filtered = await get(
      `cdm_employments?$select=cdm_employmentid&$expand=cdm_WorkerId($select=cdm_lastname;$filter=statecode eq 0)`,
    );
    expect(filtered.status).toBe(400);
    expect(JSON.stringify(filtered.body)).toContain('$filter=statecode eq 0');
  });
});
