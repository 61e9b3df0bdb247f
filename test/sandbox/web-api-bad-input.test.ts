import type { Agent } from 'undici';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.js';
import { fetchToken, startTestSandbox } from './helpers.js';

/**
 * Malformed requests to the parts of the Web API that clients we did not write reach ($apply, Dataverse
 * query functions and aliases, one property or reference of a row): each is answered with a 4xx and
 * Dataverse's `{"error":{"code","message"}}` naming what is wrong, never a 5xx or a silent 200.
 */
let sandbox: Sandbox;
let agent: Agent;
let token: string;
let root: string;
let row: string;

beforeAll(async () => {
  ({ sandbox, agent } = await startTestSandbox({ workers: 20 }));
  const tenant = sandbox.defaultTenant;
  token = await fetchToken(agent, tenant, tenant.dataverseUrl);
  root = `${tenant.dataverseUrl}/api/data/v9.2/`;
  row = `cdm_workers(${tenant.truth.workers[0]?.cdm_workerid})`;
});
afterAll(async () => {
  await agent.close();
  await sandbox.close();
});

type Case = [
  method: 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE',
  /** `{row}` stands for one worker's URL. */
  path: string,
  body: string | undefined,
  mentions: string,
];

const cases: Case[] = [
  ['GET', 'cdm_workers?$apply=', undefined, '$apply'],
  ['GET', 'cdm_workers?$apply=groupby(', undefined, 'groupby('],
  ['GET', 'cdm_workers?$apply=groupby(())', undefined, 'groupby'],
  ['GET', 'cdm_workers?$apply=aggregate()', undefined, 'aggregate'],
  ['GET', 'cdm_workers?$apply=aggregate(cdm_lastname with sum as x)', undefined, 'cdm_lastname'],
  ['GET', 'cdm_workers?$apply=aggregate(cdm_gender with median as x)', undefined, 'median'],
  [
    'GET',
    'cdm_workers?$apply=groupby((cdm_gender))/filter(statecode eq 0)',
    undefined,
    'last transformation',
  ],
  ['GET', 'cdm_workers?$apply=groupby((cdm_gender))&$orderby=cdm_gender%20sideways', undefined, 'sideways'],
  ['GET', 'cdm_workers?$apply=groupby((cdm_gender))&$orderby=cdm_lastname', undefined, 'cdm_lastname'],
  ['GET', 'cdm_workers?$apply=aggregate($count%20as%20c)&$select=cdm_lastname', undefined, '$select'],
  ['GET', 'cdm_workers?$filter=Microsoft.Dynamics.CRM.In(', undefined, 'Microsoft.Dynamics.CRM.In'],
  [
    'GET',
    "cdm_workers?$filter=Microsoft.Dynamics.CRM.In(PropertyName='nope',PropertyValues=['1'])",
    undefined,
    'nope',
  ],
  [
    'GET',
    "cdm_workers?$filter=Microsoft.Dynamics.CRM.In(PropertyName='cdm_gender')",
    undefined,
    'PropertyValues',
  ],
  [
    'GET',
    "cdm_workers?$filter=Microsoft.Dynamics.CRM.In(PropertyName='cdm_gender',PropertyValues=['a'])",
    undefined,
    "'a'",
  ],
  [
    'GET',
    "cdm_workers?$filter=Microsoft.Dynamics.CRM.On(PropertyName='modifiedon',PropertyValue='x')",
    undefined,
    'date',
  ],
  [
    'GET',
    "cdm_workers?$filter=Microsoft.Dynamics.CRM.LastXDays(PropertyName='modifiedon',PropertyValue=-1)",
    undefined,
    'PropertyValue',
  ],
  [
    'GET',
    "cdm_workers?$filter=Microsoft.Dynamics.CRM.Between(PropertyName='cdm_gender',PropertyValues=['1'])",
    undefined,
    'two',
  ],
  ['GET', 'cdm_workers?$filter=cdm_lastname%20eq%20@missing', undefined, '@missing'],
  ['GET', 'cdm_workers?$filter=Microsoft.Dynamics.CRM.', undefined, 'Microsoft.Dynamics.CRM.'],
  ['GET', 'cdm_employments?$expand=cdm_WorkerId($top=1)', undefined, '$top=1'],
  ['GET', 'cdm_employments?$expand=cdm_WorkerId($select=nope)', undefined, 'nope'],
  ['GET', 'cdm_employments?$expand=cdm_Nowhere/$ref', undefined, 'cdm_Nowhere'],
  ['GET', 'cdm_employments?$filter=cdm_WorkerId/nope%20eq%201', undefined, 'cdm_WorkerId/nope'],
  ['GET', '{row}/no_such_column', undefined, 'no_such_column'],
  ['GET', '{row}/cdm_lastname/extra', undefined, 'extra'],
  ['PUT', '{row}/cdm_lastname', 'not json', 'JSON'],
  ['PUT', '{row}/cdm_lastname', '{}', 'value'],
  ['PUT', '{row}/cdm_gender', '{"value":"text"}', 'Edm.Int32'],
  ['PUT', '{row}/cdm_birthdate', '{"value":{"a":1}}', 'Edm.Date'],
  ['PUT', '{row}/cdm_workerid', '{"value":"x"}', 'cdm_workerid'],
  ['PUT', '{row}/cdm_ManagerWorkerId/$ref', '{"@odata.id":"nonsense"}', 'nonsense'],
  ['PATCH', '{row}', '{"cdm_gender":"text"}', 'cdm_gender'],
  ['PATCH', '{row}', '{"modifiedon":"2020-01-01T00:00:00Z"}', 'modifiedon'],
  ['POST', '{row}/cdm_lastname', '{}', 'method'],
  ['DELETE', 'cdm_workers(00000000-0000-0000-0000-000000000000)/cdm_lastname', undefined, '00000000'],
];

describe('bad input to the Web API surface', () => {
  it.each(cases.map((testCase) => [`${testCase[0]} ${testCase[1]}`, testCase] as const))(
    '%s is a 4xx naming the problem',
    async (_name, [method, path, body, mentions]) => {
      const response = await request(`${root}${path.replace('{row}', row)}`, {
        method,
        dispatcher: agent,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body,
      });
      const parsed = JSON.parse(await response.body.text()) as { error: { code: string; message: string } };
      expect(response.statusCode).toBeGreaterThanOrEqual(400);
      expect(response.statusCode).toBeLessThan(500);
      expect(typeof parsed.error.code).toBe('string');
      expect(parsed.error.message).toContain(mentions);
    },
  );

  it('refuses an aggregate over more than 50,000 rows with AggregateQueryRecordLimit, and takes a filtered one', async () => {
    const created = sandbox.controls.createRecords('cdm_jobs', 50_001);
    const over = await request(`${root}cdm_jobs?$apply=aggregate($count%20as%20c)`, {
      dispatcher: agent,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(over.statusCode).toBe(400);
    expect(JSON.parse(await over.body.text())).toEqual({
      error: {
        code: '0x8004e023',
        message: 'AggregateQueryRecordLimit exceeded. Cannot perform this operation.',
      },
    });
    const filtered = await request(
      `${root}cdm_jobs?$apply=${encodeURIComponent(`filter(cdm_jobid eq ${created[0]})/aggregate($count as c)`)}`,
      { dispatcher: agent, headers: { authorization: `Bearer ${token}` } },
    );
    expect(filtered.statusCode).toBe(200);
    expect((JSON.parse(await filtered.body.text()) as { value: unknown[] }).value).toEqual([{ c: 1 }]);
  });
});
