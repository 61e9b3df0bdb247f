/**
 * Shared set-up of the sync benchmarks: a sandbox tenant in a child process (so serving it does not
 * share this process's event loop with the sync being measured), an embedded PostgreSQL in a temp
 * directory, and a linked account connected to the sandbox.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createDynamicsAccount } from '../src/accounts/dynamics-accounts.js';
import { createKeyring } from '../src/crypto/credentials.js';
import { type Database, openDatabase } from '../src/db/database.js';
import { createPlatform } from '../src/platforms/platform-service.js';
import { DynamicsConnection, type DynamicsDependencies } from '../src/providers/dynamics/connection.js';
import type { DynamicsCredentials } from '../src/providers/dynamics/credentials.js';
import { createDynamicsHttp, createMsalNetworkClient } from '../src/providers/dynamics/http-client.js';

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

/** `tenantShape`: what the tenant's Dataverse serves (src/sandbox/options.ts, TENANT_SHAPES). */
export async function startSandboxProcess(
  workers: number,
  seed = 42,
  tenantShape?: string,
): Promise<SandboxProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hris-bench-sandbox-'));
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
  const dispatcher = createDynamicsHttp({ caCertPem: sandbox.caCertPem, connections: 8 });
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
  const dataDir = mkdtempSync(join(tmpdir(), 'hris-bench-db-'));
  return openDatabase({ DATA_DIR: dataDir, EMBEDDED_POSTGRES_PORT: 0, DB_POOL_SIZE: 10 }, () => {});
}

/** Links an account to the sandbox tenant; `encryptionKey` is the key a gateway process must be given to read it. */
export async function linkAccount(
  db: Database,
  sandbox: SandboxProcess,
  options: { encryptionKey?: Buffer; withFno?: boolean } = {},
) {
  const keyring = createKeyring([options.encryptionKey ?? randomBytes(32)]);
  const { platform } = await createPlatform(db.prisma, 'bench');
  const { account } = await createDynamicsAccount(db, keyring, {
    platformId: platform.id,
    endUserOriginId: `bench-${randomBytes(4).toString('hex')}`,
    organizationName: 'Bench',
    credentials: credentialsOf(sandbox, options.withFno),
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
