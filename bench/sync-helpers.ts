/**
 * Shared set-up of the sync benchmarks: a sandbox tenant in a child process (so serving it does not
 * share this process's event loop with the sync being measured), an embedded PostgreSQL in a temp
 * directory, and a linked account connected to the sandbox.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createAccountWithCredentials } from '../src/accounts/linked-accounts.js';
import { createKeyring } from '../src/crypto/credentials.js';
import { type Database, openDatabase } from '../src/db/database.js';
import { createPlatform } from '../src/platforms/platform-service.js';
import { DynamicsConnection, type DynamicsDependencies } from '../src/providers/dynamics/connection.js';
import type { DynamicsCredentials } from '../src/providers/dynamics/credentials.js';
import { createHttpPool, createMsalNetworkClient } from '../src/providers/http-pool.js';

export interface SandboxProcess {
  facts: {
    tenantId: string;
    clientId: string;
    clientSecret: string;
    dataverseUrl: string;
    fnoUrl: string;
    authorityHost: string;
    caCertPath: string;
    controlsUrl: string;
    name?: string;
  };
  caCertPem: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * A fresh directory under the system's temp dir, removed when this process exits: a 100k run leaves
 * gigabytes of database files, and a day of benchmarks filled the disk before this.
 */
export function benchTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `tenantShape`: what the tenant's Dataverse serves (src/sandbox/options.ts, TENANT_SHAPES). */
export async function startSandboxProcess(
  workers: number,
  seed = 42,
  tenantShape?: string,
): Promise<SandboxProcess> {
  const dataDir = benchTempDir('hris-bench-sandbox-');
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/sandbox/cli.ts',
      '--workers',
      String(workers),
      '--seed',
      String(seed),
      '--port',
      '0',
      '--json',
      '--data-dir',
      dataDir,
      ...(tenantShape ? ['--tenant-shape', tenantShape] : []),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`sandbox exited with ${code}`)));
  });
  const facts = JSON.parse(first) as SandboxProcess['facts'];
  return {
    facts,
    caCertPem: readFileSync(facts.caCertPath, 'utf8'),
    child,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

/** `withFno`: the account also names its Finance & Operations environment (the fallback sources). */
export function credentialsOf(sandbox: SandboxProcess, withFno = false): DynamicsCredentials {
  return {
    tenantId: sandbox.facts.tenantId,
    clientId: sandbox.facts.clientId,
    authorityHost: sandbox.facts.authorityHost,
    dataverseUrl: sandbox.facts.dataverseUrl,
    ...(withFno ? { fnoUrl: sandbox.facts.fnoUrl } : {}),
    auth: { type: 'secret', clientSecret: sandbox.facts.clientSecret },
  };
}

export function dynamicsDependencies(sandbox: SandboxProcess): DynamicsDependencies {
  const dispatcher = createHttpPool({ caCertPem: sandbox.caCertPem, connections: 8 });
  return {
    dispatcher,
    networkClient: createMsalNetworkClient(dispatcher),
    concurrency: Number(process.env.BENCH_CONCURRENCY ?? 4),
    pageSize: Number(process.env.BENCH_PAGE_SIZE ?? 2000),
    retryBudgetMs: 120_000,
  };
}

export async function openBenchDatabase(): Promise<Database> {
  if (process.env.BENCH_DATABASE_URL) {
    return openDatabase(
      {
        DATABASE_URL: process.env.BENCH_DATABASE_URL,
        DATA_DIR: '.data',
        EMBEDDED_POSTGRES_PORT: 0,
        DB_POOL_SIZE: 10,
      },
      () => {},
    );
  }
  const dataDir = benchTempDir('hris-bench-db-');
  return openDatabase({ DATA_DIR: dataDir, EMBEDDED_POSTGRES_PORT: 0, DB_POOL_SIZE: 10 }, () => {});
}

/** Links an account to the sandbox tenant; `encryptionKey` is the key a gateway process must be given to read it. */
export async function linkAccount(
  db: Database,
  sandbox: SandboxProcess,
  options: { encryptionKey?: Buffer; withFno?: boolean; sources?: DynamicsCredentials['sources'] } = {},
) {
  const keyring = createKeyring([options.encryptionKey ?? randomBytes(32)]);
  const { platform } = await createPlatform(db.prisma, 'bench');
  const { account } = await createAccountWithCredentials(db, keyring, {
    provider: 'dynamics365',
    platformId: platform.id,
    endUserOriginId: `bench-${randomBytes(4).toString('hex')}`,
    organizationName: 'Bench',
    credentials: {
      ...credentialsOf(sandbox, options.withFno),
      ...(options.sources ? { sources: options.sources } : {}),
    },
  });
  return account.id;
}

export function connection(accountId: string, sandbox: SandboxProcess, deps: DynamicsDependencies) {
  return new DynamicsConnection(accountId, credentialsOf(sandbox), deps);
}

/** Samples the resident set size while `work` runs; returns its result and the peak in MB. */
export async function withPeakRss<T>(
  work: () => Promise<T>,
): Promise<{ result: T; peakRssMb: number; seconds: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  const started = performance.now();
  try {
    const result = await work();
    peak = Math.max(peak, process.memoryUsage().rss);
    return {
      result,
      peakRssMb: Math.round(peak / 1024 / 1024),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    clearInterval(timer);
  }
}

export async function control(sandbox: SandboxProcess, action: string, body: object): Promise<unknown> {
  const { Agent, request } = await import('undici');
  const agent = new Agent({ connect: { ca: sandbox.caCertPem } });
  const response = await request(`${sandbox.facts.controlsUrl.replace(/\/$/, '')}/${action}`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const result = await response.body.json();
  await agent.close();
  if (response.statusCode !== 200) throw new Error(`control ${action}: ${JSON.stringify(result)}`);
  return result;
}

/**
 * A gateway sync worker started the documented way (the Dockerfile's command, `node --import tsx
 * src/server.ts --role worker`): no node flags, no NODE_OPTIONS, so it caps its own heap
 * (WORKER_HEAP_MB) by relaunching itself. Its scheduler syncs the linked accounts it finds.
 */
export function startDocumentedWorker(
  databaseUrl: string,
  sandbox: SandboxProcess,
  encryptionKey: Buffer,
  env: Record<string, string> = {},
  /** Only to profile it (e.g. --cpu-prof): the relaunched child inherits them. */
  profilingFlags: string[] = [],
) {
  const { NODE_OPTIONS: _flags, ...environment } = process.env;
  const command = [...profilingFlags, '--import', 'tsx', 'src/server.ts', '--role', 'worker'];
  const worker = spawn(process.execPath, command, {
    env: {
      ...environment,
      DATABASE_URL: databaseUrl,
      DATA_DIR: benchTempDir('hris-bench-worker-'),
      ENCRYPTION_KEY: encryptionKey.toString('base64'),
      DYNAMICS_CA_FILE: sandbox.facts.caCertPath,
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  return {
    worker,
    /** Peak and current resident set of the process that syncs, and of its launcher (if it relaunched). */
    memory() {
      const pid = worker.pid as number;
      const syncing = syncingProcess(pid);
      return {
        syncingPid: syncing,
        syncing: memoryOf(syncing),
        launcher: syncing === pid ? undefined : memoryOf(pid),
      };
    },
    async stop() {
      if (worker.exitCode === null) worker.kill('SIGTERM');
      await exited;
    },
  };
}

/** Peak resident set (VmHWM) and current one (VmRSS) of a live process, in MB. */
function memoryOf(pid: number): { peakMb: number; rssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { peakMb: Math.round(kb('VmHWM') / 1024), rssMb: Math.round(kb('VmRSS') / 1024) };
}

/** The process that runs the syncs: the worker's relaunched child when it capped its heap, else itself. */
function syncingProcess(pid: number): number {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
  const child = children.map(Number).find((candidate) => {
    try {
      return readFileSync(`/proc/${candidate}/cmdline`, 'utf8').includes('src/server.ts');
    } catch {
      return false;
    }
  });
  return child ?? pid;
}

export interface FinishedRun {
  id: string;
  kind: string;
  status: string;
  seconds: number;
  error: string | null;
  stats: Record<string, { fetchStoreMs?: number; deriveMs?: number; created?: number; updated?: number }>;
}

/** Waits for the account's `nth` finished run (1-based, in start order) of `kind`; fails if the worker dies. */
export async function waitForRun(
  db: Database,
  accountId: string,
  kind: 'full' | 'incremental',
  worker: { exitCode: number | null },
  nth = 1,
): Promise<FinishedRun> {
  for (;;) {
    const { rows } = await db.pool.query<FinishedRun>(
      `SELECT id, kind, status, extract(epoch FROM finished_at - started_at)::float AS seconds, error, stats
       FROM sync_runs WHERE linked_account_id = $1 AND kind = $2 AND finished_at IS NOT NULL
       ORDER BY started_at OFFSET $3 LIMIT 1`,
      [accountId, kind, nth - 1],
    );
    if (rows[0]) return rows[0];
    if (worker.exitCode !== null) throw new Error(`the worker exited with ${worker.exitCode}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * CPU seconds used so far by a process and its live children, plus its reaped children (a
 * postmaster reaps its backends, so this covers a PostgreSQL server's work): a measure of where
 * the time goes that does not depend on how busy the machine is.
 */
export function cpuSeconds(pid: number): number {
  const ticks = (id: number, withReaped: boolean) => {
    try {
      const stat = readFileSync(`/proc/${id}/stat`, 'utf8');
      const fields = stat
        .slice(stat.lastIndexOf(')') + 2)
        .split(' ')
        .map(Number);
      // utime, stime, cutime, cstime are fields 14-17 of stat, i.e. 11-14 after the name.
      const own = (fields[11] ?? 0) + (fields[12] ?? 0);
      return withReaped ? own + (fields[13] ?? 0) + (fields[14] ?? 0) : own;
    } catch {
      return 0;
    }
  };
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    children = [];
  }
  const total = ticks(pid, true) + children.reduce((sum, child) => sum + ticks(child, false), 0);
  return total / 100; // USER_HZ
}

/** The pid of the PostgreSQL server listening on the port of `databaseUrl` (an embedded one). */
export function postgresPid(databaseUrl: string): number | undefined {
  const port = new URL(databaseUrl).port;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (
        command[0]?.endsWith('/postgres') &&
        command.includes('-p') &&
        command[command.indexOf('-p') + 1] === port
      )
        return Number(entry);
    } catch {}
  }
  return undefined;
}
