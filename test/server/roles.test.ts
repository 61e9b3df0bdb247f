import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { createAccountWithCredentials } from '../../src/accounts/linked-accounts.js';
import { createKeyring, parseKeys } from '../../src/crypto/credentials.js';
import { createPlatform } from '../../src/platforms/platform-service.js';
import { SyncService } from '../../src/sync/sync-service.js';
import { createTestDatabase } from '../helpers/database.js';
import { sandboxCredentials, sandboxDependencies, startFileSandbox } from '../helpers/sandbox.js';

const db = await createTestDatabase();

/** `npm start -- --role <role>` as a real process on the test database; collects its log lines. */
function startServer(role: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts', '--role', role], {
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'hris-role-')),
      PORT: '0',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => lines.push(line));
  }
  return { child, lines };
}

async function waitFor(lines: string[], pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = lines.find((line) => pattern.test(line));
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no log line matching ${pattern}:\n${lines.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Child processes of `pid` running the gateway (a worker's relaunch with its heap limit). */
function serverChildren(pid: number): string[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
    .trim()
    .split(/\s+/)
    .filter((child) => {
      try {
        return readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('src/server.ts');
      } catch {
        return false;
      }
    });
}

async function stop(child: ChildProcess): Promise<number | null> {
  child.kill('SIGTERM');
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('--role', () => {
  it('worker: starts the sync worker without an HTTP listener, and stops cleanly', async () => {
    const { child, lines } = startServer('worker');
    await waitFor(lines, /sync worker ready/);
    expect(lines.some((line) => line.includes('Server listening'))).toBe(false);
    expect(await stop(child)).toBe(0);
  });

  it('worker: caps its own heap (WORKER_HEAP_MB) in a child that dies with it, even on SIGKILL', async () => {
    const { child, lines } = startServer('worker', { WORKER_HEAP_MB: '150', NODE_OPTIONS: '' });
    await waitFor(lines, /sync worker ready/);
    const [syncing] = serverChildren(child.pid as number);
    expect(readFileSync(`/proc/${syncing}/cmdline`, 'utf8').split('\0')).toContain(
      '--max-old-space-size=150',
    );
    child.kill('SIGKILL');
    const alive = () => {
      try {
        // A zombie (state Z) is dead, only not yet reaped by whoever adopted it.
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${syncing}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    const deadline = Date.now() + 5000;
    while (alive() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(alive()).toBe(false);
  });

  it('worker: a heap limit given by the operator is kept, without a relaunch', async () => {
    const { child, lines } = startServer('worker', { NODE_OPTIONS: '--max-old-space-size=200' });
    await waitFor(lines, /sync worker ready/);
    expect(serverChildren(child.pid as number)).toEqual([]);
    expect(await stop(child)).toBe(0);
  });

  it('api: serves the API', async () => {
    const { child, lines } = startServer('api');
    const listening = await waitFor(lines, /Server listening at/);
    const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(listening)?.[1];
    const health = await fetch(`${url}/health`);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect(await stop(child)).toBe(0);
  });

  it('refuses an unknown role, naming the setting', async () => {
    const { child, lines } = startServer('everything');
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(lines.join('\n')).toMatch(/ROLE/);
  });

  it('worker: runs a sync that another process queued, through the shared Postgres queue', async () => {
    const sandbox = await startFileSandbox({ workers: 40, seed: 4 });
    const key = randomBytes(32).toString('base64');
    const keyring = createKeyring(parseKeys(key));
    const { platform } = await createPlatform(db.prisma, 'Queue Co');
    const { account } = await createAccountWithCredentials(db, keyring, {
      provider: 'dynamics365',
      platformId: platform.id,
      endUserOriginId: 'queued',
      organizationName: 'Queued Ltd',
      credentials: sandboxCredentials(sandbox.defaultTenant),
    });
    // This process only enqueues (as an `--role api` process would); the worker process runs it.
    const quiet = { info() {}, warn() {}, error() {} };
    const queue = new SyncService({
      db,
      keyring,
      providers: { dynamics365: sandboxDependencies(sandbox) },
      intervalMinutes: 60,
      fullIntervalHours: 24,
      log: quiet,
    });
    await queue.start();
    const { run_id: runId } = await queue.requestSync(account.id, 'full', 'api');
    const { child, lines } = startServer('worker', {
      ENCRYPTION_KEY: key,
      DYNAMICS_CA_FILE: sandbox.caCertPath,
    });
    try {
      const deadline = Date.now() + 60_000;
      let status = 'queued';
      while (!['succeeded', 'failed'].includes(status) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        status = (await db.pool.query('SELECT status FROM sync_runs WHERE id = $1', [runId])).rows[0]?.status;
      }
      expect(status, lines.join('\n')).toBe('succeeded');
      const employees = await db.pool.query(
        'SELECT count(*)::int AS n FROM employees WHERE linked_account_id = $1',
        [account.id],
      );
      expect(employees.rows[0].n).toBe(sandbox.truth.workers.length);
    } finally {
      expect(await stop(child)).toBe(0);
      await queue.stop();
    }
  });
});
