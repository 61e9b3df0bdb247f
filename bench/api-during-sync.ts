/**
 * API reads while a large sync runs (issue 11, "Load during sync"):
 *  1. A sandbox tenant of BENCH_WORKERS (default 100,000) workers in a child process, a PostgreSQL
 *     (embedded in a temp dir, or BENCH_DATABASE_URL), and an account seeded with BENCH_READ_EMPLOYEES
 *     (default 10,000) employees for the readers.
 *  2. The gateway as `--role api` in a process of its own (`node src/server.ts`, the documented way).
 *  3. Idle: 200 concurrent clients (autocannon, own process) read `GET /v1/employees?page_size=50`.
 *  4. The same load again while a full sync of the sandbox tenant runs in a worker process
 *     (bench/sync-worker.ts), started just before the load.
 * Reports errors, non-2xx, req/s and p99 for both, and p99 during sync / p99 idle (target ≤ 2).
 *
 * Usage: npx tsx bench/api-during-sync.ts   (BENCH_WORKERS=20000 for a quicker run)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import { seedLinkedAccount } from '../src/seed/seed-account.js';
import { driveLoad } from './autocannon.js';
import { credentialsOf, linkAccount, openBenchDatabase, startSandboxProcess } from './sync-helpers.js';

const WORKERS = Number(process.env.BENCH_WORKERS ?? 100_000);
const READ_EMPLOYEES = Number(process.env.BENCH_READ_EMPLOYEES ?? 10_000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const PORT = Number(process.env.BENCH_PORT ?? 3917);
const log = (message: string) => console.error(`[bench] ${message}`);
const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

async function startGateway(databaseUrl: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts', '--role', 'api'], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: String(PORT),
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: '100000000',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (let attempt = 0; attempt < 300; attempt++) {
    const ready = await fetch(`http://127.0.0.1:${PORT}/ready`)
      .then((response) => response.ok)
      .catch(() => false);
    if (ready) return child;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the gateway did not become ready');
}

function startSyncWorker(databaseUrl: string, accountId: string, credentials: object, caPem: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/sync-worker.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      ACCOUNT_ID: accountId,
      CREDENTIALS: JSON.stringify(credentials),
      CA_PEM: caPem,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const finished = once(child, 'exit').then(() => {
    const report = JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as {
      status: string;
      seconds: number;
      records: number;
    };
    return report;
  });
  return { child, finished, startedAt: performance.now() };
}

async function main() {
  const sandbox = await startSandboxProcess(WORKERS);
  const db = await openBenchDatabase();
  let gateway: ChildProcess | undefined;
  try {
    log(`seeding ${READ_EMPLOYEES} employees for the readers`);
    const seeded = await seedLinkedAccount(db, { employees: READ_EMPLOYEES, seed: 3 });
    const syncAccountId = await linkAccount(db, sandbox);
    gateway = await startGateway(db.url);
    const url = `http://127.0.0.1:${PORT}/v1/employees?page_size=50`;
    const headers = { authorization: `Bearer ${seeded.api_key}`, 'x-account-token': seeded.account_token };
    await driveLoad({ url, headers, seconds: 3, connections: CONNECTIONS });
    const idleLoad = load();
    const idle = await driveLoad({ url, headers, seconds: SECONDS, connections: CONNECTIONS });
    log(`idle: ${JSON.stringify(idle)} (load ${idleLoad})`);

    const sync = startSyncWorker(db.url, syncAccountId, credentialsOf(sandbox), sandbox.caCertPem);
    // Let the sync get past token and plan, into its pages, before measuring.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const busyLoad = load();
    const during = await driveLoad({ url, headers, seconds: SECONDS, connections: CONNECTIONS });
    const syncStillRunning = sync.child.exitCode === null;
    log(
      `during sync: ${JSON.stringify(during)} (load ${busyLoad}; sync still running at the end: ${syncStillRunning})`,
    );
    const report = await sync.finished;
    log(`sync: ${report.status}, ${report.records} records in ${report.seconds.toFixed(1)} s`);
    const summary = {
      workers: WORKERS,
      connections: CONNECTIONS,
      seconds: SECONDS,
      idle,
      duringSync: during,
      syncCoveredWholeWindow: syncStillRunning,
      p99Ratio: Number((during.p99Ms / idle.p99Ms).toFixed(2)),
      errors: idle.errors + idle.non2xx + during.errors + during.non2xx,
      sync: report,
      load: { idle: idleLoad, duringSync: busyLoad },
    };
    console.log(JSON.stringify(summary));
  } finally {
    gateway?.kill('SIGTERM');
    if (gateway) await once(gateway, 'exit');
    await sandbox.stop();
    await db.close();
  }
}

await main();
