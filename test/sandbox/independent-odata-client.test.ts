import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.js';
import { startTestSandbox } from './helpers.js';

/**
 * Generic OData v4 clients we did not write, unmodified, against the sandbox's Dataverse. @odata/client: $count, $filter with string functions, $orderby on two keys, a row by GUID key,
 * $expand of a lookup, $apply (aggregate and groupby), paging by Prefer odata.maxpagesize and
 * @odata.nextLink, $batch with a change set, and an error body as the library reads it. o.js (the npm
 * package odata): nextLinks it parses and encodes again, /$count as a JSON number, encodeURIComponent'd
 * query options, and a $batch with absolute part URLs parsed by splitting on blank lines. Like
 * independent-client.test.ts each runs in its own Node process trusting the sandbox CA through
 * NODE_EXTRA_CA_CERTS, with a token from MSAL's production configuration.
 */
const run = promisify(execFile);

async function runClient<T>(runner: string): Promise<T> {
  const tenant = sandbox.defaultTenant;
  const input = {
    authority: tenant.authority,
    knownAuthority: new URL(tenant.authorityHost).host,
    clientId: tenant.clientId,
    clientSecret: tenant.clientSecret,
    environmentUrl: tenant.dataverseUrl,
  };
  const script = fileURLToPath(new URL(`./independent-client/${runner}`, import.meta.url));
  const { stdout } = await run(process.execPath, [script, JSON.stringify(input)], {
    env: { ...process.env, NODE_EXTRA_CA_CERTS: sandbox.caCertPath },
    timeout: 60_000,
  });
  return JSON.parse(stdout) as T;
}

const lower = (value: unknown) => String(value).toLowerCase();
const workerRows = () =>
  (sandbox.defaultTenant.truth.dataverse('cdm_workers') as unknown as Row[]).map((row) => ({ ...row }));

/** Workers whose last name starts with `prefix`, last name up then first name down (case-insensitive). */
function startingWith(rows: Row[], prefix: string): Row[] {
  return rows
    .filter((row) => lower(row.cdm_lastname).startsWith(lower(prefix)))
    .sort(
      (a, b) =>
        lower(a.cdm_lastname).localeCompare(lower(b.cdm_lastname)) ||
        lower(b.cdm_firstname).localeCompare(lower(a.cdm_firstname)),
    );
}

type Row = Record<string, unknown>;

interface ClientReport {
  count: number;
  sampleLastName: string;
  countByLastName: number;
  prefix: string;
  startswith: Row[];
  fragment: string;
  contains: Row[];
  single: Row;
  expanded: Row[];
  aggregate: Row[];
  groupby: Row[];
  pageSizes: number[];
  pagedIds: string[];
  batch: Array<{ status: number; body?: { value: Row[] } }>;
  afterBatch: Row;
  error: { name: string; message: string } | string;
}

interface OjsReport {
  firstCount: number;
  pageSizes: number[];
  pagedIds: string[];
  count: number;
  prefix: string;
  startswith: Row[];
  expanded: Row[];
  patchStatus: number;
  batch: Array<{ contentId: number; status: number; body: Row[] }>;
  afterPatch: Row;
  error: { status: number; body: unknown } | string;
}

let sandbox: Sandbox;
const workers = 30;

beforeAll(async () => {
  ({ sandbox } = await startTestSandbox({ workers, seed: 5 }));
});
afterAll(async () => {
  await sandbox.close();
});

describe('generic OData clients (npm) against the sandbox', () => {
  it('@odata/client counts, filters, sorts, expands, aggregates, pages and batches as against Dataverse', async () => {
    const before = workerRows();
    const report = await runClient<ClientReport>('run-odata-client.mjs');

    expect(report.count).toBe(workers);
    expect(report.countByLastName).toBe(
      before.filter((row) => lower(row.cdm_lastname) === lower(report.sampleLastName)).length,
    );

    // startswith / contains are case-insensitive in Dataverse; the order is last name up, first name down.
    expect(report.startswith.map((row) => row.cdm_workerid)).toEqual(
      startingWith(before, report.prefix).map((row) => row.cdm_workerid),
    );
    expect(report.contains.map((row) => row.cdm_workerid).sort()).toEqual(
      before
        .filter((row) => lower(row.cdm_lastname).includes(lower(report.fragment)))
        .map((row) => row.cdm_workerid)
        .sort(),
    );
    expect(report.single).toMatchObject({ cdm_lastname: report.sampleLastName });
    expect(report.single['@odata.context']).toMatch(/\$metadata#cdm_workers\(cdm_lastname\)\/\$entity$/);

    expect(report.expanded).toHaveLength(3);
    for (const employment of report.expanded) {
      const worker = employment.cdm_WorkerId as Row;
      expect(worker.cdm_workerid).toBe(employment._cdm_workerid_value);
      const truth = before.find((row) => row.cdm_workerid === worker.cdm_workerid);
      expect(worker.cdm_lastname).toBe(truth?.cdm_lastname);
    }

    // $apply as "Aggregate data using OData" shapes it.
    expect(report.aggregate).toEqual([{ total: workers }]);
    const byGender = new Map<unknown, number>();
    for (const row of before) byGender.set(row.cdm_gender, (byGender.get(row.cdm_gender) ?? 0) + 1);
    expect(report.groupby).toEqual(
      [...byGender.entries()]
        .filter(([gender]) => gender !== null)
        .sort(([a], [b]) => Number(a) - Number(b))
        .map(([gender, count]) => ({ cdm_gender: gender, count })),
    );

    expect(report.pageSizes).toEqual([9, 9, 9, 3]);
    expect([...report.pagedIds].sort()).toEqual(before.map((row) => row.cdm_workerid).sort());

    expect(report.batch.map((part) => part.status)).toEqual([200, 204]);
    expect(report.batch[0]?.body?.value).toHaveLength(2);
    expect(report.afterBatch).toMatchObject({ cdm_firstname: 'Batched' });

    // The library reads error.message of Dataverse's { error: { code, message } } body.
    expect(report.error).toEqual({
      name: 'ODataServerError',
      message:
        "Could not find a property named 'no_such_column' on type 'Microsoft.Dynamics.CRM.cdm_worker'.",
    });
  }, 90_000);

  it('o.js (npm odata) pages, counts, filters, expands, updates and batches as against Dataverse', async () => {
    const before = workerRows();
    const report = await runClient<OjsReport>('run-o-js.mjs');

    expect(report.firstCount).toBe(workers);
    expect(report.pageSizes).toEqual([8, 8, 8, 6]);
    expect([...report.pagedIds].sort()).toEqual(before.map((row) => row.cdm_workerid).sort());
    expect(report.count).toBe(workers);
    expect(report.startswith.map((row) => row.cdm_workerid)).toEqual(
      startingWith(before, report.prefix).map((row) => row.cdm_workerid),
    );
    expect(report.expanded).toHaveLength(2);
    for (const assignment of report.expanded) {
      const worker = assignment.cdm_WorkerId as Row;
      expect(worker.cdm_workerid).toBe(assignment._cdm_workerid_value);
      expect(worker.cdm_lastname).toBe(
        before.find((row) => row.cdm_workerid === worker.cdm_workerid)?.cdm_lastname,
      );
    }
    expect(report.patchStatus).toBe(204);
    expect(report.afterPatch).toMatchObject({ cdm_firstname: 'Ojs' });
    // Two parts, each { contentId, status, body = its value array }.
    const companies = sandbox.defaultTenant.truth.companies.length;
    expect(report.batch.map((part) => [part.contentId, part.status, part.body.length])).toEqual([
      [1, 200, 2],
      [2, 200, Math.min(2, companies)],
    ]);
    expect(report.error).toEqual({
      status: 400,
      body: {
        error: {
          code: '0x0',
          message:
            "Could not find a property named 'no_such_column' on type 'Microsoft.Dynamics.CRM.cdm_worker'.",
        },
      },
    });
  }, 90_000);
});
