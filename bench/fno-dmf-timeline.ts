/**
 * Where the first DMF load's time goes: the same load as bench/fno-dmf.ts (a 100k-worker sandbox
 * tenant, Dataverse side synced first, then dependents, enrollments and coverage links from one DMF
 * export), run in this process so each stream's first and last page and each derivation are printed
 * with their time since the run started, followed by this process's and PostgreSQL's CPU seconds.
 * A diagnostic, not the measured figure (that one runs in a worker started the documented way).
 *
 *   npx tsx --max-old-space-size=160 bench/fno-dmf-timeline.ts [workers]
 *
 * With BENCH_DATABASE_URL pointing at a server that preloads pg_stat_statements, the statistics are
 * reset when the load starts, so that view then shows the load's statements alone.
 */
import { randomBytes } from 'node:crypto';
import { DynamicsConnection } from '../src/providers/dynamics/connection.js';
import { SyncEngine } from '../src/sync/engine.js';
import {
  cpuSeconds,
  credentialsOf,
  dynamicsDependencies,
  linkAccount,
  openBenchDatabase,
  postgresPid,
  startSandboxProcess,
} from './sync-helpers.js';

const workers = Number(process.argv[2] ?? 100_000);
const sandbox = await startSandboxProcess(workers);
process.once('exit', () => sandbox.child.kill('SIGTERM'));
const db = await openBenchDatabase();
const accountId = await linkAccount(db, sandbox, {
  encryptionKey: randomBytes(32),
  withFno: true,
  sources: { dependents: 'dmf', benefit_enrollments: 'dmf' },
});
const deps = dynamicsDependencies(sandbox);
const engine = new SyncEngine(db.pool);
const connection = (sources: { dependents: 'dmf' | 'dataverse'; benefit_enrollments: 'dmf' | 'dataverse' }) =>
  new DynamicsConnection(accountId, { ...credentialsOf(sandbox, true), sources }, deps);
await engine.run({
  linkedAccountId: accountId,
  connection: connection({ dependents: 'dataverse', benefit_enrollments: 'dataverse' }),
  kind: 'full',
  trigger: 'bench',
});

const postgres = postgresPid(db.url);
if (process.env.BENCH_DATABASE_URL) {
  await db.pool.query('SELECT pg_stat_statements_reset()').catch(() => undefined);
}
const started = performance.now();
const cpuAtStart = { self: process.cpuUsage(), postgres: postgres ? cpuSeconds(postgres) : 0 };
const at = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
const begun = new Set<string>();
const result = await engine.run({
  linkedAccountId: accountId,
  connection: connection({ dependents: 'dmf', benefit_enrollments: 'dmf' }),
  kind: 'incremental',
  trigger: 'bench',
  onProgress: (progress) => {
    if (!begun.has(progress.sourceTable)) {
      begun.add(progress.sourceTable);
      console.log(`${at()} first page of ${progress.sourceTable}`);
    }
    if (progress.done) {
      console.log(
        `${at()} done: ${progress.sourceTable}, ${progress.records} records in ${progress.pages} pages`,
      );
    }
  },
  log: {
    info: (details, message) => console.log(`${at()} ${message} ${JSON.stringify(details)}`),
    warn: (details, message) =>
      console.log(`${at()} WARN ${message} ${JSON.stringify(details).slice(0, 300)}`),
  },
});
const self = process.cpuUsage(cpuAtStart.self);
console.log(
  `${at()} ${result.status}; CPU seconds: this process ${((self.user + self.system) / 1e6).toFixed(1)}, PostgreSQL ${
    postgres ? (cpuSeconds(postgres) - cpuAtStart.postgres).toFixed(1) : 'n/a'
  }`,
);
await deps.dispatcher.close();
await db.close();
await sandbox.stop();
