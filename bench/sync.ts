/**
 * Sync benchmarks (issue 4), in one run:
 *  1. Full sync of a BENCH_WORKERS (default 100,000) worker sandbox tenant, all Dataverse models, in
 *     a worker process of its own (bench/sync-worker.ts): records/s and that process's peak RSS
 *     (BENCH_NODE_FLAGS, e.g. "--max-old-space-size=160", are passed to it).
 *  2. The floor: the same pages fetched and mapped without storing, plus the same rows bulk-loaded
 *     with COPY into copies of the tables (indexes included); floor time = fetch + COPY.
 *  3. Incremental sync of 100 changed workers, on this tenant and on a 10,000-worker one.
 *
 * Usage: npx tsx bench/sync.ts   (BENCH_WORKERS=20000 for a quicker run; BENCH_DATABASE_URL to use
 * another PostgreSQL). The sandbox runs in a child process.
 */
import { spawn } from 'node:child_process';
import { copyRows } from '../src/db/copy-rows.js';
import { SyncEngine } from '../src/sync/engine.js';
import { toUnifiedRows } from '../src/sync/store.js';
import { MODELS } from '../src/unified/models.js';
import {
  connection,
  control,
  credentialsOf,
  dynamicsDependencies,
  linkAccount,
  openBenchDatabase,
  type SandboxProcess,
  startSandboxProcess,
} from './sync-helpers.js';

const WORKERS = Number(process.env.BENCH_WORKERS ?? 100_000);

/** The full sync runs in a worker process of its own (bench/sync-worker.ts), which reports its peak RSS. */
async function fullSync(sandbox: SandboxProcess, db: Awaited<ReturnType<typeof openBenchDatabase>>) {
  const accountId = await linkAccount(db, sandbox);
  const deps = dynamicsDependencies(sandbox);
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
      '--import',
      'tsx',
      'bench/sync-worker.ts',
    ],
    {
      env: {
        ...process.env,
        DATABASE_URL: db.url,
        ACCOUNT_ID: accountId,
        CREDENTIALS: JSON.stringify(credentialsOf(sandbox)),
        CA_PEM: sandbox.caCertPem,
        PAGE_SIZE: process.env.BENCH_PAGE_SIZE ?? '2000',
        ...(process.env.BENCH_STREAMS ? { STREAMS: process.env.BENCH_STREAMS } : {}),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  await new Promise((resolve) => child.once('exit', resolve));
  const report = JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as {
    status: string;
    error?: string;
    seconds: number;
    records: number;
    peakRssMb: number;
    stats: unknown;
  };
  if (report.status !== 'succeeded') throw new Error(`full sync failed: ${report.error}`);
  if (process.env.BENCH_VERBOSE) console.error(`full sync stats ${JSON.stringify(report.stats)}`);
  return { accountId, deps, total: report.records, seconds: report.seconds, peakRssMb: report.peakRssMb };
}

async function floor(sandbox: SandboxProcess, db: Awaited<ReturnType<typeof openBenchDatabase>>) {
  const accountId = await linkAccount(db, sandbox);
  const deps = dynamicsDependencies(sandbox);
  const plan = await connection(accountId, sandbox, deps).plan();
  const client = await db.pool.connect();
  let fetchMs = 0;
  let copyMs = 0;
  let rows = 0;
  try {
    for (const model of Object.values(MODELS)) {
      await client.query(`CREATE TEMP TABLE floor_${model.table} (LIKE ${model.table} INCLUDING ALL)`);
    }
    for (const stream of plan.streams) {
      const pages = stream.pages(null);
      for (;;) {
        const fetchStarted = performance.now();
        const next = await pages.next();
        fetchMs += performance.now() - fetchStarted;
        if (next.done) break;
        rows += next.value.records.length;
        if (stream.target === 'auxiliary') continue;
        const copyStarted = performance.now();
        const unified = toUnifiedRows(accountId, stream.target, next.value.records);
        await copyRows(client, `floor_${MODELS[stream.target].table}`, unified.columns, unified.rows);
        copyMs += performance.now() - copyStarted;
      }
    }
  } finally {
    client.release();
  }
  await deps.dispatcher.close();
  return { rows, fetchSeconds: fetchMs / 1000, copySeconds: copyMs / 1000 };
}

async function incremental(
  sandbox: SandboxProcess,
  db: Awaited<ReturnType<typeof openBenchDatabase>>,
  accountId: string,
  deps: ReturnType<typeof dynamicsDependencies>,
) {
  const tenant = sandbox.facts.name ?? 'contoso';
  const timings: number[] = [];
  for (let round = 0; round < 3; round++) {
    await control(sandbox, `tenants/${tenant}/records/update`, {
      table: 'cdm_workers',
      count: 100,
      changes: { cdm_lastname: `Changed-${round}` },
    });
    const started = performance.now();
    const result = await new SyncEngine(db.pool).run({
      linkedAccountId: accountId,
      connection: connection(accountId, sandbox, deps),
      kind: 'incremental',
      trigger: 'bench',
    });
    timings.push((performance.now() - started) / 1000);
    if (process.env.BENCH_VERBOSE) console.error(JSON.stringify(result.stats, null, 1));
    if (result.status !== 'succeeded' || (result.stats.employees?.updated ?? 0) < 100) {
      throw new Error(`incremental sync: ${result.status}, ${JSON.stringify(result.stats.employees)}`);
    }
  }
  return timings;
}

async function tenantOfSize(workers: number) {
  const sandbox = await startSandboxProcess(workers);
  const db = await openBenchDatabase();
  try {
    const full = await fullSync(sandbox, db);
    const incrementalSeconds = await incremental(sandbox, db, full.accountId, full.deps);
    const floorResult = workers === WORKERS ? await floor(sandbox, db) : undefined;
    await full.deps.dispatcher.close();
    return { workers, full, incrementalSeconds, floor: floorResult };
  } finally {
    await db.close();
    await sandbox.stop();
  }
}

const large = await tenantOfSize(WORKERS);
const small = WORKERS > 10_000 ? await tenantOfSize(10_000) : undefined;

const recordsPerSecond = Math.round(large.full.total / large.full.seconds);
const floorSeconds = (large.floor?.fetchSeconds ?? 0) + (large.floor?.copySeconds ?? 0);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
console.log(
  JSON.stringify(
    {
      workers: WORKERS,
      full_sync: {
        records: large.full.total,
        seconds: Number(large.full.seconds.toFixed(2)),
        records_per_second: recordsPerSecond,
        peak_rss_mb: large.full.peakRssMb,
      },
      floor: large.floor && {
        rows: large.floor.rows,
        fetch_seconds: Number(large.floor.fetchSeconds.toFixed(2)),
        copy_seconds: Number(large.floor.copySeconds.toFixed(2)),
        total_seconds: Number(floorSeconds.toFixed(2)),
        sync_over_floor: Number((large.full.seconds / floorSeconds).toFixed(2)),
      },
      incremental_100_workers_seconds: {
        [`tenant_${WORKERS}`]: large.incrementalSeconds.map((value) => Number(value.toFixed(3))),
        ...(small ? { tenant_10000: small.incrementalSeconds.map((value) => Number(value.toFixed(3))) } : {}),
        median_large: Number(median(large.incrementalSeconds).toFixed(3)),
        ...(small ? { median_10000: Number(median(small.incrementalSeconds).toFixed(3)) } : {}),
      },
    },
    null,
    2,
  ),
);
