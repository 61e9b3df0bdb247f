/**
 * The fault soak: randomized syncs against the sandbox, each under a random mix of the sandbox's
 * faults (429 with Retry-After, 5xx, connection resets, truncated bodies, slow answers, Entra ID
 * outages, token expiry, expired delta tokens) with the sync process killed (SIGKILL) at a random
 * moment and then resumed from its checkpoints. After every run the stored data must equal the
 * sandbox's truth: nothing lost, duplicated or stale, deletions applied, and modified_at moved for
 * exactly the rows whose content changed.
 *
 *   npx tsx bench/fault-soak.ts                 long mode: 100 runs, 2,000-5,000-worker tenants
 *   npx tsx bench/fault-soak.ts --runs 10 --min-workers 40 --max-workers 120   (the CI test's size)
 *
 * test/sync/fault-soak.test.ts runs the short mode in CI. Results: docs/RELIABILITY.md.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { Database } from '../src/db/database.js';
import { DynamicsConnection } from '../src/providers/dynamics/connection.js';
import { createHttpPool, createMsalNetworkClient } from '../src/providers/http-pool.js';
import type { ActiveFaultRule } from '../src/sandbox/faults.js';
import { type FaultRuleInput, type Sandbox, type SandboxTenant, startSandbox } from '../src/sandbox/index.js';
import { createRandom, type Random } from '../src/sandbox/random.js';
import { SyncEngine, type SyncKind } from '../src/sync/engine.js';
import { MODELS } from '../src/unified/models.js';
import { createTestTenant } from '../test/helpers/fixtures.js';
import { sandboxCredentials } from '../test/helpers/sandbox-credentials.js';
import { expectEqualToTruth } from '../test/helpers/truth.js';
import { benchTempDir, openBenchDatabase } from './sync-helpers.js';

export interface SoakOptions {
  db: Database;
  sandbox: Sandbox;
  runs: number;
  minWorkers: number;
  maxWorkers: number;
  seed: number;
  /** Longest Retry-After of injected throttling (default 1 s; the CI run uses 0 to stay short). */
  maxRetryAfterSeconds?: number;
  /** Pages per table of a full load, drawn per run (default 4 to 12). */
  pagesPerTable?: [number, number];
  log?: (line: string) => void;
}

export interface RunReport {
  run: number;
  workers: number;
  pageSize: number;
  faults: string[];
  faultsFired: number;
  /**
   * The sync process was killed in the middle of the full / incremental sync (one of the two per
   * run; false also when it finished before its moment came).
   */
  killedFull: boolean;
  killedIncremental: boolean;
  tokenExpired: boolean;
  deltaTokensExpired: boolean;
  /** Resumptions needed after the kill (more than one when a resumption itself ran out of retries). */
  resumes: number;
  /** Problems found against the truth; empty when the run is clean. */
  problems: string[];
  lost: number;
  duplicated: number;
  stale: number;
  deletionsMissed: number;
  spuriousModified: number;
  missedModified: number;
  duplicateCreatedEvents: number;
  seconds: number;
}

const CHILD = 'test/sync/fixtures/sync-child.ts';
/** Columns that change without the record changing (they do not move modified_at). */
const UNTRACKED = ['modified_at', 'created_at', 'remote_data', 'remote_created_at', 'remote_modified_at'];

/** A random mix of the sandbox's fault kinds, each firing on a share of requests. */
function randomFaults(random: Random, maxRetryAfterSeconds: number): FaultRuleInput[] {
  const share = () => 0.02 + random.next() * 0.08;
  const rules: FaultRuleInput[] = [];
  if (random.chance(0.6)) {
    rules.push({
      route: 'dataverse',
      kind: 'throttle',
      retryAfterSeconds: random.int(0, maxRetryAfterSeconds),
      probability: share(),
    });
  }
  if (random.chance(0.6)) {
    const status = ([500, 502, 503, 504] as const)[random.int(0, 3)];
    rules.push({ route: 'dataverse', kind: 'server-error', status, probability: share() });
  }
  if (random.chance(0.5)) rules.push({ route: 'dataverse', kind: 'reset', probability: share() });
  if (random.chance(0.5)) rules.push({ route: 'dataverse', kind: 'truncate', probability: share() });
  if (random.chance(0.4)) {
    rules.push({ route: 'dataverse', kind: 'slow', delayMs: random.int(20, 200), probability: share() });
  }
  if (random.chance(0.4)) {
    const kind = (['server-error', 'reset', 'truncate'] as const)[random.int(0, 2)] ?? 'reset';
    rules.push({ route: 'entra', pathContains: '/token', kind, status: 503, probability: 0.3 });
  }
  return rules;
}

/** Runs one sync in a child process and SIGKILLs it after `killAfterPages` stored pages. */
async function syncInChildAndKill(
  db: Database,
  accountId: string,
  tenant: SandboxTenant,
  caCertPem: string,
  kind: SyncKind,
  pageSize: number,
  killAfterPages: number,
): Promise<boolean> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      ACCOUNT_ID: accountId,
      CREDENTIALS: JSON.stringify(sandboxCredentials(tenant)),
      CA_PEM: caCertPem,
      KIND: kind,
      PAGE_SIZE: String(pageSize),
      STREAMS: '2',
    },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let pages = 0;
  let killed = false;
  for await (const line of createInterface({ input: child.stdout })) {
    if (line.startsWith('done')) break;
    if (line.startsWith('page ') && ++pages >= killAfterPages) {
      child.kill('SIGKILL');
      killed = true;
      break;
    }
  }
  await exited;
  return killed;
}

/** Per model table: remote id → [modified_at, content without the untracked columns]. */
async function snapshot(db: Database, accountId: string) {
  const tables = new Map<string, Map<string, [number, string]>>();
  for (const { table } of Object.values(MODELS)) {
    const { rows } = await db.pool.query<{ remote_id: string; modified_at: Date; content: unknown }>(
      `SELECT remote_id, modified_at, to_jsonb(t) - $2::text[] AS content FROM ${table} t WHERE linked_account_id = $1`,
      [accountId, UNTRACKED],
    );
    tables.set(
      table,
      new Map(rows.map((row) => [row.remote_id, [row.modified_at.getTime(), JSON.stringify(row.content)]])),
    );
  }
  return tables;
}

/** Rows whose modified_at moved without a content change, and rows changed without it moving. */
function compareModified(
  before: Awaited<ReturnType<typeof snapshot>>,
  after: Awaited<ReturnType<typeof snapshot>>,
) {
  const spurious: string[] = [];
  const missed: string[] = [];
  for (const [table, rows] of before) {
    const now = after.get(table) ?? new Map();
    for (const [remoteId, [modifiedAt, content]] of rows) {
      const current = now.get(remoteId);
      if (!current) continue;
      const moved = current[0] !== modifiedAt;
      const changed = current[1] !== content;
      if (moved && !changed) spurious.push(`${table}:${remoteId}`);
      if (changed && !moved) missed.push(`${table}:${remoteId}`);
    }
  }
  return { spurious, missed };
}

async function countProblems(db: Database, accountId: string, tenant: SandboxTenant, report: RunReport) {
  const problems = await expectEqualToTruth(db, accountId, tenant);
  for (const problem of problems) {
    const counts = /(\d+) missing, (\d+) extra/.exec(problem);
    if (counts) {
      report.lost += Number(counts[1]);
      report.deletionsMissed += Number(counts[2]);
    } else if (problem.includes('duplicate')) report.duplicated++;
    else report.stale++;
  }
  const events = await db.pool.query<{ extra: number }>(
    `SELECT coalesce(sum(n - 1), 0)::int AS extra FROM (
       SELECT count(*) AS n FROM change_events WHERE linked_account_id = $1 AND kind = 'created'
       GROUP BY record_id HAVING count(*) > 1) d`,
    [accountId],
  );
  report.duplicateCreatedEvents += events.rows[0]?.extra ?? 0;
  report.problems.push(...problems);
}

export async function runFaultSoak(options: SoakOptions): Promise<RunReport[]> {
  const { db, sandbox, log = () => {} } = options;
  const dispatcher = createHttpPool({ caCertPem: sandbox.caCertPem });
  const deps = {
    dispatcher,
    networkClient: createMsalNetworkClient(dispatcher),
    concurrency: 4,
    pageSize: 100,
    retryBudgetMs: 30_000,
  };
  const engine = new SyncEngine(db.pool);
  const reports: RunReport[] = [];
  try {
    for (let run = 0; run < options.runs; run++) {
      const started = performance.now();
      const random = createRandom(options.seed * 7919 + run);
      const workers = random.int(options.minWorkers, options.maxWorkers);
      const [fewestPages, mostPages] = options.pagesPerTable ?? [4, 12];
      const pageSize = Math.max(10, Math.round(workers / random.int(fewestPages, mostPages)));
      const tenant = await sandbox.createTenant({
        name: `soak${options.seed}x${run}`,
        workers,
        seed: options.seed + run,
      });
      const { account } = await createTestTenant(db, `soak ${options.seed} ${run}`);
      const connection = new DynamicsConnection(account.id, sandboxCredentials(tenant), {
        ...deps,
        pageSize,
      });
      const rules: ActiveFaultRule[] = randomFaults(random, options.maxRetryAfterSeconds ?? 1).map((rule) =>
        sandbox.faults.add(rule),
      );
      const report: RunReport = {
        run,
        workers,
        pageSize,
        faults: rules.map((rule) => `${rule.route}:${rule.kind}`),
        faultsFired: 0,
        killedFull: false,
        killedIncremental: false,
        tokenExpired: false,
        deltaTokensExpired: false,
        resumes: 0,
        problems: [],
        lost: 0,
        duplicated: 0,
        stale: 0,
        deletionsMissed: 0,
        spuriousModified: 0,
        missedModified: 0,
        duplicateCreatedEvents: 0,
        seconds: 0,
      };
      /** Resumes from the checkpoints as the recovery run would, until a run succeeds. */
      const resume = async (kind: SyncKind) => {
        const expireAtPage = random.chance(0.3) ? random.int(1, 6) : 0;
        for (let attempt = 0; attempt < 5; attempt++) {
          report.resumes++;
          let pages = 0;
          const result = await engine.run({
            linkedAccountId: account.id,
            connection,
            kind,
            trigger: 'soak',
            onProgress: () => {
              // An hour passes at the source: the cached token expires in the middle of the sync.
              if (++pages === expireAtPage && !report.tokenExpired) {
                report.tokenExpired = true;
                sandbox.advanceClock(3_700);
              }
            },
          });
          if (result.status === 'succeeded') return;
          log(`run ${run}: a resumption failed (${String(result.error)}), resuming again`);
        }
        report.problems.push(`${kind} sync did not succeed in 5 resumptions`);
      };
      try {
        // One kill per run, at a random moment: in the full load or in the incremental sync.
        const killInFull = random.chance(0.5);
        const fullPages = Math.ceil(workers / pageSize) * 3;
        if (killInFull) {
          report.killedFull = await syncInChildAndKill(
            db,
            account.id,
            tenant,
            sandbox.caCertPem,
            'full',
            pageSize,
            random.int(1, fullPages),
          );
        }
        await resume('full');
        sandbox.resetClock();
        await countProblems(db, account.id, tenant, report);

        // Changes at the source, then an incremental sync killed and resumed the same way.
        const before = await snapshot(db, account.id);
        tenant.controls.createRecords('cdm_workers', random.int(1, 5));
        tenant.controls.updateRecords(
          'cdm_workers',
          { count: random.int(1, 10) },
          { cdm_lastname: `Soak${run}` },
        );
        tenant.controls.deleteRecords('cdm_workers', { count: random.int(1, 3) });
        report.deltaTokensExpired = random.chance(0.3);
        if (report.deltaTokensExpired) tenant.controls.expireDeltaTokens();
        if (!killInFull) {
          report.killedIncremental = await syncInChildAndKill(
            db,
            account.id,
            tenant,
            sandbox.caCertPem,
            'incremental',
            pageSize,
            random.int(1, 4),
          );
        }
        await resume('incremental');
        sandbox.resetClock();
        tenant.controls.restoreDeltaTokens();
        await countProblems(db, account.id, tenant, report);
        const { spurious, missed } = compareModified(before, await snapshot(db, account.id));
        report.spuriousModified = spurious.length;
        report.missedModified = missed.length;
        if (spurious.length > 0)
          report.problems.push(`modified_at moved without a change: ${spurious.slice(0, 5).join(', ')}`);
        if (missed.length > 0)
          report.problems.push(`changed without modified_at moving: ${missed.slice(0, 5).join(', ')}`);
      } finally {
        report.faultsFired = rules.reduce((sum, rule) => sum + rule.fired, 0);
        for (const rule of rules) sandbox.faults.remove(rule.id);
        sandbox.resetClock();
        await connection.close();
        await sandbox.removeTenant(tenant.name);
      }
      report.seconds = Math.round((performance.now() - started) / 100) / 10;
      reports.push(report);
      log(
        `run ${run}: ${workers} workers, faults ${report.faults.join(' ') || 'none'} (fired ${report.faultsFired}), ` +
          `killed full ${report.killedFull} incremental ${report.killedIncremental}, ${report.problems.length === 0 ? 'clean' : report.problems.join('; ')} (${report.seconds} s)`,
      );
    }
  } finally {
    await dispatcher.close();
  }
  return reports;
}

/** Sums of a soak's runs, as docs/RELIABILITY.md reports them. */
export function summarize(reports: RunReport[]) {
  const sum = (pick: (report: RunReport) => number) =>
    reports.reduce((total, report) => total + pick(report), 0);
  return {
    runs: reports.length,
    workers: {
      min: Math.min(...reports.map((r) => r.workers)),
      max: Math.max(...reports.map((r) => r.workers)),
    },
    killedMidFull: sum((r) => Number(r.killedFull)),
    killedMidIncremental: sum((r) => Number(r.killedIncremental)),
    tokenExpiries: sum((r) => Number(r.tokenExpired)),
    deltaTokenExpiries: sum((r) => Number(r.deltaTokensExpired)),
    faultsFired: sum((r) => r.faultsFired),
    resumptions: sum((r) => r.resumes),
    lost: sum((r) => r.lost),
    duplicated: sum((r) => r.duplicated + r.duplicateCreatedEvents),
    stale: sum((r) => r.stale),
    deletionsMissed: sum((r) => r.deletionsMissed),
    modifiedAtWrong: sum((r) => r.spuriousModified + r.missedModified),
    cleanRuns: reports.filter((r) => r.problems.length === 0).length,
    seconds: Math.round(sum((r) => r.seconds)),
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '100' },
      'min-workers': { type: 'string', default: '2000' },
      'max-workers': { type: 'string', default: '5000' },
      'max-retry-after': { type: 'string', default: '1' },
      seed: { type: 'string', default: '1' },
    },
  });
  const db = await openBenchDatabase();
  const sandbox = await startSandbox({ workers: 10, dataDir: benchTempDir('hris-soak-') });
  try {
    const reports = await runFaultSoak({
      db,
      sandbox,
      runs: Number(values.runs),
      minWorkers: Number(values['min-workers']),
      maxWorkers: Number(values['max-workers']),
      seed: Number(values.seed),
      maxRetryAfterSeconds: Number(values['max-retry-after']),
      log: (line) => process.stdout.write(`${line}\n`),
    });
    process.stdout.write(`${JSON.stringify(summarize(reports), null, 2)}\n`);
    process.exitCode = reports.every((report) => report.problems.length === 0) ? 0 : 1;
  } finally {
    await sandbox.close();
    await db.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
