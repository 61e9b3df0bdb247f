import pg from 'pg';
import PgBoss from 'pg-boss';
import { Agent } from 'undici';
import type { Config } from '../config.js';
import type { Keyring } from '../crypto/credentials.js';
import type { Database } from '../db/database.js';
import { startQueueInTurn } from '../db/job-queues.js';
import { type DeliveryContext, type DeliveryPolicy, deliverEndpoint } from './delivery.js';
import { WEBHOOK_CHANNEL } from './endpoints.js';
import { dispatchNextRun, fanOutPending } from './events.js';
import { pruneWebhookHistory } from './retention.js';
import { publicOnlyLookup } from './url-safety.js';

/**
 * Webhook delivery on the worker role. A tick (woken at once by NOTIFY from the triggers and the
 * API, and every second regardless) turns ended sync runs into events, fans new events out to
 * endpoints, and queues one pg-boss job per endpoint with due deliveries; the jobs send them.
 * Everything the tick does is recorded in Postgres first, so a killed worker loses nothing: the
 * next tick of any worker finds the same due work.
 */
const QUEUE = 'webhook-delivery';
const TICK_MS = 1000;
const PRUNE_EVERY_MS = 3600_000;
const FIVE_DAYS_MS = 5 * 24 * 3600_000;

type Log = DeliveryContext['log'] & { error(object: object, message: string): void };

export interface WebhookServiceOptions {
  db: Database;
  keyring: Keyring;
  config: Pick<
    Config,
    | 'WEBHOOK_ALLOW_PRIVATE_URLS'
    | 'WEBHOOK_RETENTION_DAYS'
    | 'WEBHOOK_TIMEOUT_SECONDS'
    | 'WEBHOOK_RETRY_DELAYS_SECONDS'
  >;
  log: Log;
  /** Overrides (tests, benchmarks). */
  policy?: Partial<DeliveryPolicy>;
  /** Records turned into events per transaction (default DISPATCH_SLICE). */
  dispatchSlice?: number;
}

export class WebhookService {
  private boss: PgBoss | undefined;
  private listener: pg.Client | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private tickAgain = false;
  private stopped = false;
  private lastPrune = 0;
  private readonly workerIds: string[] = [];
  private readonly dispatcher: Agent;
  readonly policy: DeliveryPolicy;

  constructor(private readonly options: WebhookServiceOptions) {
    const { config } = options;
    this.policy = {
      timeoutMs: config.WEBHOOK_TIMEOUT_SECONDS * 1000,
      retryDelaysMs: config.WEBHOOK_RETRY_DELAYS_SECONDS.map((seconds) => seconds * 1000),
      disableAfterMs: FIVE_DAYS_MS,
      concurrency: 32,
      batchSize: 200,
      ...options.policy,
    };
    this.dispatcher = new Agent({
      connections: 64,
      connectTimeout: this.policy.timeoutMs,
      // Every connection dials a checked address (DNS rebinding protection), unless private URLs are allowed.
      ...(config.WEBHOOK_ALLOW_PRIVATE_URLS ? {} : { connect: { lookup: publicOnlyLookup } }),
    });
  }

  private context(): DeliveryContext {
    return {
      pool: this.options.db.pool,
      keyring: this.options.keyring,
      dispatcher: this.dispatcher,
      policy: this.policy,
      stopping: () => this.stopped,
      log: this.options.log,
    };
  }

  /** Works deliveries in this process: `concurrency` pg-boss workers plus the tick. */
  async startWorker(concurrency = 4): Promise<void> {
    const { db, log } = this.options;
    this.boss = new PgBoss({
      db: { executeSql: (text, values) => db.pool.query(text, values) },
      schema: 'pgboss',
    });
    this.boss.on('error', (error) => log.warn({ err: error }, 'webhook job queue error'));
    // "short": at most one queued job per endpoint (extra wake-ups collapse), any number active.
    await startQueueInTurn(db.pool, this.boss, QUEUE, {
      name: QUEUE,
      policy: 'short',
      retryLimit: 0,
      expireInMinutes: 15,
    });
    for (let index = 0; index < concurrency; index++) {
      const id = await this.boss.work<{ endpointId: string }>(
        QUEUE,
        { batchSize: 1, pollingIntervalSeconds: 0.5 },
        async ([job]) => {
          if (!job) return;
          await deliverEndpoint(this.context(), job.data.endpointId);
        },
      );
      this.workerIds.push(id);
    }
    await this.listen();
    this.ticker = setInterval(() => this.wake(), TICK_MS);
    this.ticker.unref();
    this.wake();
  }

  private async listen(): Promise<void> {
    const listener = new pg.Client({ connectionString: this.options.db.url });
    listener.on('error', (error) => {
      this.options.log.warn({ err: error }, 'webhook listener lost its connection; polling every second');
      this.listener = undefined;
    });
    listener.on('notification', () => this.wake());
    await listener.connect();
    await listener.query(`LISTEN ${WEBHOOK_CHANNEL}`);
    this.listener = listener;
  }

  /** Runs a tick now, or right after the one running. */
  wake(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.tickAgain = true;
      return;
    }
    this.ticking = this.tick()
      .catch((error: unknown) => this.options.log.warn({ err: error }, 'webhook tick failed'))
      .finally(() => {
        this.ticking = undefined;
        if (this.tickAgain) {
          this.tickAgain = false;
          this.wake();
        }
      });
  }

  /**
   * One pass: ended runs → events and deliveries, a slice at a time (each slice's deliveries are
   * queued before the next is built) → account events fanned out → pg-boss jobs for endpoints
   * with due deliveries; pruning hourly.
   */
  async tick(): Promise<void> {
    const { pool } = this.options.db;
    for (;;) {
      const dispatched = await dispatchNextRun(pool, this.options.dispatchSlice);
      if (!dispatched) await fanOutPending(pool);
      await this.queueDueEndpoints();
      if (!dispatched || this.stopped) break;
    }
    if (Date.now() - this.lastPrune > PRUNE_EVERY_MS) {
      this.lastPrune = Date.now();
      const pruned = await pruneWebhookHistory(pool, this.options.config.WEBHOOK_RETENTION_DAYS);
      if (pruned > 0) this.options.log.info({ pruned }, 'pruned webhook events past retention');
    }
  }

  /** One job per endpoint with due, unleased deliveries (pg-boss collapses duplicates per endpoint). */
  private async queueDueEndpoints(): Promise<void> {
    const { rows } = await this.options.db.pool.query<{ endpoint_id: string }>(
      `SELECT DISTINCT d.endpoint_id FROM webhook_deliveries d
       JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.status = 'enabled'
       WHERE d.status = 'pending' AND d.next_attempt_at <= now()
         AND (d.locked_until IS NULL OR d.locked_until < now())`,
    );
    let queued = 0;
    for (const { endpoint_id: endpointId } of rows) {
      if (await this.boss?.send(QUEUE, { endpointId }, { singletonKey: endpointId })) queued++;
    }
    // Jobs queued here are picked up by this process's workers at once rather than at their next poll.
    if (queued > 0) for (const id of this.workerIds) this.boss?.notifyWorker(id);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    await this.ticking;
    await this.boss?.stop({ graceful: true, wait: true, close: false });
    await this.listener?.end().catch(() => undefined);
    await this.dispatcher.close();
  }
}
