import { createHash, randomUUID } from 'node:crypto';
import PgBoss from 'pg-boss';
import { refreshExpiryStatus, sweepExpiringAccounts } from '../accounts/expiry.js';
import { erasePublicTokenSecrets } from '../connect/public-tokens.js';
import type { Keyring } from '../crypto/credentials.js';
import type { Database } from '../db/database.js';
import { startQueueInTurn } from '../db/job-queues.js';
import { inTransaction } from '../db/transaction.js';
import type { LinkedAccountStatus } from '../generated/prisma/enums.js';
import {
  connectAccount,
  PROVIDER_IDS,
  type ProviderDependencies,
  providerDefinition,
  UnsyncableAccountError,
} from '../providers/registry.js';
import {
  DEFAULT_LEASE,
  LEASE_SQL,
  type LeaseOptions,
  RunLostError,
  SyncEngine,
  type SyncKind,
  type SyncProgress,
  type SyncResult,
  WORKER_NAME,
} from './engine.js';

/**
 * Runs syncs: now (the connect flow, the demo, the API's POST /v1/sync) or on schedule. Jobs go
 * through pg-boss in Postgres, so any number of gateway processes share the work; a per-account
 * advisory lock guarantees one sync per account at a time whoever starts it, and a request while a
 * sync runs joins it instead of starting another.
 *
 * Liveness: a running sync holds a lease its process renews (engine.ts). A run whose lease lapsed
 * while its account lock is free belongs to a dead process (kill -9, lost host): any process that
 * looks (the worker's ticker, a POST /v1/sync, the scheduler) fails it, fails its pg-boss job, and
 * queues a run of the same kind that resumes from the stored checkpoints. Bound: lease + one tick.
 */
export interface SyncServiceOptions {
  db: Database;
  keyring: Keyring;
  providers: ProviderDependencies;
  intervalMinutes: number;
  fullIntervalHours: number;
  /** Lease of running syncs (default 60 s, renewed every 15 s). */
  lease?: LeaseOptions;
  log: {
    info(object: object, message: string): void;
    warn(object: object, message: string): void;
    error(object: object, message: string): void;
  };
}

export interface SyncRequestResult {
  run_id: string;
  status: 'queued' | 'running';
  /** True when an already queued or running sync answers the request. */
  joined: boolean;
}

const QUEUE = 'account-sync';
/** Statuses the scheduler keeps syncing (the others wait for the employer's admin to relink). */
const SCHEDULED_STATUSES: LinkedAccountStatus[] = [
  'connected',
  'expiring_soon',
  'degraded',
  'error_permissions',
  'error_config',
];

export interface RunNowOptions {
  kind: SyncKind;
  trigger: string;
  /** Use this run id (a run queued through requestSync). */
  runId?: string;
  onProgress?: (progress: SyncProgress) => void;
}

interface SyncJob {
  linkedAccountId: string;
  kind: SyncKind;
  trigger: string;
  runId: string;
}

/** Two 32-bit keys for pg_advisory_lock, from the account id. */
function lockKeys(linkedAccountId: string): [number, number] {
  const digest = createHash('sha256').update(`sync:${linkedAccountId}`).digest();
  return [digest.readInt32BE(0), digest.readInt32BE(4)];
}

export class SyncService {
  private readonly engine: SyncEngine;
  private readonly lease: LeaseOptions;
  private boss: PgBoss | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private readonly running = new Map<string, Promise<SyncResult | undefined>>();
  /** Live progress of syncs running in this process, per account and source table. */
  readonly progress = new Map<string, Map<string, SyncProgress>>();

  constructor(private readonly options: SyncServiceOptions) {
    this.lease = options.lease ?? DEFAULT_LEASE;
    this.engine = new SyncEngine(options.db.pool, this.lease);
  }

  /** Connects to the job queue (every role needs it to enqueue). */
  async start(): Promise<void> {
    const { db } = this.options;
    this.boss = new PgBoss({
      db: { executeSql: (text, values) => db.pool.query(text, values) },
      schema: 'pgboss',
    });
    this.boss.on('error', (error) => this.options.log.warn({ err: error }, 'job queue error'));
    await startQueueInTurn(db.pool, this.boss, QUEUE, {
      name: QUEUE,
      policy: 'stately',
      retryLimit: 0,
      expireInHours: 6,
    });
  }

  /** Works sync jobs and schedules due accounts (worker role). */
  async startWorker(concurrency = 2): Promise<void> {
    if (!this.boss) await this.start();
    const boss = this.boss as PgBoss;
    for (let worker = 0; worker < concurrency; worker++) {
      await boss.work<SyncJob>(QUEUE, { batchSize: 1, pollingIntervalSeconds: 1 }, async ([job]) => {
        if (!job) return;
        const { linkedAccountId, runId } = job.data;
        // Claim the run at once: from here its lease (set by the engine) tells whether we live.
        await this.options.db.pool.query('UPDATE sync_runs SET job_id = $2, worker = $3 WHERE id = $1', [
          runId,
          job.id,
          WORKER_NAME,
        ]);
        const result = await this.runNow(linkedAccountId, {
          kind: job.data.kind,
          trigger: job.data.trigger,
          runId,
        });
        if (result?.runId !== runId) {
          // Another sync of the account (in another process, or this one's connect flow) ran
          // instead: this queued run will not happen, say so rather than leave it queued for ever
          // (requests would join it).
          await this.options.db.pool.query(
            `UPDATE sync_runs SET status = 'failed', finished_at = now(),
               error = 'skipped: another sync of this account was running'
             WHERE id = $1 AND status = 'queued'`,
            [runId],
          );
        }
      });
    }
    // Ticks often enough to notice a dead run within its lease (and at least twice a schedule).
    const everyMs =
      Math.min(this.options.intervalMinutes * 60_000, 30_000, this.lease.leaseSeconds * 1000) / 2;
    this.ticker = setInterval(() => {
      this.scheduleDue().catch((error: unknown) =>
        this.options.log.warn({ err: error }, 'scheduling failed'),
      );
    }, everyMs);
    this.ticker.unref();
    await this.scheduleDue();
  }

  async stop(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    await Promise.allSettled(this.running.values());
    await this.boss?.stop({ graceful: true, wait: true, close: false });
  }

  /** Enqueues a sync, or answers with the one already queued or running for the account. */
  async requestSync(linkedAccountId: string, kind: SyncKind, trigger: string): Promise<SyncRequestResult> {
    // A dead run is never joined: fail and resume it first (the request then joins the resumption).
    await this.reapDeadRuns(linkedAccountId);
    const { pool } = this.options.db;
    const existing = await pool.query<{ id: string; status: 'queued' | 'running' }>(
      `SELECT id, status FROM sync_runs WHERE linked_account_id = $1
         AND (status = 'queued' OR (status = 'running' AND lease_expires_at > now()))
       ORDER BY status = 'running' DESC, started_at DESC LIMIT 1`,
      [linkedAccountId],
    );
    const found = existing.rows[0];
    if (found) return { run_id: found.id, status: found.status, joined: true };
    return this.enqueue(linkedAccountId, kind, trigger);
  }

  private async enqueue(
    linkedAccountId: string,
    kind: SyncKind,
    trigger: string,
  ): Promise<SyncRequestResult> {
    const { pool } = this.options.db;
    if (!this.boss) throw new Error('sync service not started');
    const runId = randomUUID();
    await pool.query(
      `INSERT INTO sync_runs (id, linked_account_id, kind, trigger, status) VALUES ($1, $2, $3, $4, 'queued')`,
      [runId, linkedAccountId, kind, trigger],
    );
    const jobId = await this.boss.send(QUEUE, { linkedAccountId, kind, trigger, runId } satisfies SyncJob, {
      singletonKey: linkedAccountId,
    });
    if (!jobId) {
      // pg-boss already holds a queued job for this account: that one will run.
      await pool.query('DELETE FROM sync_runs WHERE id = $1', [runId]);
      const queued = await pool.query<{ id: string }>(
        `SELECT id FROM sync_runs WHERE linked_account_id = $1 AND status IN ('queued', 'running') ORDER BY started_at DESC LIMIT 1`,
        [linkedAccountId],
      );
      return { run_id: queued.rows[0]?.id ?? runId, status: 'queued', joined: true };
    }
    return { run_id: runId, status: 'queued', joined: false };
  }

  /**
   * Fails the runs whose process died and queues their resumption (same kind, from the stored
   * checkpoints): running runs whose lease lapsed while nobody holds their account's lock, and
   * runs whose pg-boss job was taken by a worker that died before starting or ending it.
   * A lapsed lease with the lock still held is a stalled, not a dead, process: it is left alone and
   * logged. Returns the runs failed.
   */
  async reapDeadRuns(linkedAccountId?: string): Promise<string[]> {
    const { pool } = this.options.db;
    const { log } = this.options;
    const leaseSeconds = this.lease.leaseSeconds;
    const { rows: lapsed } = await pool.query<{ id: string; linked_account_id: string; kind: SyncKind }>(
      `SELECT id, linked_account_id, kind FROM sync_runs
       WHERE status = 'running' AND coalesce(lease_expires_at, started_at + make_interval(secs => $2)) < now()
         AND ($1::uuid IS NULL OR linked_account_id = $1::uuid)`,
      [linkedAccountId ?? null, leaseSeconds],
    );
    const { rows: orphaned } = this.boss
      ? await pool.query<{ id: string; linked_account_id: string; kind: SyncKind }>(
          `SELECT r.id, r.linked_account_id, r.kind FROM pgboss.job j
           JOIN sync_runs r ON r.id::text = j.data->>'runId'
           WHERE j.name = $1 AND j.state = 'active' AND r.status <> 'running'
             AND j.started_on < now() - make_interval(secs => $3)
             AND ($2::uuid IS NULL OR r.linked_account_id = $2::uuid)`,
          [QUEUE, linkedAccountId ?? null, leaseSeconds],
        )
      : { rows: [] };
    const reaped: { id: string; linked_account_id: string; kind: SyncKind }[] = [];
    for (const run of [...lapsed, ...orphaned]) {
      const client = await pool.connect();
      const [classId, objectId] = lockKeys(run.linked_account_id);
      try {
        const locked = await client.query<{ locked: boolean }>(
          'SELECT pg_try_advisory_lock($1, $2) AS locked',
          [classId, objectId],
        );
        if (!locked.rows[0]?.locked) {
          log.warn({ runId: run.id }, 'sync lease lapsed but its process still holds the account: stalled');
          continue;
        }
        try {
          const failed = await inTransaction(pool, async (fencing) => {
            await fencing.query(LEASE_SQL.fence, [null, run.id]);
            return fencing.query<{ worker: string | null }>(
              `UPDATE sync_runs SET status = 'failed', finished_at = now(), lease_expires_at = NULL,
                 error = 'interrupted: its worker (' || coalesce(worker, 'unknown') || ') stopped renewing its lease; resumed by another run'
               WHERE id = $1 AND status IN ('queued', 'running') RETURNING worker`,
              [run.id],
            );
          });
          const row = failed.rows[0];
          if (row) {
            reaped.push(run);
            log.warn({ runId: run.id, worker: row.worker }, 'sync run interrupted: resuming it');
          }
          // The job would stay active for hours and, with the queue's one-active-job-per-account
          // policy, block the account's next job.
          const jobs = await pool.query<{ id: string }>(
            `SELECT id FROM pgboss.job WHERE name = $1 AND state = 'active' AND data->>'runId' = $2`,
            [QUEUE, run.id],
          );
          for (const job of jobs.rows) {
            await this.boss?.fail(QUEUE, job.id, { error: 'the worker running it died' });
          }
        } finally {
          await client.query('SELECT pg_advisory_unlock($1, $2)', [classId, objectId]);
        }
      } finally {
        client.release();
      }
    }
    for (const run of reaped) {
      if (this.boss) await this.enqueue(run.linked_account_id, run.kind, 'recovery');
    }
    return reaped.map((run) => run.id);
  }

  /**
   * Runs a sync in this process and waits for it. Returns undefined when another process holds the
   * account's sync (the caller joined a sync it does not run).
   */
  async runNow(linkedAccountId: string, options: RunNowOptions): Promise<SyncResult | undefined> {
    const inProcess = this.running.get(linkedAccountId);
    if (inProcess) return inProcess;
    const run = this.runLocked(linkedAccountId, options).finally(() => this.running.delete(linkedAccountId));
    this.running.set(linkedAccountId, run);
    return run;
  }

  private async runLocked(linkedAccountId: string, options: RunNowOptions): Promise<SyncResult | undefined> {
    const { db, keyring, providers, log } = this.options;
    const lockClient = await db.pool.connect();
    const [classId, objectId] = lockKeys(linkedAccountId);
    try {
      const locked = await lockClient.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock($1, $2) AS locked',
        [classId, objectId],
      );
      if (!locked.rows[0]?.locked) return undefined;
      try {
        // Holding the lock, any run still marked running was cut short (a killed process).
        await inTransaction(db.pool, async (fencing) => {
          await fencing.query(LEASE_SQL.fence, [linkedAccountId, null]);
          await fencing.query(
            `UPDATE sync_runs SET status = 'failed', finished_at = now(), error = 'interrupted: the process running it stopped'
             WHERE linked_account_id = $1 AND status = 'running'`,
            [linkedAccountId],
          );
        });
        const progress = new Map<string, SyncProgress>();
        this.progress.set(linkedAccountId, progress);
        let result: SyncResult;
        try {
          const connection = await connectAccount(db, keyring, providers, linkedAccountId);
          try {
            result = await this.engine.run({
              linkedAccountId,
              connection,
              kind: options.kind,
              trigger: options.trigger,
              ...(options.runId ? { runId: options.runId } : {}),
              onProgress: (update) => {
                progress.set(update.sourceTable, update);
                options.onProgress?.(update);
              },
              log,
            });
          } finally {
            await connection.close();
          }
        } catch (error) {
          if (error instanceof UnsyncableAccountError) throw error;
          result = {
            runId: options.runId ?? randomUUID(),
            status: 'failed',
            stats: {},
            errors: [{ sourceTable: '(connect)', error }],
            error,
          };
        }
        // A run taken over by another worker says nothing about the account's health.
        if (!(result.error instanceof RunLostError)) await this.updateAccountStatus(linkedAccountId, result);
        log.info(
          { linkedAccountId, runId: result.runId, status: result.status, kind: options.kind },
          `sync ${result.status}`,
        );
        return result;
      } finally {
        await lockClient.query('SELECT pg_advisory_unlock($1, $2)', [classId, objectId]);
      }
    } finally {
      lockClient.release();
    }
  }

  /**
   * The account's status after a sync: its provider's diagnosis of the failure, or healthy (or
   * expiring).
   */
  private async updateAccountStatus(linkedAccountId: string, result: SyncResult): Promise<void> {
    const { pool } = this.options.db;
    if (result.status === 'failed') {
      const { rows } = await pool.query<{ provider: string }>(
        'SELECT provider FROM linked_accounts WHERE id = $1',
        [linkedAccountId],
      );
      const definition = providerDefinition(rows[0]?.provider ?? '');
      const message = result.error instanceof Error ? result.error.message : String(result.error);
      const diagnosis = definition?.diagnose(result.error) ?? {
        status: 'degraded' as const,
        reason: `Sync failed: ${message}. The next sync retries.`,
      };
      await pool.query(
        'UPDATE linked_accounts SET status = $2, status_reason = $3, updated_at = now() WHERE id = $1',
        [linkedAccountId, diagnosis.status, diagnosis.reason],
      );
      return;
    }
    await refreshExpiryStatus(pool, linkedAccountId);
  }

  /** Enqueues incremental syncs that are due, and full ones once a day (FULL_SYNC_INTERVAL_HOURS). */
  async scheduleDue(): Promise<number> {
    const { pool } = this.options.db;
    // Dead runs first: the account would otherwise look busy and be skipped.
    await this.reapDeadRuns();
    const { rows } = await pool.query<{ id: string; full_due: boolean }>(
      `SELECT a.id,
              coalesce(max(r.started_at) FILTER (WHERE r.kind = 'full' AND r.status = 'succeeded'), '-infinity')
                < now() - make_interval(secs => $3) AS full_due
       FROM linked_accounts a LEFT JOIN sync_runs r ON r.linked_account_id = a.id
       WHERE a.provider = ANY($4::text[]) AND a.status = ANY($1::linked_account_status[])
       GROUP BY a.id
       HAVING coalesce(max(r.started_at), '-infinity') < now() - make_interval(secs => $2)
          AND NOT bool_or(coalesce(r.status IN ('queued', 'running'), false))`,
      [
        SCHEDULED_STATUSES,
        this.options.intervalMinutes * 60,
        this.options.fullIntervalHours * 3600,
        // Registered providers this process can sync (an account of another one has nothing to sync).
        PROVIDER_IDS.filter((id) => this.options.providers[id] !== undefined),
      ],
    );
    for (const row of rows) await this.requestSync(row.id, row.full_due ? 'full' : 'incremental', 'schedule');
    // Accounts whose syncs keep succeeding still need to hear that their secret is about to expire.
    await sweepExpiringAccounts(pool);
    // Account tokens handed over more than the retry window ago become unrecoverable.
    await erasePublicTokenSecrets(pool);
    return rows.length;
  }
}
