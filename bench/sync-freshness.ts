/**
 * Freshness (issue 4): with the scheduler set to a 30 s interval (SYNC_INTERVAL_MINUTES=0.5), how long
 * until a change made in the sandbox is visible through the API? Each sample renames one worker at a
 * random moment of the schedule and polls GET /v1/employees?remote_id=... every 250 ms.
 *
 * Usage: npx tsx bench/sync-freshness.ts   (BENCH_WORKERS, default 10,000; BENCH_SAMPLES, default 5)
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { createAccountWithCredentials } from '../src/accounts/linked-accounts.js';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createApiKey, createPlatform } from '../src/platforms/platform-service.js';
import { createServices } from '../src/services.js';
import { control, credentialsOf, openBenchDatabase, startSandboxProcess } from './sync-helpers.js';

const WORKERS = Number(process.env.BENCH_WORKERS ?? 10_000);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 5);

const sandbox = await startSandboxProcess(WORKERS);
const db = await openBenchDatabase();
const config = loadConfig({
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  SYNC_INTERVAL_MINUTES: '0.5',
  ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  RATE_LIMIT_PER_MINUTE: '100000',
});
const quiet = { info() {}, warn() {}, error() {} };
const services = await createServices(config, db, quiet, { caCertPem: sandbox.caCertPem });
const app = await buildApp({ config, db, keyring: services.keyring, sync: services.sync, logger: false });
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
const baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

const { platform } = await createPlatform(db.prisma, 'freshness');
const { apiKey } = await createApiKey(db.prisma, platform.id, { name: 'bench', sensitive: false });
const { account, accountToken } = await createAccountWithCredentials(db, services.keyring, {
  provider: 'dynamics365',
  platformId: platform.id,
  endUserOriginId: 'freshness',
  organizationName: 'Freshness',
  credentials: credentialsOf(sandbox),
});
await services.sync.runNow(account.id, { kind: 'full', trigger: 'bench' });
await services.sync.startWorker();
const headers = { authorization: `Bearer ${apiKey}`, 'x-account-token': accountToken };

const latencies: number[] = [];
for (let sample = 0; sample < SAMPLES; sample++) {
  // Change at a random point of the 30 s schedule.
  await sleep(Math.random() * 30_000);
  const lastName = `Fresh-${sample}-${randomBytes(3).toString('hex')}`;
  const { result } = (await control(sandbox, `tenants/${sandbox.facts.name ?? 'contoso'}/records/update`, {
    table: 'cdm_workers',
    count: 1,
    changes: { cdm_lastname: lastName },
  })) as { result: { ids: string[] } };
  const ids = result.ids;
  const changedAt = performance.now();
  for (;;) {
    const response = await request(`${baseUrl}/v1/employees?remote_id=${ids[0]}`, { headers });
    const body = (await response.body.json()) as { results: Array<{ last_name: string }> };
    if (body.results[0]?.last_name === lastName) break;
    if (performance.now() - changedAt > 180_000) throw new Error('change not visible after 180 s');
    await sleep(250);
  }
  latencies.push((performance.now() - changedAt) / 1000);
  console.error(`sample ${sample + 1}: visible after ${latencies.at(-1)?.toFixed(1)} s`);
}

console.log(
  JSON.stringify({
    workers: WORKERS,
    interval_seconds: 30,
    samples_seconds: latencies.map((value) => Number(value.toFixed(1))),
    max_seconds: Number(Math.max(...latencies).toFixed(1)),
    median_seconds: Number(
      [...latencies].sort((a, b) => a - b)[Math.floor(latencies.length / 2)]?.toFixed(1),
    ),
  }),
);
await app.close();
await services.close();
await db.close();
await sandbox.stop();
