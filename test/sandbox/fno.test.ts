import { setTimeout as delay } from 'node:timers/promises';
import type { Agent } from 'undici';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import type { Sandbox, SandboxTenant } from '../../src/sandbox/index.js';
import { fetchToken, getJson, postJson, startTestSandbox } from './helpers.js';

let sandbox: Sandbox;
let agent: Agent;
let tenant: SandboxTenant;
let token: string;
let data: string;

beforeAll(async () => {
  ({ sandbox, agent } = await startTestSandbox({ workers: 200, dmfExportDurationMs: 150 }));
  tenant = sandbox.defaultTenant;
  token = await fetchToken(agent, tenant, tenant.fnoUrl);
  data = `${tenant.fnoUrl}/data`;
});
afterAll(async () => {
  await agent.close();
  await sandbox.close();
});

type Page = { value: Array<Record<string, unknown>>; '@odata.nextLink'?: string; '@odata.context': string };
const get = (url: string, headers: Record<string, string> = {}) =>
  getJson<Page>(agent, url, { authorization: `Bearer ${token}`, ...headers });
const action = (name: string, body: unknown) =>
  postJson<{ '@odata.context': string; value: string }>(
    agent,
    `${data}/DataManagementDefinitionGroups/Microsoft.Dynamics.DataEntities.${name}`,
    body,
    { authorization: `Bearer ${token}` },
  );

async function readZip(buffer: Buffer): Promise<Map<string, Buffer>> {
  const zip = await yauzl.fromBufferPromise(buffer, { lazyEntries: true });
  const entries: yauzl.Entry[] = await new Promise((resolve, reject) => {
    const collected: yauzl.Entry[] = [];
    zip.on('entry', (entry: yauzl.Entry) => {
      collected.push(entry);
      zip.readEntry();
    });
    zip.on('end', () => resolve(collected));
    zip.on('error', reject);
    zip.readEntry();
  });
  const files = new Map<string, Buffer>();
  for (const entry of entries) {
    const stream = await zip.openReadStreamPromise(entry);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    files.set(entry.fileName, Buffer.concat(chunks));
  }
  return files;
}

describe('F&O OData entities', () => {
  it('needs an F&O token (a Dataverse token is refused)', async () => {
    const dataverseToken = await fetchToken(agent, tenant, tenant.dataverseUrl);
    const refused = await getJson(agent, `${data}/Workers`, { authorization: `Bearer ${dataverseToken}` });
    expect(refused.status).toBe(401);
  });

  it('lists entity sets in $metadata', async () => {
    const response = await request(`${data}/$metadata`, {
      dispatcher: agent,
      headers: { authorization: `Bearer ${token}` },
    });
    const xml = await response.body.text();
    for (const name of [
      'Workers',
      'WorkerPersonalContactPersons',
      'WorkerEnrolledBenefits',
      'CoveredDependentRelationships',
      'Employments',
      'Companies',
      'Departments',
      'PositionsV2',
      'PositionHierarchies',
      'BenefitPlans',
    ]) {
      expect(xml).toContain(`<EntitySet Name="${name}"`);
    }
  });

  it('serves dependents with enum values as plain strings and pages with nextLink', async () => {
    const all: Array<Record<string, unknown>> = [];
    let url: string | undefined = `${data}/WorkerPersonalContactPersons`;
    while (url) {
      const { body } = await get(url, { prefer: 'odata.maxpagesize=100' });
      all.push(...body.value);
      url = body['@odata.nextLink'];
    }
    expect(all).toHaveLength(sandbox.truth.dependents.length);
    expect(all[0]).toMatchObject({ IsDependent: expect.stringMatching(/^(Yes|No)$/) });
    expect(all.map((row) => row.ContactPersonPartyNumber)).toEqual(
      sandbox.truth.dependents.map((row) => row.ContactPersonPartyNumber),
    );
  });

  it('filters with enum literals', async () => {
    const { body } = await get(
      `${data}/WorkerPersonalContactPersons?$filter=${encodeURIComponent("Gender eq Microsoft.Dynamics.DataEntities.Gender'Female' and IsFulltimeStudent eq Microsoft.Dynamics.DataEntities.NoYes'Yes'")}`,
    );
    const expected = sandbox.truth.dependents.filter(
      (row) => row.Gender === 'Female' && row.IsFulltimeStudent === 'Yes',
    );
    expect(body.value).toHaveLength(expected.length);
  });

  it('serves shared entities whole, with or without cross-company=true', async () => {
    // The enrolled-benefit entity has no published company relationship (docs/microsoft-wire.md).
    const own = await get(`${data}/WorkerEnrolledBenefits?$count=true`);
    const cross = await get(`${data}/WorkerEnrolledBenefits?cross-company=true&$count=true`);
    for (const answer of [own, cross]) {
      expect((answer.body as unknown as { '@odata.count': number })['@odata.count']).toBe(
        sandbox.truth.enrollments.length,
      );
    }
    expect(own.body.value[0]).not.toHaveProperty('dataAreaId');
  });
});

describe('F&O controls', () => {
  it('creates, updates and deletes dependents, visible through OData', async () => {
    const before = sandbox.truth.dependents.length;
    const created = sandbox.controls.createFnoRecords('WorkerPersonalContactPersons', 2);
    const updated = sandbox.controls.updateFnoRecords(
      'WorkerPersonalContactPersons',
      { count: 1 },
      { ContactLastName: 'Renamed' },
    );
    const deleted = sandbox.controls.deleteFnoRecords('WorkerPersonalContactPersons', { count: 3 });
    expect(created).toHaveLength(2);
    expect(deleted).toHaveLength(3);
    const { body } = await get(`${data}/WorkerPersonalContactPersons?$count=true&$top=1`);
    expect((body as unknown as { '@odata.count': number })['@odata.count']).toBe(before - 1);
    const renamed = await get(`${data}/WorkerPersonalContactPersons?$filter=ContactLastName eq 'Renamed'`);
    expect(
      renamed.body.value.map((row) => `${row.WorkerPersonnelNumber},${row.ContactPersonPartyNumber}`),
    ).toEqual(deleted.includes(updated[0] as string) ? [] : updated);
  });
});

describe('DMF package API (docs/microsoft-wire.md, DMF package API)', () => {
  it('exports asynchronously, Executing → Succeeded, then serves a signed zip', async () => {
    const started = await action('ExportToPackage', {
      definitionGroupId: 'HR export',
      packageName: 'hr.zip',
      executionId: '',
      reExecute: false,
      legalEntityId: 'USMF',
    });
    expect(started.body['@odata.context']).toBe(`${data}/$metadata#Edm.String`);
    const executionId = started.body.value;
    expect((await action('GetExecutionSummaryStatus', { executionId })).body.value).toBe('Executing');
    await delay(200);
    expect((await action('GetExecutionSummaryStatus', { executionId })).body.value).toBe('Succeeded');
    expect((await action('GetExecutionErrors', { executionId })).body.value).toBe('[]');
    const url = (await action('GetExportedPackageUrl', { executionId })).body.value;
    expect(url).toMatch(/[?&]se=.+&sig=/);
    const response = await request(url, { dispatcher: agent });
    expect(response.statusCode).toBe(200);
    const files = await readZip(Buffer.from(await response.body.arrayBuffer()));
    expect([...files.keys()]).toEqual([
      'Manifest.xml',
      'PackageHeader.xml',
      'Worker.csv',
      'Worker personal contact person.csv',
      'Worker enrolled benefit.csv',
      'Covered dependent relationship.csv',
      'Employment.csv',
      'View companies.csv',
      'Department.csv',
      'Positions V2.csv',
      'Position hierarchies.csv',
      'Benefit plan.csv',
    ]);
    expect(files.get('Manifest.xml')?.toString()).toContain('<SourceFormat>CSV-Unicode</SourceFormat>');
    const dependents = files.get('Worker personal contact person.csv') as Buffer;
    expect([...dependents.subarray(0, 2)]).toEqual([0xff, 0xfe]);
    const text = dependents.subarray(2).toString('utf16le');
    expect(text.startsWith('WORKERPERSONNELNUMBER,CONTACTPERSONPARTYNUMBER,')).toBe(true);
    const awkward = sandbox.truth.dependents.find((row) =>
      /[",\n]/.test(row.ContactFirstName + row.ContactLastName),
    );
    if (awkward) {
      const quoted = /[",\n]/.test(awkward.ContactLastName)
        ? awkward.ContactLastName
        : awkward.ContactFirstName;
      expect(text).toContain(`"${quoted.replaceAll('"', '""')}"`);
    }
    const enrollments = files.get('Worker enrolled benefit.csv')?.subarray(2).toString('utf16le') ?? '';
    expect(enrollments.startsWith('PERSONNELNUMBER,BENEFITID,BENEFITPLANID,')).toBe(true);
    expect(enrollments.trimEnd().split('\r\n')).toHaveLength(sandbox.truth.enrollments.length + 1);
  });

  it('writes UTF-8 when the definition group says so', async () => {
    const executionId = (
      await action('ExportToPackage', { definitionGroupId: 'HR export UTF8', packageName: 'w.zip' })
    ).body.value;
    await delay(200);
    const url = (await action('GetExportedPackageUrl', { executionId })).body.value;
    const files = await readZip(
      Buffer.from(await (await request(url, { dispatcher: agent })).body.arrayBuffer()),
    );
    const csv = files.get('Worker.csv')?.toString('utf8') ?? '';
    expect(csv.startsWith('PERSONNELNUMBER,')).toBe(true);
    expect(csv.trimEnd().split('\r\n')).toHaveLength(sandbox.truth.fnoWorkers.length + 1);
  });

  it('refuses a tampered or expired package URL', async () => {
    const executionId = (
      await action('ExportToPackage', { definitionGroupId: 'Export Workers', packageName: 'w.zip' })
    ).body.value;
    await delay(200);
    const url = (await action('GetExportedPackageUrl', { executionId })).body.value;
    const tampered = await request(url.replace(/sig=[^&]+/, 'sig=AAAA'), { dispatcher: agent });
    expect(tampered.statusCode).toBe(403);
    expect(await tampered.body.text()).toContain('<Code>AuthenticationFailed</Code>');
    const expired = await request(
      url.replace(/se=[^&]+/, `se=${encodeURIComponent('2020-01-01T00:00:00Z')}`),
      { dispatcher: agent },
    );
    expect(expired.statusCode).toBe(403);
    await expired.body.text();
  });

  it('ends PartiallySucceeded or Failed on demand, with errors as a JSON string', async () => {
    sandbox.controls.setDmfExportBehaviour({ outcome: 'PartiallySucceeded', durationMs: 0 });
    const partial = (
      await action('ExportToPackage', { definitionGroupId: 'HR export', packageName: 'p.zip' })
    ).body.value;
    expect((await action('GetExecutionSummaryStatus', { executionId: partial })).body.value).toBe(
      'PartiallySucceeded',
    );
    const errors = JSON.parse(
      (await action('GetExecutionErrors', { executionId: partial })).body.value,
    ) as unknown[];
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toEqual({
      RecordId: expect.any(String),
      Field: expect.any(String),
      ErrorMessage: expect.any(String),
    });
    sandbox.controls.setDmfExportBehaviour({ outcome: 'Failed' });
    const failed = (await action('ExportToPackage', { definitionGroupId: 'HR export', packageName: 'f.zip' }))
      .body.value;
    expect((await action('GetExecutionSummaryStatus', { executionId: failed })).body.value).toBe('Failed');
    expect((await action('GetExportedPackageUrl', { executionId: failed })).body.value).toBe('');
    sandbox.controls.setDmfExportBehaviour({ outcome: 'Succeeded', durationMs: 150 });
    expect((await action('GetExecutionSummaryStatus', { executionId: 'nope' })).body.value).toBe('Unknown');
  });
});
