import { randomBytes } from 'node:crypto';
import { DynamicsConnection } from '../src/providers/dynamics/connection.js';
import { SyncEngine } from '../src/sync/engine.js';
import { credentialsOf, dynamicsDependencies, linkAccount, openBenchDatabase, startSandboxProcess, cpuSeconds, postgresPid } from './sync-helpers.js';

const workers = Number(process.argv[2] ?? 100_000);
const sandbox = await startSandboxProcess(workers);
process.once('exit', () => sandbox.child.kill('SIGTERM'));
const db = await openBenchDatabase();
const accountId = await linkAccount(db, sandbox, { encryptionKey: randomBytes(32), withFno: true, sources: { dependents: 'dmf', benefit_enrollments: 'dmf' } });
const deps = dynamicsDependencies(sandbox);
const engine = new SyncEngine(db.pool);
await engine.run({ linkedAccountId: accountId, connection: new DynamicsConnection(accountId, { ...credentialsOf(sandbox, true), sources: { dependents: 'dataverse', benefit_enrollments: 'dataverse' } }, deps), kind: 'full', trigger: 'bench' });
const pg = postgresPid(db.url);
if (process.env.BENCH_DATABASE_URL) await db.pool.query("SELECT pg_stat_statements_reset()");
const t0 = performance.now();
const cpu0 = { me: process.cpuUsage(), pg: pg ? cpuSeconds(pg) : 0 };
const first = new Map<string, number>();
const result = await engine.run({
  linkedAccountId: accountId,
  connection: new DynamicsConnection(accountId, { ...credentialsOf(sandbox, true), sources: { dependents: 'dmf', benefit_enrollments: 'dmf' } }, { ...deps, concurrency: 2 }),
  kind: 'incremental', trigger: 'bench',
  onProgress: (p) => {
    const t = ((performance.now() - t0) / 1000).toFixed(1);
    if (!first.has(p.sourceTable)) { first.set(p.sourceTable, 1); console.log(`${t}s first page ${p.sourceTable}`); }
    if (p.done) console.log(`${t}s done ${p.sourceTable} ${p.records} records ${p.pages} pages`);
  },
});
const me = process.cpuUsage(cpu0.me);
console.log(`${((performance.now() - t0) / 1000).toFixed(1)}s end ${result.status}; node cpu ${((me.user + me.system) / 1e6).toFixed(1)} s, pg cpu ${(pg ? cpuSeconds(pg) - cpu0.pg : 0).toFixed(1)} s`);
console.log(JSON.stringify(Object.fromEntries(Object.entries(result.stats).map(([m, s]) => [m, { f: s?.fetchStoreMs, d: s?.deriveMs, c: s?.created, u: s?.updated }]))));
await deps.dispatcher.close();
await db.close();
await sandbox.stop();
