/**
 * F&O DMF fallback throughput: dependents, benefit enrollments and coverage links of a 100k-worker
 * sandbox tenant (≈ 165k dependents, 312k enrollments, 298k covered beneficiaries) exported as a
 * DMF package (CSV-Unicode), downloaded, streamed, mapped and stored, then linked by derivations.
 *
 *   npx tsx --expose-gc bench/fno-dmf.ts [workers]       (BENCH_DATABASE_URL to use an existing Postgres)
 *
 * The sandbox runs in a child process so its ~340 MB of generated data does not count in this
 * process's RSS. Step 1 (not timed) syncs the Dataverse side (employees, plans) so references resolve;
 * step 2 (timed) is an incremental sync whose Dataverse deltas are empty and whose dependents and
 * enrollments come from a fresh DMF export: rows/s = stored F&O rows / wall time of step 2.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectDatabase, openDatabase } from '../src/db/database.js';
import { createLinkedAccount, createPlatform } from '../src/platforms/platform-service.js';
import { DynamicsConnection } from '../src/providers/dynamics/connection.js';
import type { DynamicsCredentials } from '../src/providers/dynamics/credentials.js';
import { createHttpPool, createMsalNetworkClient } from '../src/providers/http-pool.js';
import { SyncEngine } from '../src/sync/engine.js';
import { type SandboxProcess, startSandboxProcess } from './sync-helpers.js';

const workers = Number(process.argv[2] ?? 100_000);
// Step 1 runs in a child process (BENCH_STEP=warmup), so step 2's RSS is that of a fresh process.
const warmupStep = process.env.BENCH_STEP === 'warmup';

let facts: Record<string, string>;
let sandboxProcess: SandboxProcess | undefined;
if (warmupStep) {
  facts = JSON.parse(process.env.BENCH_FACTS as string) as Record<string, string>;
} else {
  sandboxProcess = await startSandboxProcess(workers);
  facts = sandboxProcess.facts as unknown as Record<string, string>;
  // The sandbox child must not outlive a failed run.
  const child = sandboxProcess.child;
  process.once('exit', () => child.kill('SIGTERM'));
}

const db = warmupStep
  ? connectDatabase(process.env.BENCH_DB_URL as string, 8)
  : await openDatabase(
      {
        DATABASE_URL: process.env.BENCH_DATABASE_URL,
        DATA_DIR: await mkdtemp(join(tmpdir(), 'hris-bench-fno-db-')),
        EMBEDDED_POSTGRES_PORT: 0,
        DB_POOL_SIZE: 8,
      } as Parameters<typeof openDatabase>[0],
      () => undefined,
    );
async function createAccount(): Promise<string> {
  const { platform } = await createPlatform(db.prisma, 'Bench');
  const { account } = await createLinkedAccount(db.prisma, {
    platformId: platform.id,
    endUserOriginId: 'bench',
    organizationName: 'Bench employer',
    provider: 'seed',
    status: 'connected',
  });
  return account.id;
}
const account = { id: warmupStep ? (process.env.BENCH_ACCOUNT as string) : await createAccount() };
const dispatcher = createHttpPool({ caCertPem: await readFile(facts.caCertPath as string, 'utf8') });
const credentials: DynamicsCredentials = {
  tenantId: facts.tenantId as string,
  clientId: facts.clientId as string,
  authorityHost: facts.authorityHost as string,
  dataverseUrl: facts.dataverseUrl as string,
  fnoUrl: facts.fnoUrl as string,
  auth: { type: 'secret', clientSecret: facts.clientSecret as string },
  sources: { dependents: 'dmf', benefit_enrollments: 'dmf' },
};
const deps = {
  dispatcher,
  networkClient: createMsalNetworkClient(dispatcher),
  concurrency: 4,
  pageSize: 5000,
  retryBudgetMs: 60_000,
};
const engine = new SyncEngine(db.pool);
const run = (connection: DynamicsConnection, kind: 'full' | 'incremental') => {
  const at = performance.now();
  return engine.run({
    linkedAccountId: account.id,
    connection,
    kind,
    trigger: 'bench',
    streamConcurrency: 4,
    onProgress: (progress) => {
      if (progress.done && process.env.BENCH_VERBOSE && progress.records > 0) {
        console.error(`${((performance.now() - at) / 1000).toFixed(1)} s: ${progress.sourceTable} done`);
      }
    },
  });
};

if (warmupStep) {
  // Step 1: Dataverse only (dependents and enrollments kept off F&O for now).
  const warmup = await run(
    new DynamicsConnection(
      account.id,
      { ...credentials, sources: { dependents: 'dataverse', benefit_enrollments: 'dataverse' } },
      deps,
    ),
    'full',
  );
  if (warmup.status !== 'succeeded') {
    throw new Error(`warm-up sync failed: ${warmup.errors.map((e) => String(e.error)).join('; ')}`);
  }
  await dispatcher.close();
  await db.close();
  process.exit(0);
}
const warmupChild = spawn(process.execPath, ['--import', 'tsx', 'bench/fno-dmf.ts', String(workers)], {
  stdio: ['ignore', 'inherit', 'inherit'],
  env: {
    ...process.env,
    BENCH_STEP: 'warmup',
    BENCH_FACTS: JSON.stringify(facts),
    BENCH_DB_URL: db.url,
    BENCH_ACCOUNT: account.id,
  },
});
const [warmupCode] = (await once(warmupChild, 'exit')) as [number | null];
if (warmupCode !== 0) throw new Error(`warm-up step exited with ${warmupCode}`);

// Step 2: timed.
globalThis.gc?.();
const rssBefore = process.memoryUsage().rss;
let peakRss = rssBefore;
let peakHeap = 0;
const sampler = setInterval(() => {
  const usage = process.memoryUsage();
  peakRss = Math.max(peakRss, usage.rss);
  peakHeap = Math.max(peakHeap, usage.heapUsed + usage.external + usage.arrayBuffers);
}, 50);
const connection = new DynamicsConnection(account.id, credentials, deps);
/** With BENCH_VERBOSE: time each derivation (where the SQL-side work goes). */
function instrument(target: DynamicsConnection): DynamicsConnection {
  if (!process.env.BENCH_VERBOSE) return target;
  const plan = target.plan.bind(target);
  target.plan = async () => {
    const result = await plan();
    for (const derivation of result.derivations) {
      const run = derivation.run.bind(derivation);
      derivation.run = async (client, id, scope) => {
        const at = performance.now();
        const changed = await run(client, id, scope);
        console.error(
          `derivation ${derivation.description}: ${Math.round(performance.now() - at)} ms, ${changed.length} changed`,
        );
        return changed;
      };
    }
    return result;
  };
  return target;
}
instrument(connection);
let firstDmfPageAt = 0;
const started = performance.now();
const result = await engine.run({
  linkedAccountId: account.id,
  connection,
  kind: 'incremental',
  trigger: 'bench',
  streamConcurrency: 4,
  onProgress: (progress) => {
    if (progress.done && process.env.BENCH_VERBOSE) {
      console.error(
        `${((performance.now() - started) / 1000).toFixed(1)} s: ${progress.sourceTable} done, ${progress.records} rows`,
      );
    }
    if (!firstDmfPageAt && progress.sourceTable.startsWith('dmf:') && progress.pages > 0)
      firstDmfPageAt = performance.now();
  },
});
const seconds = (performance.now() - started) / 1000;
clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage().rss);
await connection.close();
if (result.status !== 'succeeded')
  throw new Error(`DMF sync failed: ${result.errors.map((e) => String(e.error)).join('; ')}`);

// Step 3 (timed): the next sync, a fresh export of the same data: the snapshot diff finds nothing to
// write. This is the recurring cost of the DMF path.
const repeatConnection = instrument(new DynamicsConnection(account.id, credentials, deps));
const repeatStarted = performance.now();
const repeat = await run(repeatConnection, 'incremental');
const repeatSeconds = (performance.now() - repeatStarted) / 1000;
peakRss = Math.max(peakRss, process.memoryUsage().rss);
await repeatConnection.close();
if (repeat.status !== 'succeeded') throw new Error('repeated DMF sync failed');
const repeatChanges = (['dependents', 'benefit_enrollments'] as const).reduce(
  (sum, model) =>
    sum +
    (repeat.stats[model]?.created ?? 0) +
    (repeat.stats[model]?.updated ?? 0) +
    (repeat.stats[model]?.deleted ?? 0),
  0,
);

const count = async (sql: string) => (await db.pool.query<{ n: number }>(sql, [account.id])).rows[0]?.n ?? 0;
const dependents = await count('SELECT count(*)::int AS n FROM dependents WHERE linked_account_id = $1');
const enrollments = await count(
  'SELECT count(*)::int AS n FROM benefit_enrollments WHERE linked_account_id = $1',
);
const links = await count(
  'SELECT count(*)::int AS n FROM benefit_enrollment_dependents WHERE linked_account_id = $1',
);
const covered = await count(
  "SELECT count(*)::int AS n FROM provider_records WHERE linked_account_id = $1 AND source_table LIKE 'dmf:%'",
);
const rows = dependents + enrollments + covered;
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
console.log(
  JSON.stringify(
    {
      workers,
      dependents,
      enrollments,
      coveredBeneficiaries: covered,
      coverageLinks: links,
      unresolved: {
        dependents: result.stats.dependents?.unresolved ?? 0,
        enrollments: result.stats.benefit_enrollments?.unresolved ?? 0,
      },
      seconds: Number(seconds.toFixed(1)),
      repeatSeconds: Number(repeatSeconds.toFixed(1)),
      repeatChanges,
      exportWaitSeconds: Number(((firstDmfPageAt - started) / 1000).toFixed(1)),
      rowsPerSecond: Math.round(rows / seconds),
      repeatRowsPerSecond: Math.round(rows / repeatSeconds),
      rowsPerSecondAfterExport: Math.round(rows / (seconds - (firstDmfPageAt - started) / 1000)),
      rssBeforeMb: mb(rssBefore),
      peakRssMb: mb(peakRss),
      peakHeapAndBuffersMb: mb(peakHeap),
      maxOldSpaceMb:
        Number(
          /--max-old-space-size=(\d+)/.exec(
            `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`,
          )?.[1] ?? 0,
        ) || undefined,
      cpus: availableParallelism(),
      loadavg: loadavg().map((value) => Number(value.toFixed(2))),
    },
    null,
    2,
  ),
);

await dispatcher.close();
await db.close();
if (sandboxProcess) {
  await sandboxProcess.stop();
}
