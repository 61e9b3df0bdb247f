/**
 * Sandbox figures for docs/sandbox.md "## Performance" and docs/PERFORMANCE.md:
 *   1. generating a 100k-worker organisation, in a child process so it starts clean: time, heap after GC
 *      as a tenant holds it (derived tables not built yet), heap after GC with every table built, peak
 *      RSS (VmHWM);
 *   2. the started sandbox's heap after GC;
 *   3. serving the 100k-row cdm_workers table page by page (odata.maxpagesize=5000) over HTTPS, rows/s,
 *      full rows and a typical $select; a DMF package of every F&O entity.
 * Run: npx tsx --expose-gc bench/sandbox-serve.ts [workers]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { createHttpPool } from '../src/providers/http-pool.js';
import { generateOrganisation } from '../src/sandbox/data/generator.js';
import { startSandbox } from '../src/sandbox/index.js';
import { requestSandboxToken } from '../src/sandbox/token.js';

const workers = Number(process.argv[2] ?? 100_000);
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const heapMb = (): number => Math.round(process.memoryUsage().heapUsed / 1e6);
/** Peak resident set size of this process so far (MB). */
const peakRssMb = (): number =>
  Math.round(Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024);

if (process.argv[3] === '--generate-only') {
  gc();
  const baselineMb = heapMb();
  const started = performance.now();
  const organisation = generateOrganisation({ workers, seed: 42 });
  const elapsed = performance.now() - started;
  gc();
  const generatedMb = heapMb();
  // Reading every table builds the derived ones (F&O's view of the organisation, the virtual table).
  const rows = Object.values({ ...organisation.dataverse, ...organisation.fno }).reduce(
    (sum, list) => sum + list.length,
    0,
  );
  gc();
  process.stdout.write(
    JSON.stringify({
      ms: Math.round(elapsed),
      baselineMb,
      heapMb: generatedMb,
      allTablesHeapMb: heapMb(),
      peakRssMb: peakRssMb(),
      rows,
    }),
  );
  process.exit(0);
}

const generation = JSON.parse(
  execFileSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', 'bench/sandbox-serve.ts', String(workers), '--generate-only'],
    {
      encoding: 'utf8',
    },
  ),
) as {
  ms: number;
  baselineMb: number;
  heapMb: number;
  allTablesHeapMb: number;
  peakRssMb: number;
  rows: number;
};
console.log(
  `generate ${workers} workers: ${generation.ms} ms, heap ${generation.heapMb} MB after GC (${generation.allTablesHeapMb} MB with every derived table built; ${generation.baselineMb} MB before generating), peak RSS ${generation.peakRssMb} MB, ${generation.rows} rows in all tables`,
);

const sandbox = await startSandbox({ workers, dataDir: mkdtempSync(join(tmpdir(), 'hris-sandbox-bench-')) });
gc();
console.log(`sandbox started: heap ${heapMb()} MB after GC, peak RSS ${peakRssMb()} MB`);
const agent = createHttpPool({ caCertPem: sandbox.caCertPem, connections: 4 });
const tenant = sandbox.defaultTenant;
const token = await requestSandboxToken(agent, tenant, tenant.dataverseUrl);

async function serveAll(label: string, firstUrl: string, prefer: string): Promise<void> {
  let url: string | undefined = firstUrl;
  let rows = 0;
  let bytes = 0;
  let pages = 0;
  const started = performance.now();
  while (url) {
    const response = await request(url, {
      dispatcher: agent,
      headers: { authorization: `Bearer ${token}`, prefer },
    });
    const text = await response.body.text();
    bytes += text.length;
    const body = JSON.parse(text) as { value: unknown[]; '@odata.nextLink'?: string };
    rows += body.value.length;
    pages++;
    url = body['@odata.nextLink'];
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${label}: ${rows} rows in ${pages} pages, ${seconds.toFixed(2)} s, ${Math.round(rows / seconds)} rows/s, ${(bytes / 1e6 / seconds).toFixed(1)} MB/s`,
  );
}

const root = `${tenant.dataverseUrl}/api/data/v9.2/`;
await serveAll('cdm_workers, all columns', `${root}cdm_workers`, 'odata.maxpagesize=5000');
await serveAll(
  'cdm_workers, $select of 8 columns',
  `${root}cdm_workers?$select=cdm_workernumber,cdm_firstname,cdm_lastname,cdm_primaryemailaddress,cdm_birthdate,cdm_gender,_cdm_managerworkerid_value,modifiedon`,
  'odata.maxpagesize=5000',
);
await serveAll(
  'cdm_workers, change-tracking initial load',
  `${root}cdm_workers?$select=cdm_firstname,cdm_lastname`,
  'odata.track-changes,odata.maxpagesize=5000',
);
await serveAll(
  'cdm_workers, all annotations',
  `${root}cdm_workers?$select=cdm_firstname,cdm_gender,_cdm_managerworkerid_value`,
  'odata.maxpagesize=5000,odata.include-annotations="*"',
);

// DMF: export every F&O entity (data project 'HR export') and stream the zip.
sandbox.controls.setDmfExportBehaviour({ durationMs: 0 });
const fnoToken = await requestSandboxToken(agent, tenant, tenant.fnoUrl);
const dmf = async (action: string, body: unknown): Promise<string> => {
  const response = await request(
    `${tenant.fnoUrl}/data/DataManagementDefinitionGroups/Microsoft.Dynamics.DataEntities.${action}`,
    {
      method: 'POST',
      dispatcher: agent,
      headers: { authorization: `Bearer ${fnoToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    },
  );
  return ((await response.body.json()) as { value: string }).value;
};
const exportStarted = performance.now();
const executionId = await dmf('ExportToPackage', {
  definitionGroupId: 'HR export',
  packageName: 'hr.zip',
  legalEntityId: '',
});
const packageUrl = await dmf('GetExportedPackageUrl', { executionId });
const memoryBefore = process.memoryUsage().rss;
let zipBytes = 0;
const download = await request(packageUrl, { dispatcher: agent });
for await (const chunk of download.body) zipBytes += (chunk as Buffer).length;
const exportSeconds = (performance.now() - exportStarted) / 1000;
const exportedEntitySets = [
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
] as const;
const exportedRows = exportedEntitySets.reduce((sum, name) => sum + sandbox.truth.fno(name).length, 0);
console.log(
  `DMF package (CSV-Unicode, ${exportedRows} rows): ${(zipBytes / 1e6).toFixed(1)} MB zip in ${exportSeconds.toFixed(2)} s, RSS growth ${Math.round((process.memoryUsage().rss - memoryBefore) / 1e6)} MB`,
);
await agent.close();
await sandbox.close();
