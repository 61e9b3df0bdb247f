import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataverseCatalog } from '../../src/sandbox/dataverse/catalog.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { startTestSandbox } from './helpers.js';

/**
 * A Dataverse client we did not write (the npm package dynamics-web-api, unmodified) against the sandbox:
 * paging, counts, filters, table definitions with attribute casts, change tracking and $batch. It runs in
 * its own Node process that trusts the sandbox CA through NODE_EXTRA_CA_CERTS, with a token from MSAL's
 * production configuration (authority https://host/{tenant}, the host in knownAuthorities).
 */
const script = fileURLToPath(new URL('./independent-client/run-dynamics-web-api.mjs', import.meta.url));
const run = promisify(execFile);

let sandbox: Sandbox;
const workers = 60;
const worker = dataverseCatalog.find((table) => table.entitySetName === 'cdm_workers');

beforeAll(async () => {
  ({ sandbox } = await startTestSandbox({ workers }));
});
afterAll(async () => {
  await sandbox.close();
});

interface ClientReport {
  firstPage: { size: number; count: number; hasNextLink: boolean; nextLink: string };
  allIds: string[];
  count: number;
  filterName: string;
  countFiltered: number;
  filtered: Array<{ id: string; name: string }>;
  fetchAllIds: string[];
  fetchAllNames: string[];
  entity: Record<string, unknown>;
  entitySets: string[];
  dateAttributes: Array<{ name: string; format: string; behavior: string }>;
  trackedCount: number;
  hasDeltaLink: boolean;
  batch: unknown[];
  failedBatch: { status: number; code: string } | string;
  delta: Array<{ id: string; name: string }>;
  nextDeltaLink: boolean;
  singleProperty: string;
  manager: string;
  inFilter: string[];
  aggregateTotal: number;
  notModified: unknown;
}

describe('dynamics-web-api (npm) against the sandbox', () => {
  it('pages, counts, filters, reads definitions, tracks changes and runs $batch as against Dataverse', async () => {
    if (!worker) throw new Error('the sandbox catalog has no cdm_workers table');
    const tenant = sandbox.defaultTenant;
    expect(new URL(tenant.dataverseUrl).pathname).toBe('/');
    const input = {
      authority: tenant.authority,
      knownAuthority: new URL(tenant.authorityHost).host,
      clientId: tenant.clientId,
      clientSecret: tenant.clientSecret,
      environmentUrl: tenant.dataverseUrl,
      table: {
        logicalName: worker.logicalName,
        set: worker.entitySetName,
        primaryId: worker.primaryIdAttribute,
        primaryName: worker.primaryNameAttribute,
        managerNavigation: 'cdm_ManagerWorkerId',
        managerLookup: '_cdm_managerworkerid_value',
      },
    };
    type Row = Record<string, unknown>;
    const liveRows = (): Row[] => tenant.truth.dataverse('cdm_workers') as unknown as Row[];
    const before = liveRows().map((row) => ({ ...row }));
    const { stdout } = await run(process.execPath, [script, JSON.stringify(input)], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: sandbox.caCertPath },
      timeout: 60_000,
    });
    const report = JSON.parse(stdout) as ClientReport;
    const truthIds = before.map((row) => row[worker.primaryIdAttribute]);

    expect(report.firstPage).toMatchObject({ size: 7, count: workers, hasNextLink: true });
    expect(report.firstPage.nextLink.startsWith(`${tenant.dataverseUrl}/api/data/v9.2/cdm_workers?`)).toBe(
      true,
    );
    expect(decodeURIComponent(report.firstPage.nextLink)).toContain('<cookie pagenumber="2" pagingcookie="');
    expect([...report.allIds].sort()).toEqual([...truthIds].sort());
    expect(report.count).toBe(workers);

    const named = before.filter(
      (row) => String(row[worker.primaryNameAttribute]).toLowerCase() === report.filterName.toLowerCase(),
    );
    expect(report.countFiltered).toBe(named.length);
    expect(report.filtered.map((row) => row.id).sort()).toEqual(
      named.map((row) => row[worker.primaryIdAttribute]).sort(),
    );

    // FetchXML paged by the paging cookie: every row once, in the requested order.
    expect([...report.fetchAllIds].sort()).toEqual([...truthIds].sort());
    const sortedNames = before
      .map((row) => String(row[worker.primaryNameAttribute]))
      .sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0));
    expect(report.fetchAllNames.map((name) => name.toLowerCase())).toEqual(
      sortedNames.map((name) => name.toLowerCase()),
    );

    expect(report.entity).toMatchObject({
      LogicalName: worker.logicalName,
      EntitySetName: worker.entitySetName,
      PrimaryIdAttribute: worker.primaryIdAttribute,
      ChangeTrackingEnabled: true,
      CanChangeTrackingBeEnabled: { Value: true, ManagedPropertyLogicalName: 'canchangetrackingbeenabled' },
      IsCustomizable: { Value: true },
    });
    // The default tenant shape serves every native table; virtual tables only in the virtual-tables shape.
    expect(report.entitySets).toEqual(
      expect.arrayContaining(
        dataverseCatalog
          .filter((table) => !table.logicalName.startsWith('mshr_'))
          .map((table) => table.entitySetName),
      ),
    );
    const dateColumns = worker.columns.filter(
      (column) => column.kind === 'DateTime' || column.kind === 'DateOnly',
    );
    expect(report.dateAttributes.map((attribute) => attribute.name).sort()).toEqual(
      dateColumns.map((column) => column.logicalName).sort(),
    );
    expect(report.dateAttributes.find((attribute) => attribute.name === 'createdon')).toEqual({
      name: 'createdon',
      format: 'DateAndTime',
      behavior: 'UserLocal',
    });

    expect(report.trackedCount).toBe(workers);
    expect(report.hasDeltaLink).toBe(true);
    // The batch: the GET's two rows, then the update (no content: the library answers with the id or undefined).
    expect(report.batch[0]).toBe(2);
    expect(report.failedBatch).toMatchObject({ status: 400, code: '0x0' });

    const [targetId, otherId] = report.allIds;
    // The delta holds the batch's update and not the rolled-back change set.
    expect(report.delta).toEqual([{ id: targetId, name: 'Written In A Batch' }]);
    expect(report.nextDeltaLink).toBe(true);
    const rows = liveRows();
    const other = rows.find((row) => row[worker.primaryIdAttribute] === otherId);
    const otherBefore = before.find((row) => row[worker.primaryIdAttribute] === otherId);
    expect(other?.[worker.primaryNameAttribute]).toBe(otherBefore?.[worker.primaryNameAttribute]);
    expect(other?.versionnumber).toBe(otherBefore?.versionnumber);

    // A third row: one property set alone, its manager set by $ref, then found with Microsoft.Dynamics.CRM.In.
    const thirdId = report.allIds[2];
    expect(report.singleProperty).toBe('Single Property');
    expect(report.manager).toBe(targetId);
    expect(report.inFilter).toEqual([targetId, thirdId].sort());
    expect(report.aggregateTotal).toBe(workers);
    expect(report.notModified).toBe('no row');
  }, 90_000);
});
