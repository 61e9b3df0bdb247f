/**
 * Webhooks (issue 10): how fast do the changes of one incremental sync reach a local receiver, and
 * how long after a sync commits is the first delivery attempted?
 *
 * - End to end: BENCH_WORKERS (default 10,000) workers renamed in the sandbox, one incremental sync,
 *   then the time from the run's commit until the receiver holds every `employee.updated` event,
 *   with the delivery worker's peak RSS (VmHWM).
 * - Outbox lag: BENCH_LAG_SAMPLES (default 30) incremental syncs of 5 changed workers each; per run,
 *   its first delivery attempt's start minus the run's end (both PostgreSQL timestamps).
 *
 * Processes as in production: the sandbox in a child process, delivery in a `--role worker` child
 * process, the sync and the receiver (plain node:http, answers 204) in this one.
 *
 * Usage: npx tsx bench/webhooks.ts
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAccountWithCredentials } from '../src/accounts/linked-accounts.js';
import { createKeyring, parseKeys } from '../src/crypto/credentials.js';
import { createPlatform } from '../src/platforms/platform-service.js';
import { SyncService } from '../src/sync/sync-service.js';
import { createEndpoint } from '../src/webhooks/endpoints.js';
import {
  control,
  credentialsOf,
  dynamicsDependencies,
  openBenchDatabase,
  startSandboxProcess,
} from './sync-helpers.js';

const WORKERS = Number(process.env.BENCH_WORKERS ?? 10_000);
const LAG_SAMPLES = Number(process.env.BENCH_LAG_SAMPLES ?? 30);

const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' / ');
console.log(`load average at start: ${load()}`);

const sandbox = await startSandboxProcess(WORKERS);
const db = await openBenchDatabase();
const encryptionKey = randomBytes(32).toString('base64');
const keyring = createKeyring(parseKeys(encryptionKey));
const quiet = { info() {}, warn() {}, error() {} };
const sync = new SyncService({
  db,
  keyring,
  providers: { dynamics365: dynamicsDependencies(sandbox) },
  intervalMinutes: 1440,
  fullIntervalHours: 24,
  log: quiet,
});

// The receiver: records when each webhook-id first arrived.
const received = new Map<string, { type: string; at: number }>();
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const id = String(req.headers['webhook-id']);
    if (!received.has(id)) {
      received.set(id, { type: JSON.parse(Buffer.concat(chunks).toString('utf8')).type, at: Date.now() });
    }
    res.writeHead(204).end();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

const { platform } = await createPlatform(db.prisma, 'webhooks bench');
await createEndpoint(db.pool, keyring, platform.id, { url: receiverUrl, payload: 'full' });
const { account } = await createAccountWithCredentials(db, keyring, {
  provider: 'dynamics365',
  platformId: platform.id,
  endUserOriginId: 'webhooks-bench',
  organizationName: 'Webhooks Bench',
  credentials: credentialsOf(sandbox),
});
const first = await sync.runNow(account.id, { kind: 'full', trigger: 'bench' });
if (first?.status !== 'succeeded') throw new Error('first sync failed');

const worker = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts', '--role', 'worker'], {
  env: {
    ...process.env,
    DATABASE_URL: db.url,
    ENCRYPTION_KEY: encryptionKey,
    DYNAMICS_CA_FILE: sandbox.facts.caCertPath,
    SYNC_INTERVAL_MINUTES: '1440',
    WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
    LOG_LEVEL: 'warn',
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const countOf = (type: string) => [...received.values()].filter((event) => event.type === type).length;
async function waitFor(predicate: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
// The worker is up once the first sync's sync.completed arrived.
await waitFor(() => countOf('sync.completed') >= 1, 60_000, 'the first sync.completed');
const memoryMb = (field: 'VmRSS' | 'VmHWM') =>
  Math.round(
    Number(
      new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${worker.pid}/status`, 'utf8'))?.[1] ?? 0,
    ) / 1024,
  );
const idleRssMb = memoryMb('VmRSS');
/** CPU seconds (user + system) the delivery worker has used so far. */
const workerCpuSeconds = () => {
  const fields = readFileSync(`/proc/${worker.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

const tenant = `tenants/${sandbox.facts.name ?? 'contoso'}/records/update`;
await control(sandbox, tenant, { table: 'cdm_workers', count: WORKERS, changes: { cdm_lastname: 'Bench' } });
const cpuBefore = workerCpuSeconds();
const syncStarted = Date.now();
const incremental = await sync.runNow(account.id, { kind: 'incremental', trigger: 'bench' });
if (incremental?.status !== 'succeeded') throw new Error('incremental sync failed');
const { rows } = await db.pool.query<{ finished: Date }>(
  'SELECT finished_at AS finished FROM sync_runs WHERE id = $1',
  [incremental.runId],
);
const committedAt = (rows[0] as { finished: Date }).finished.getTime();
const changed = incremental.stats.employees?.updated ?? 0;
await waitFor(() => countOf('employee.updated') >= changed, 120_000, `${changed} employee.updated events`);
const lastAt = Math.max(
  ...[...received.values()].filter((e) => e.type === 'employee.updated').map((e) => e.at),
);
const firstAt = Math.min(
  ...[...received.values()].filter((e) => e.type === 'employee.updated').map((e) => e.at),
);
const peakRssMb = memoryMb('VmHWM');
const cpuUsed = workerCpuSeconds() - cpuBefore;
// Where the time went, from PostgreSQL's clock: events built (per slice), then attempts made.
const { rows: spans } = await db.pool.query<{
  built_s: number;
  first_attempt_s: number;
  last_attempt_s: number;
}>(
  `SELECT extract(epoch FROM max(ev.created_at) - r.finished_at) AS built_s,
          extract(epoch FROM min(a.started_at) - r.finished_at) AS first_attempt_s,
          extract(epoch FROM max(a.started_at) - r.finished_at) AS last_attempt_s
   FROM sync_runs r JOIN webhook_events ev ON ev.sync_run_id = r.id
   JOIN webhook_deliveries d ON d.event_id = ev.id JOIN webhook_delivery_attempts a ON a.delivery_id = d.id
   WHERE r.id = $1 GROUP BY r.finished_at`,
  [incremental.runId],
);
const span = spans[0];
console.log(
  `end to end: ${changed} employee.updated events; sync ${((committedAt - syncStarted) / 1000).toFixed(2)} s, ` +
    `commit → first event ${((firstAt - committedAt) / 1000).toFixed(2)} s, commit → all received ${((lastAt - committedAt) / 1000).toFixed(2)} s ` +
    `(${Math.round(changed / ((lastAt - committedAt) / 1000))} events/s); sync start → all received ${((lastAt - syncStarted) / 1000).toFixed(2)} s; ` +
    `delivery worker RSS ${idleRssMb} MB before, peak ${peakRssMb} MB, CPU ${cpuUsed.toFixed(1)} s; ` +
    `after commit: all events built ${Number(span?.built_s).toFixed(2)} s, attempts from ${Number(span?.first_attempt_s).toFixed(2)} to ${Number(span?.last_attempt_s).toFixed(2)} s; load ${load()}`,
);

const lags: number[] = [];
for (let sample = 0; sample < LAG_SAMPLES; sample++) {
  await control(sandbox, tenant, {
    table: 'cdm_workers',
    count: 5,
    changes: { cdm_lastname: `Lag-${sample}` },
  });
  const run = await sync.runNow(account.id, { kind: 'incremental', trigger: 'bench' });
  if (!run) throw new Error('sync joined another');
  let lag: number | undefined;
  const deadline = Date.now() + 30_000;
  while (lag === undefined && Date.now() < deadline) {
    const result = await db.pool.query<{ lag_ms: number | null }>(
      `SELECT extract(epoch FROM (min(a.started_at) - r.finished_at)) * 1000 AS lag_ms
       FROM sync_runs r JOIN webhook_events ev ON ev.sync_run_id = r.id
       JOIN webhook_deliveries d ON d.event_id = ev.id JOIN webhook_delivery_attempts a ON a.delivery_id = d.id
       WHERE r.id = $1 GROUP BY r.finished_at`,
      [run.runId],
    );
    lag = result.rows[0]?.lag_ms ?? undefined;
    if (lag === undefined) await sleep(20);
  }
  if (lag === undefined) throw new Error('no delivery attempt within 30 s');
  lags.push(Number(lag));
  await sleep(Math.random() * 500);
}
lags.sort((a, b) => a - b);
const quantile = (q: number) => lags[Math.min(lags.length - 1, Math.ceil(q * lags.length) - 1)] ?? Number.NaN;
console.log(
  `outbox lag (run end → first attempt) over ${lags.length} syncs: p50 ${quantile(0.5).toFixed(0)} ms, ` +
    `p95 ${quantile(0.95).toFixed(0)} ms, max ${quantile(1).toFixed(0)} ms; load ${load()}`,
);

worker.kill('SIGTERM');
await new Promise((resolve) => worker.once('exit', resolve));
await sync.stop();
receiver.closeAllConnections();
receiver.close();
await db.close();
await sandbox.stop();
