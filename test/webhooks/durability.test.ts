import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { createAccountWithCredentials } from '../../src/accounts/linked-accounts.js';
import { createKeyring, parseKeys } from '../../src/crypto/credentials.js';
import { createPlatform } from '../../src/platforms/platform-service.js';
import { SyncService } from '../../src/sync/sync-service.js';
import { createEndpoint } from '../../src/webhooks/endpoints.js';
import { createTestDatabase } from '../helpers/database.js';
import { sandboxCredentials, sandboxDependencies, startFileSandbox } from '../helpers/sandbox.js';
import { startReceiver, verify } from './receiver.js';

/**
 * At-least-once, for real: delivery runs in `--role worker` processes; the receiver fails half of
 * all requests at random; the first worker is killed with SIGKILL in the middle of delivering; two
 * new workers share what is left. After deduplication by webhook-id the receiver must hold every
 * event exactly once, each verified by the Standard Webhooks library, events about one record in
 * order, and no event sent twice at the same time.
 */
const db = await createTestDatabase();
const sandbox = await startFileSandbox({ workers: 300, seed: 21 });
const encryptionKey = randomBytes(32).toString('base64');
const keyring = createKeyring(parseKeys(encryptionKey));
const receiver = await startReceiver();
const quiet = { info() {}, warn() {}, error() {} };

function startWorker(): { child: ChildProcess; lines: string[] } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts', '--role', 'worker'], {
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'hris-webhook-worker-')),
      ENCRYPTION_KEY: encryptionKey,
      DYNAMICS_CA_FILE: sandbox.caCertPath,
      SYNC_INTERVAL_MINUTES: '1440',
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      WEBHOOK_TIMEOUT_SECONDS: '2',
      // Many quick retries: with half of all requests failing, 21 attempts all fail once in 2 million.
      WEBHOOK_RETRY_DELAYS_SECONDS: Array.from({ length: 20 }, () => '0.2').join(','),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream }).on('line', (line) => lines.push(line));
  }
  return { child, lines };
}

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

describe('webhook delivery durability', () => {
  it('delivers every event exactly once after dedup, in order per record, across a kill -9 and a 50 % failing receiver', async () => {
    const { platform } = await createPlatform(db.prisma, 'Durable Co');
    const endpoint = await createEndpoint(db.pool, keyring, platform.id, {
      url: `${receiver.url}/durable`,
      payload: 'thin',
    });
    const sync = new SyncService({
      db,
      keyring,
      providers: { dynamics365: sandboxDependencies(sandbox) },
      intervalMinutes: 1440,
      fullIntervalHours: 24,
      log: quiet,
    });
    const { account } = await createAccountWithCredentials(db, keyring, {
      provider: 'dynamics365',
      platformId: platform.id,
      endUserOriginId: 'durable',
      organizationName: 'Durable Ltd',
      credentials: sandboxCredentials(sandbox.defaultTenant),
    });
    expect((await sync.runNow(account.id, { kind: 'full', trigger: 'test' }))?.status).toBe('succeeded');
    // Two incremental syncs, the second changing again 60 of the 240 employees the first changed.
    const changed = sandbox.controls.updateRecords('cdm_workers', { count: 240 }, { cdm_lastname: 'First' });
    expect((await sync.runNow(account.id, { kind: 'incremental', trigger: 'test' }))?.status).toBe(
      'succeeded',
    );
    sandbox.controls.updateRecords('cdm_workers', { ids: changed.slice(0, 60) }, { cdm_lastname: 'Second' });
    expect((await sync.runNow(account.id, { kind: 'incremental', trigger: 'test' }))?.status).toBe(
      'succeeded',
    );

    const inFlight = new Set<string>();
    const overlapping: string[] = [];
    receiver.setResponder(async (request) => {
      const id = String(request.headers['webhook-id']);
      if (inFlight.has(id)) overlapping.push(id);
      inFlight.add(id);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight.delete(id);
      return Math.random() < 0.5 ? 500 : 200;
    });

    const first = startWorker();
    const others: ReturnType<typeof startWorker>[] = [];
    try {
      await receiver.waitFor((all) => all.length >= 80, 60_000);
      await stop(first.child, 'SIGKILL');
      const pendingAtKill = await db.pool.query(
        `SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'pending'`,
        [endpoint.id],
      );
      expect(pendingAtKill.rows[0].n, 'the kill must land mid-delivery').toBeGreaterThan(0);
      others.push(startWorker(), startWorker());
      const deadline = Date.now() + 90_000;
      for (;;) {
        const { rows } = await db.pool.query(
          `SELECT count(*) FILTER (WHERE status <> 'delivered')::int AS open, count(*)::int AS total
           FROM webhook_deliveries WHERE endpoint_id = $1`,
          [endpoint.id],
        );
        if (rows[0].total > 0 && rows[0].open === 0) break;
        if (Date.now() > deadline) {
          throw new Error(
            `not all delivered: ${JSON.stringify(rows[0])}\n${others.flatMap((w) => w.lines).join('\n')}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      await Promise.all(others.map((worker) => stop(worker.child, 'SIGTERM')));
      await stop(first.child, 'SIGKILL');
    }

    const { rows: events } = await db.pool.query<{
      id: string;
      type: string;
      record_key: string | null;
      seq: string;
    }>('SELECT id, type, record_key, seq FROM webhook_events WHERE platform_id = $1 ORDER BY seq', [
      platform.id,
    ]);
    // 240 + 60 employee events (one per record per run), 3 sync events, 1 linked_account.connected.
    expect(events.filter((e) => e.type === 'employee.updated')).toHaveLength(300);
    expect(events.filter((e) => e.type === 'sync.completed')).toHaveLength(3);

    const requests = receiver.requests.filter((r) => r.path === '/durable');
    expect(requests.filter((r) => r.status === 500).length).toBeGreaterThan(50);
    for (const request of requests) verify(endpoint.secret, request);
    const delivered = requests.filter((r) => r.status === 200).map((r) => String(r.headers['webhook-id']));
    expect(new Set(delivered)).toEqual(new Set(events.map((e) => e.id)));
    expect(overlapping).toEqual([]);

    // Per record: the later event is first attempted only after the earlier one was delivered.
    const position = (id: string, status?: number) =>
      requests.findIndex(
        (r) => r.headers['webhook-id'] === id && (status === undefined || r.status === status),
      );
    const byRecord = new Map<string, string[]>();
    for (const event of events) {
      if (event.type !== 'employee.updated' || !event.record_key) continue;
      byRecord.set(event.record_key, [...(byRecord.get(event.record_key) ?? []), event.id]);
    }
    const twice = [...byRecord.values()].filter((ids) => ids.length === 2) as [string, string][];
    expect(twice).toHaveLength(60);
    for (const [earlier, later] of twice) {
      expect(position(later)).toBeGreaterThan(position(earlier, 200));
    }
    await sync.stop();
  }, 180_000);
});
