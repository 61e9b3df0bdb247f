/**
 * The full sync of bench/sync.ts in a process of its own, as a `--role worker` gateway process runs it:
 * only the database pool, the Dynamics provider and the engine are loaded (no Fastify app, no Prisma
 * query). Prints one JSON line: status, seconds, records and the process's peak resident set size
 * (getrusage maxrss), the figure the memory target is about.
 */
import { connectDatabase } from '../src/db/database.js';
import { DynamicsConnection } from '../src/providers/dynamics/connection.js';
import { createHttpPool, createMsalNetworkClient } from '../src/providers/http-pool.js';
import { SyncEngine } from '../src/sync/engine.js';

const { DATABASE_URL, ACCOUNT_ID, CREDENTIALS, CA_PEM, PAGE_SIZE, STREAMS } = process.env;
if (!DATABASE_URL || !ACCOUNT_ID || !CREDENTIALS || !CA_PEM) throw new Error('missing environment');
const db = connectDatabase(DATABASE_URL, 10);
const dispatcher = createHttpPool({ caCertPem: CA_PEM, connections: 8 });
const connection = new DynamicsConnection(ACCOUNT_ID, JSON.parse(CREDENTIALS), {
  dispatcher,
  networkClient: createMsalNetworkClient(dispatcher),
  concurrency: 4,
  pageSize: Number(PAGE_SIZE ?? 2000),
  retryBudgetMs: 120_000,
});
const records = new Map<string, number>();
const started = performance.now();
const result = await new SyncEngine(db.pool).run({
  linkedAccountId: ACCOUNT_ID,
  connection,
  kind: 'full',
  trigger: 'bench',
  ...(STREAMS ? { streamConcurrency: Number(STREAMS) } : {}),
  onProgress: (progress) => records.set(progress.sourceTable, progress.records),
});
const seconds = (performance.now() - started) / 1000;
process.stdout.write(
  `${JSON.stringify({
    status: result.status,
    error: result.error === undefined ? undefined : String(result.error),
    seconds,
    records: [...records.values()].reduce((sum, count) => sum + count, 0),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    stats: result.stats,
  })}\n`,
);
await db.close();
await dispatcher.close();
