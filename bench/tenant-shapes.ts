/**
 * Every tenant shape (issue 9, "Figures"): a first (full) sync of a BENCH_WORKERS-worker tenant
 * (default 100,000) served as `hr-dataverse` (native cdm_ tables), `virtual-tables` (those plus the
 * payroll API's virtual table) and `fno-only` (nothing in Dataverse, Finance & Operations only), one
 * shape after the other, each with its own sandbox process and a fresh PostgreSQL.
 *
 * The sync runs in a gateway worker started the documented way, `node --import tsx src/server.ts
 * --role worker` (the Dockerfile's command) with no node flags and no NODE_OPTIONS: the worker caps
 * its own heap (WORKER_HEAP_MB, docs/configuration.md). Its scheduler finds the new account and runs
 * its first full sync; the figures come from the run's row (started_at → finished_at), the rows
 * stored for the account, and the worker's peak resident set (VmHWM of the process that syncs, read
 * from /proc before it is stopped).
 *
 *   npm run bench:shapes     (BENCH_WORKERS, BENCH_SHAPES=hr-dataverse,fno-only, BENCH_DATABASE_URL)
 *
 * Throughput is compared in workers/s (tenant size / sync time): the shapes read different tables
 * (F&O has no auxiliary lookups, a virtual table has no change tracking), so rows/s alone would
 * reward a shape for reading more rows. Models a shape does not serve are listed, not counted.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { MODELS } from '../src/unified/models.js';
import {
  linkAccount,
  openBenchDatabase,
  startDocumentedWorker,
  startSandboxProcess,
  waitForRun,
} from './sync-helpers.js';

const WORKERS = Number(process.env.BENCH_WORKERS ?? 100_000);
const SHAPES = (process.env.BENCH_SHAPES ?? 'hr-dataverse,virtual-tables,fno-only').split(',');
const RSS_TARGET_MB = 300;

async function measureShape(shape: string) {
  const load = loadavg().map((value) => Number(value.toFixed(2)));
  const sandbox = await startSandboxProcess(WORKERS, 42, shape);
  const db = await openBenchDatabase();
  const encryptionKey = randomBytes(32);
  try {
    const accountId = await linkAccount(db, sandbox, { encryptionKey, withFno: true });
    const gateway = startDocumentedWorker(db.url, sandbox, encryptionKey);
    try {
      const run = await waitForRun(db, accountId, 'full', gateway.worker);
      const memory = gateway.memory();
      if (run.status !== 'succeeded') throw new Error(`${shape}: full sync ${run.status}: ${run.error}`);
      const counts = await db.pool.query<{ rows: number }>(
        `SELECT (${[...Object.values(MODELS).map((model) => model.table), 'provider_records']
          .map((table) => `(SELECT count(*) FROM ${table} WHERE linked_account_id = $1)`)
          .join(' + ')})::int AS rows`,
        [accountId],
      );
      const sources = await db.pool.query<{ model: string; source: string }>(
        'SELECT model, source FROM sync_states WHERE linked_account_id = $1 ORDER BY model',
        [accountId],
      );
      const rows = counts.rows[0]?.rows ?? 0;
      return {
        shape,
        loadavgAtStart: load,
        seconds: Number(run.seconds.toFixed(1)),
        rows,
        rowsPerSecond: Math.round(rows / run.seconds),
        workersPerSecond: Math.round(WORKERS / run.seconds),
        peakRssMb: memory.syncing.peakMb,
        launcherRssMb: memory.launcher?.peakMb,
        sources: Object.fromEntries(sources.rows.map((row) => [row.model, row.source])),
        perModelMs: Object.fromEntries(
          Object.entries(run.stats).map(([model, stats]) => [
            model,
            { fetchStore: stats.fetchStoreMs, derive: stats.deriveMs },
          ]),
        ),
      };
    } finally {
      await gateway.stop();
    }
  } finally {
    await db.close();
    await sandbox.stop();
  }
}

const results = [];
for (const shape of SHAPES) {
  console.error(
    `${new Date().toISOString()} ${shape}: load ${loadavg()
      .map((v) => v.toFixed(2))
      .join(' ')}`,
  );
  results.push(await measureShape(shape));
}
const native = results.find((result) => result.shape === 'hr-dataverse');
const table = results.map((result) => ({
  shape: result.shape,
  seconds: result.seconds,
  'workers/s': result.workersPerSecond,
  'rows/s': result.rowsPerSecond,
  rows: result.rows,
  'vs native': native ? Number((result.workersPerSecond / native.workersPerSecond).toFixed(2)) : undefined,
  'peak RSS MB': result.peakRssMb,
  'RSS ≤ 300': result.peakRssMb <= RSS_TARGET_MB,
}));
console.table(table);
console.log(JSON.stringify({ workers: WORKERS, results }, null, 2));
