/**
 * Benchmark of the gateway's hot read path (issue 2, "Figures"), all in one run:
 *
 *  1. A fresh PostgreSQL (embedded, in a temp DATA_DIR; or BENCH_DATABASE_URL) gets a 100k-employee
 *     account from the real seeder.
 *  2. The real gateway (buildApp + listen) and a baseline (bare Fastify, one route, `pg`) serve
 *     `GET /v1/employees?page_size=100`. The baseline runs the very statement the gateway ran: we wrap
 *     the gateway pool's `query` to capture the SQL text and parameters of its first employees list,
 *     then replay exactly those. Both are driven by autocannon (50 connections, same first-page
 *     request, autocannon in its own process) after a short warm-up; we report req/s, p50/p99 and the gateway/baseline ratio.
 *  3. Page 900 of 1000 (page_size=100, reached by following `next` cursors) vs page 1: the median of
 *     ~200 sequential requests each, alternating so drift in machine load hits both alike.
 *  4. `npm start` to ready on embedded PostgreSQL: spawn → "HRIS Gateway ready" log line and → first
 *     200 on /ready, a first start that initialises a new data dir, then warm restarts.
 *
 * Usage: npm run bench:api [-- --employees 100000 --duration 15 --connections 50 --skip-startup]
 * Prints a JSON summary (and a human summary on stderr); docs/PERFORMANCE.md records the figures.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import type pg from 'pg';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createPool, openDatabase } from '../src/db/database.js';
import { seedLinkedAccount } from '../src/seed/seed-account.js';
import { createServices } from '../src/services.js';
import { driveLoad, type LoadResult } from './autocannon.js';

const { values: args } = parseArgs({
  options: {
    employees: { type: 'string', default: '100000' },
    duration: { type: 'string', default: '15' },
    connections: { type: 'string', default: '50' },
    'page-samples': { type: 'string', default: '200' },
    'startup-runs': { type: 'string', default: '4' },
    'skip-startup': { type: 'boolean', default: false },
  },
});
const EMPLOYEES = Number(args.employees);
const DURATION_S = Number(args.duration);
const CONNECTIONS = Number(args.connections);
const PAGE_SAMPLES = Number(args['page-samples']);
const STARTUP_RUNS = Number(args['startup-runs']);
const PAGE_SIZE = 100;
// Page 900 of 1000 at 100k employees; proportionally earlier for a smaller --employees.
const LATE_PAGE = Math.max(2, Math.min(900, Math.floor((EMPLOYEES / PAGE_SIZE) * 0.9)));

const log = (message: string) => console.error(`[bench] ${message}`);

const drive = (url: string, headers: Record<string, string>, seconds: number) =>
  driveLoad({ url, headers, seconds, connections: CONNECTIONS });

/** Warm-up (JIT, pool connections, PostgreSQL buffers), then the measured run. */
async function measure(
  name: string,
  url: string,
  headers: Record<string, string>,
): Promise<LoadResult & { load: string }> {
  await drive(url, headers, 3);
  const load = loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
  const result = await drive(url, headers, DURATION_S);
  log(
    `${name}: ${result.requestsPerSecond} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms (non-2xx ${result.non2xx}, errors ${result.errors}, load ${load})`,
  );
  return { ...result, load };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function timedGet(url: string, headers: Record<string, string>): Promise<[number, unknown]> {
  const started = performance.now();
  const response = await fetch(url, { headers });
  const body = await response.json();
  const elapsed = performance.now() - started;
  if (response.status !== 200) throw new Error(`${url}: ${response.status} ${JSON.stringify(body)}`);
  return [elapsed, body];
}

/** Median latency of page 1 vs page 900, measured alternately so both see the same machine load. */
async function latePage(base: string, headers: Record<string, string>) {
  const firstUrl = `${base}/v1/employees?page_size=${PAGE_SIZE}`;
  let url = firstUrl;
  for (let page = 1; page < LATE_PAGE; page++) {
    const [, body] = await timedGet(url, headers);
    const next = (body as { next: string | null }).next;
    if (!next) throw new Error(`no page ${page + 1}`);
    url = `${firstUrl}&cursor=${encodeURIComponent(next)}`;
  }
  const lateUrl = url;
  const first: number[] = [];
  const late: number[] = [];
  for (let sample = 0; sample < PAGE_SAMPLES; sample++) {
    first.push((await timedGet(firstUrl, headers))[0]);
    late.push((await timedGet(lateUrl, headers))[0]);
  }
  const result = {
    samples: PAGE_SAMPLES,
    latePage: LATE_PAGE,
    page1MedianMs: Number(median(first).toFixed(2)),
    latePageMedianMs: Number(median(late).toFixed(2)),
    ratio: Number((median(late) / median(first)).toFixed(2)),
  };
  log(`page ${LATE_PAGE} vs page 1: ${JSON.stringify(result)}`);
  return result;
}

/** Bare Fastify + pg replaying the gateway's statement: the floor any API on this SQL could reach. */
async function startBaseline(url: string, poolSize: number, sql: string, params: unknown[]) {
  // The same pool settings and type parsers as the gateway's, so row decoding costs the same.
  const pool: pg.Pool = createPool(url, poolSize);
  const app = Fastify({ logger: false });
  app.get('/v1/employees', async () => {
    const { rows } = await pool.query(sql, params);
    return { next: null, previous: null, results: rows.slice(0, PAGE_SIZE) };
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    address,
    async close() {
      await app.close();
      await pool.end();
    },
  };
}

/** Time from spawning `npm start` to its ready log line and to the first 200 on /ready. */
async function startupRun(dataDir: string, port: number) {
  const started = performance.now();
  const child: ChildProcess = spawn('npm', ['start'], {
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      DATABASE_URL: '',
      PORT: String(port),
      LOG_LEVEL: 'info',
      NODE_ENV: 'development',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let readyLineMs: number | undefined;
  let output = '';
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    if (readyLineMs === undefined && output.includes('HRIS Gateway ready')) {
      readyLineMs = performance.now() - started;
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let firstOkMs: number | undefined;
  try {
    while (performance.now() - started < 60_000) {
      if (child.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
      const ok = await fetch(`http://127.0.0.1:${port}/ready`)
        .then((response) => response.status === 200)
        .catch(() => false);
      if (ok) {
        firstOkMs = performance.now() - started;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // The log line may trail the first 200 by a tick.
    for (let wait = 0; readyLineMs === undefined && wait < 50; wait++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    // SIGTERM to the whole group (npm → sh → tsx → node); the gateway stops its PostgreSQL on exit.
    const running = child.exitCode === null && child.signalCode === null;
    const exited = running ? once(child, 'exit') : Promise.resolve();
    if (running && child.pid) process.kill(-child.pid, 'SIGTERM');
    await exited;
    // Wait for the embedded PostgreSQL to be fully stopped before the next run starts.
    await new Promise((resolve) => setTimeout(resolve, 1500));
  }
  return {
    readyLineMs: readyLineMs === undefined ? null : Math.round(readyLineMs),
    firstReadyOkMs: firstOkMs === undefined ? null : Math.round(firstOkMs),
  };
}

async function measureStartup(port: number) {
  const dataDir = await mkdtemp(join(tmpdir(), 'hris-bench-start-'));
  const runs = [];
  try {
    for (let run = 0; run < STARTUP_RUNS; run++) {
      const result = {
        kind: run === 0 ? 'first start (initdb)' : 'warm restart',
        ...(await startupRun(dataDir, port)),
      };
      log(`npm start: ${JSON.stringify(result)}`);
      runs.push(result);
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
  return runs;
}

async function freePort(): Promise<number> {
  const probe = Fastify();
  const address = await probe.listen({ host: '127.0.0.1', port: 0 });
  await probe.close();
  return Number(new URL(address).port);
}

async function main() {
  const dataDir = process.env.BENCH_DATABASE_URL ? undefined : await mkdtemp(join(tmpdir(), 'hris-bench-'));
  const config = loadConfig({
    ...(process.env.BENCH_DATABASE_URL ? { DATABASE_URL: process.env.BENCH_DATABASE_URL } : {}),
    ...(dataDir ? { DATA_DIR: dataDir } : {}),
    LOG_LEVEL: 'warn',
    // The limiter must not reject the benchmark's ~100k requests per minute from one key.
    RATE_LIMIT_PER_MINUTE: '100000000',
    NODE_ENV: 'production',
    ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
  });
  const db = await openDatabase(config, log);
  const closers: (() => Promise<void>)[] = [];
  try {
    const { rows: versionRows } = await db.pool.query<{ server_version: string }>('SHOW server_version');
    const postgresVersion = versionRows[0]?.server_version ?? 'unknown';
    log(`${db.description}; PostgreSQL ${postgresVersion}; seeding ${EMPLOYEES} employees`);
    const seedStarted = performance.now();
    const seeded = await seedLinkedAccount(db, { employees: EMPLOYEES, seed: 1 });
    const seedSeconds = Number(((performance.now() - seedStarted) / 1000).toFixed(1));
    log(`seeded in ${seedSeconds} s: ${JSON.stringify(seeded.counts)}`);
    await db.pool.query('VACUUM ANALYZE');

    // Capture the gateway's list statement: the first employees query through its pool.
    let captured: { sql: string; params: unknown[] } | undefined;
    const originalQuery = db.pool.query.bind(db.pool) as (...args: unknown[]) => unknown;
    (db.pool as { query: unknown }).query = (...queryArgs: unknown[]) => {
      const [text, values] = queryArgs;
      if (!captured && typeof text === 'string' && /FROM employees t WHERE/.test(text)) {
        captured = { sql: text, params: values as unknown[] };
      }
      return originalQuery(...queryArgs);
    };

    const services = await createServices(config, db, { info() {}, warn() {}, error() {} });
    closers.push(() => services.close());
    const gateway = await buildApp({
      config,
      db,
      keyring: services.keyring,
      sync: services.sync,
      logger: { level: 'warn' },
    });
    closers.push(() => gateway.close());
    const gatewayAddress = await gateway.listen({ host: '127.0.0.1', port: 0 });
    const headers = {
      authorization: `Bearer ${seeded.api_key}`,
      'x-account-token': seeded.account_token,
    };
    const path = `/v1/employees?page_size=${PAGE_SIZE}`;
    const probe = await fetch(`${gatewayAddress}${path}`, { headers });
    if (probe.status !== 200) throw new Error(`gateway answered ${probe.status}: ${await probe.text()}`);
    const gatewayBody = (await probe.json()) as { results: unknown[] };
    if (!captured) throw new Error('the gateway ran no employees list statement through its pool');
    const statement = captured;
    // Stop capturing: the wrapper itself would be overhead the baseline does not pay.
    delete (db.pool as { query?: unknown }).query; // back to pg.Pool.prototype.query
    log(
      `captured statement: ${statement.sql.replace(/\s+/g, ' ')} -- params ${JSON.stringify(statement.params)}`,
    );

    const baseline = await startBaseline(db.url, config.DB_POOL_SIZE, statement.sql, statement.params);
    closers.push(() => baseline.close());
    const baselineBody = (await (await fetch(`${baseline.address}${path}`)).json()) as { results: unknown[] };
    if (baselineBody.results.length !== gatewayBody.results.length) {
      throw new Error('baseline and gateway disagree on the page size');
    }

    // Baseline first, then the gateway, then the baseline again: the mean of the two baseline runs
    // evens out drift in the load other processes put on this shared machine.
    const baselineA = await measure('baseline', `${baseline.address}${path}`, {});
    const gatewayRun = await measure('gateway', `${gatewayAddress}${path}`, headers);
    const baselineB = await measure('baseline (again)', `${baseline.address}${path}`, {});
    const baselineRps = (baselineA.requestsPerSecond + baselineB.requestsPerSecond) / 2;
    const ratio = Number((gatewayRun.requestsPerSecond / baselineRps).toFixed(2));
    log(`gateway/baseline throughput: ${ratio}`);

    const pages = await latePage(gatewayAddress, headers);
    await baseline.close();
    closers.pop();

    for (const close of closers.reverse()) await close();
    closers.length = 0;
    const startupPort = await freePort();
    const startup = args['skip-startup'] ? [] : await measureStartup(startupPort);

    const summary = {
      date: new Date().toISOString(),
      machine: {
        cpus: availableParallelism(),
        node: process.version,
        postgres: postgresVersion,
        loadAverageAtEnd: loadavg().map((value) => Number(value.toFixed(2))),
      },
      employees: EMPLOYEES,
      seedSeconds,
      counts: seeded.counts,
      statement: { sql: statement.sql.replace(/\s+/g, ' '), params: statement.params },
      list: {
        connections: CONNECTIONS,
        durationSeconds: DURATION_S,
        baseline: [baselineA, baselineB],
        gateway: gatewayRun,
        throughputRatio: ratio,
      },
      pages,
      startup,
    };
    console.log(JSON.stringify(summary, null, 2));
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await db.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
