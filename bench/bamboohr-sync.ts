/**
 * BambooHR sync benchmark (issue 12, Figures): a first sync of a BENCH_EMPLOYEES (default 10,000)
 * employee BambooHR company from the sandbox's simulator, then incremental syncs (100 updated, 10
 * new and 10 deleted employees; then nothing changed), through the real sync engine into an embedded
 * PostgreSQL. The simulator enforces its documented rate limit (200 requests per 10 s per API key,
 * docs/bamboohr.md); the run counts requests and throttled answers, so the figures show the limit is
 * respected; a last incremental sync runs under a strict limit (10 requests per 10 s) to show the
 * sync waiting out Retry-After rather than failing. The simulator runs in a child process (its serving does not share the measured event loop).
 *
 * Usage: npx tsx bench/bamboohr-sync.ts   (BENCH_EMPLOYEES=2000 for a quicker run)
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Agent, type Dispatcher, request } from 'undici';
import { createAccountWithCredentials } from '../src/accounts/linked-accounts.js';
import { createKeyring } from '../src/crypto/credentials.js';
import { createPlatform } from '../src/platforms/platform-service.js';
import { BambooConnection } from '../src/providers/bamboohr/connection.js';
import type { BambooCredentials } from '../src/providers/bamboohr/credentials.js';
import { createHttpPool } from '../src/providers/http-pool.js';
import type { BambooFacts } from '../src/sandbox/bamboohr/simulator.js';
import { SyncEngine, type SyncResult } from '../src/sync/engine.js';
import { benchTempDir, openBenchDatabase, withPeakRss } from './sync-helpers.js';

const EMPLOYEES = Number(process.env.BENCH_EMPLOYEES ?? 10_000);

async function startBambooSandbox(): Promise<{ facts: BambooFacts; stop(): Promise<void> }> {
  const dataDir = benchTempDir('hris-bench-bamboo-');
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/sandbox/cli.ts',
      '--provider',
      'bamboohr',
      '--workers',
      String(EMPLOYEES),
    ].concat(['--port', '0', '--json', '--data-dir', dataDir]),
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`sandbox exited with ${code}`)));
  });
  return {
    facts: JSON.parse(first) as BambooFacts,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

/** Counts the requests sent through the pool (throttled answers are counted by the retry hook). */
function countingDispatcher(inner: Dispatcher) {
  const counts = { requests: 0, throttled: 0 };
  const dispatcher = inner.compose((dispatch) => (options, handler) => {
    counts.requests++;
    return dispatch(options, handler);
  });
  return { dispatcher, counts };
}

function summarise(
  label: string,
  result: SyncResult,
  seconds: number,
  counts: { requests: number; throttled: number },
) {
  const models = Object.entries(result.stats).map(
    ([model, stats]) => `${model} +${stats.created} ~${stats.updated} -${stats.deleted}`,
  );
  const records = Object.values(result.stats).reduce(
    (sum, stats) => sum + stats.created + stats.updated + stats.deleted,
    0,
  );
  console.log(
    `${label}: ${result.status} in ${seconds.toFixed(2)} s, ${records} records changed (${Math.round(records / seconds)}/s), ${counts.requests} requests, ${counts.throttled} throttled\n  ${models.join(', ')}`,
  );
}

async function main(): Promise<void> {
  console.log(`Starting the BambooHR simulator with ${EMPLOYEES} employees…`);
  const sandbox = await startBambooSandbox();
  const db = await openBenchDatabase();
  const caCertPem = readFileSync(sandbox.facts.caCertPath, 'utf8');
  const pool = createHttpPool({ caCertPem, connections: 4 });
  const { dispatcher, counts } = countingDispatcher(pool);
  try {
    const credentials: BambooCredentials = {
      companyDomain: sandbox.facts.companyDomain,
      apiKey: sandbox.facts.apiKey,
      apiRoot: sandbox.facts.apiBaseUrl,
    };
    const { platform } = await createPlatform(db.prisma, 'bench');
    const { account } = await createAccountWithCredentials(db, createKeyring([randomBytes(32)]), {
      provider: 'bamboohr',
      platformId: platform.id,
      endUserOriginId: 'bench-bamboohr',
      organizationName: 'Bench',
      credentials,
    });
    // The provider's defaults: 2 requests in flight per account, 1000 records per page.
    const connection = new BambooConnection(account.id, credentials, {
      dispatcher,
      concurrency: 2,
      pageSize: 1000,
      retryBudgetMs: 120_000,
      onRetry: (event) => {
        if (event.reason === 'HTTP 429' || event.reason === 'HTTP 503') counts.throttled++;
      },
    });
    const engine = new SyncEngine(db.pool);
    const run = async (label: string, kind: 'full' | 'incremental') => {
      counts.requests = 0;
      counts.throttled = 0;
      const { result, seconds, peakRssMb } = await withPeakRss(() =>
        engine.run({ linkedAccountId: account.id, connection, kind, trigger: 'bench' }),
      );
      summarise(label, result, seconds, counts);
      console.log(`  peak RSS of this process ${peakRssMb} MB`);
      if (result.status !== 'succeeded') throw result.error;
    };
    await run('First sync', 'full');

    const controls = new Agent({ connect: { ca: caCertPem } });
    const control = async (action: string, body: object) => {
      const root = sandbox.facts.apiBaseUrl.replace(/\/api\/gateway\.php$/, '');
      const response = await request(`${root}/_sandbox/bamboohr/${action}`, {
        method: 'POST',
        dispatcher: controls,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      await response.body.dump();
    };
    await control('employees/update', { count: 100 });
    await control('employees/create', { count: 10 });
    await control('employees/delete', { ids: Array.from({ length: 10 }, (_, index) => String(200 + index)) });
    await run('Incremental sync (100 updated, 10 new, 10 deleted)', 'incremental');
    await run('Incremental sync (nothing changed)', 'incremental');
    // A strict limit, as a busy BambooHR account may have: the sync waits out each Retry-After.
    await control('rate-limit', { requestLimit: 10, windowSeconds: 10 });
    await control('employees/update', { count: 100 });
    await run('Incremental sync (100 updated) at 10 requests per 10 s', 'incremental');
    await controls.close();
  } finally {
    await pool.close();
    await db.close();
    await sandbox.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
