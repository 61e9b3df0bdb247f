/**
 * F&O DMF fallback throughput: dependents, benefit enrollments and coverage links of a 100k-worker
 * sandbox tenant (≈ 165k dependents, 312k enrollments, 298k covered beneficiaries) exported as a
 * DMF package (CSV-Unicode), downloaded, streamed, mapped and stored, then linked by derivations.
 *
 *   npx tsx bench/fno-dmf.ts [workers]       (BENCH_DATABASE_URL to use an existing Postgres)
 *
 * The sandbox runs in a child process. Step 1 (not timed, in this process) syncs the Dataverse side
 * (employees, plans) so references resolve. Steps 2 and 3 run in a gateway worker started the
 * documented way (`node --import tsx src/server.ts --role worker`, no node flags: it caps its own
 * heap), whose scheduler finds the account's next incremental syncs due (SYNC_INTERVAL_MINUTES=0.25):
 * step 2 is the **first DMF load** (Dataverse deltas empty; dependents and enrollments from a fresh
 * export of the `HR export` data project), step 3 the next one (a fresh export of unchanged data: the
 * recurring cost). rows/s = stored F&O rows / the run's time (started_at → finished_at); peak RSS is
 * the worker's VmHWM. Per-model fetch+store and derivation times come from the runs' stats.
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { DynamicsConnection } from '../src/providers/dynamics/connection.js';
import { SyncEngine } from '../src/sync/engine.js';
import {
  cpuSeconds,
  credentialsOf,
  dynamicsDependencies,
  type FinishedRun,
  linkAccount,
  openBenchDatabase,
  postgresPid,
  startDocumentedWorker,
  startSandboxProcess,
  waitForRun,
} from './sync-helpers.js';

const workers = Number(process.argv[2] ?? 100_000);
const load = () => loadavg().map((value) => Number(value.toFixed(2)));
const loadAtStart = load();

const sandbox = await startSandboxProcess(workers);
// The sandbox child must not outlive a failed run.
process.once('exit', () => sandbox.child.kill('SIGTERM'));
const db = await openBenchDatabase();
const encryptionKey = randomBytes(32);
const accountId = await linkAccount(db, sandbox, {
  encryptionKey,
  withFno: true,
  sources: { dependents: 'dmf', benefit_enrollments: 'dmf' },
});

// Step 1: Dataverse only (dependents and enrollments kept off F&O for now).
const deps = dynamicsDependencies(sandbox);
const warmup = await new SyncEngine(db.pool).run({
  linkedAccountId: accountId,
  connection: new DynamicsConnection(
    accountId,
    {
      ...credentialsOf(sandbox, true),
      sources: { dependents: 'dataverse', benefit_enrollments: 'dataverse' },
    },
    deps,
  ),
  kind: 'full',
  trigger: 'bench',
});
await deps.dispatcher.close();
if (warmup.status !== 'succeeded') {
  throw new Error(`warm-up sync failed: ${warmup.errors.map((e) => String(e.error)).join('; ')}`);
}

// Steps 2 and 3: the worker's scheduler runs the next two incremental syncs.
const loadAtWorkerStart = load();
// BENCH_PROFILE=dir: the worker writes CPU profiles (--cpu-prof) there; its heap limit is still its own.
const gateway = startDocumentedWorker(
  db.url,
  sandbox,
  encryptionKey,
  { SYNC_INTERVAL_MINUTES: '0.25' },
  process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [],
);
const postgres = postgresPid(db.url);
/** CPU seconds of the syncing worker, PostgreSQL and the sandbox (F&O's side) while a run goes. */
function cpuNow() {
  const worker = gateway.memory().syncingPid;
  return {
    worker: cpuSeconds(worker),
    postgres: postgres ? cpuSeconds(postgres) : 0,
    sandbox: cpuSeconds(sandbox.child.pid as number),
  };
}
async function measuredRun(nth: number) {
  // Sampled when the run starts (not when the worker does: its start-up is not the sync's work).
  for (;;) {
    const { rows } = await db.pool.query(
      `SELECT 1 FROM sync_runs WHERE linked_account_id = $1 AND kind = 'incremental' AND status <> 'queued'
       ORDER BY started_at OFFSET $2 LIMIT 1`,
      [accountId, nth - 1],
    );
    if (rows[0]) break;
    if (gateway.worker.exitCode !== null)
      throw new Error(`the worker exited with ${gateway.worker.exitCode}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const before = cpuNow();
  const run = await waitForRun(db, accountId, 'incremental', gateway.worker, nth);
  const after = cpuNow();
  if (run.status !== 'succeeded') throw new Error(`DMF sync ${nth} failed: ${run.error}`);
  const cpu = Object.fromEntries(
    Object.entries(after).map(([name, seconds]) => [
      name,
      Number((seconds - before[name as keyof typeof before]).toFixed(1)),
    ]),
  );
  return { run, cpuSeconds: cpu, loadAtEnd: load() };
}
let first: Awaited<ReturnType<typeof measuredRun>>;
let repeat: Awaited<ReturnType<typeof measuredRun>>;
let memory: ReturnType<typeof gateway.memory>;
try {
  first = await measuredRun(1);
  repeat = await measuredRun(2);
  memory = gateway.memory();
} finally {
  await gateway.stop();
}

const count = async (sql: string) => (await db.pool.query<{ n: number }>(sql, [accountId])).rows[0]?.n ?? 0;
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
const unresolved = (run: FinishedRun, model: string) =>
  (run.stats[model] as { unresolved?: number } | undefined)?.unresolved ?? 0;
const repeatChanges = (['dependents', 'benefit_enrollments'] as const).reduce(
  (sum, model) => sum + (repeat.run.stats[model]?.created ?? 0) + (repeat.run.stats[model]?.updated ?? 0),
  0,
);
const timings = (run: FinishedRun) =>
  Object.fromEntries(
    Object.entries(run.stats)
      .filter(([model]) => model === 'dependents' || model === 'benefit_enrollments')
      .map(([model, stats]) => [model, { fetchStoreMs: stats.fetchStoreMs, deriveMs: stats.deriveMs }]),
  );
const rows = dependents + enrollments + covered;
console.log(
  JSON.stringify(
    {
      workers,
      dependents,
      enrollments,
      coveredBeneficiaries: covered,
      coverageLinks: links,
      unresolved: {
        dependents: unresolved(first.run, 'dependents'),
        enrollments: unresolved(first.run, 'benefit_enrollments'),
      },
      seconds: Number(first.run.seconds.toFixed(1)),
      rowsPerSecond: Math.round(rows / first.run.seconds),
      repeatSeconds: Number(repeat.run.seconds.toFixed(1)),
      repeatRowsPerSecond: Math.round(rows / repeat.run.seconds),
      repeatChanges,
      firstLoad: { ms: timings(first.run), cpuSeconds: first.cpuSeconds },
      repeat: { ms: timings(repeat.run), cpuSeconds: repeat.cpuSeconds },
      workerPeakRssMb: memory.syncing.peakMb,
      launcherPeakRssMb: memory.launcher?.peakMb,
      cpus: availableParallelism(),
      loadavg: {
        start: loadAtStart,
        workerStart: loadAtWorkerStart,
        firstLoadEnd: first.loadAtEnd,
        repeatEnd: repeat.loadAtEnd,
      },
    },
    null,
    2,
  ),
);

await db.close();
await sandbox.stop();
