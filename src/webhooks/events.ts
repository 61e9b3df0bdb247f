import type pg from 'pg';
import { jsonSelect } from '../api/record-queries.js';
import { MODELS, type ModelName } from '../unified/models.js';
import { MODEL_EVENT_NAMES } from './event-types.js';

/**
 * From the change_events outbox to webhook events. The sync engine writes change events in the
 * transaction of each page; when a run ends, a trigger queues it in webhook_pending_runs (same
 * transaction as its end). Here, transactions of up to DISPATCH_SLICE records each turn its changes
 * into one event per record (several changes of a record in one run coalesce) with their
 * deliveries, and save how far they got in the same transaction; the last one adds
 * `sync.completed` or `sync.failed` and dequeues the run. A crash repeats a slice, never half of
 * one; and the first slice's events are on their way while the next is built. A first sync (no earlier successful run of the account) emits only
 * its `sync.completed` with counts: a platform learns the initial load happened without a flood.
 *
 * Set-based: PostgreSQL renders each record with the API's own JSON builder (jsonSelect, as
 * GET /v1/<model>/{id} does) straight into the event row, so 10,000 changed records never travel
 * through this process.
 */

/**
 * After this many new rows the tables' statistics are refreshed in the same transaction: planned on
 * stale statistics (an empty table a moment ago), the claim of due deliveries probes the wrong index
 * and costs seconds instead of milliseconds per batch (docs/PERFORMANCE.md, Webhooks).
 */
export const ANALYZE_AFTER_ROWS = 1000;
/** Records turned into events per transaction. */
export const DISPATCH_SLICE = 2000;

/** Full payloads never carry sensitive fields or remote_data. */
const PAYLOAD_READ = { includeRemoteData: false, includeSensitiveFields: false } as const;

/**
 * One kind for several changes of a record within a run, from its kinds in order: a deletion last
 * wins (the record is gone now), else a creation (the receiver has never seen it), else an update.
 */
const COALESCED_KIND = `CASE WHEN kinds[cardinality(kinds)] = 'deleted' THEN 'deleted'
  WHEN 'created' = ANY(kinds) THEN 'created' ELSE 'updated' END`;

/** The endpoint subscribes to the event type (no types = all). */
export const SUBSCRIBED = (endpoint: string, type: string) =>
  `(cardinality(${endpoint}.event_types) = 0 OR ${endpoint}.event_types IS NULL OR ${type} = ANY(${endpoint}.event_types))`;

/** SQL that creates the deliveries of the events in CTE `inserted` (id, seq, platform_id, type, record_key). */
const FAN_OUT_INSERTED = `INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_seq, record_key, next_attempt_at)
  SELECT webhook_uuid_v7(), e.id, i.id, i.seq, i.record_key, now()
  FROM inserted i JOIN webhook_endpoints e ON e.platform_id = i.platform_id AND e.status = 'enabled'
    AND ${SUBSCRIBED('e', 'i.type')}
  ORDER BY i.seq
  RETURNING 1`;

interface EndedRun {
  sync_run_id: string;
  /** Progress of an unfinished dispatch: the model and the last record done. */
  model: string | null;
  after_record_id: string | null;
  linked_account_id: string | null;
  platform_id: string | null;
  kind: string;
  status: 'succeeded' | 'failed';
  stats: Record<string, unknown>;
  error: string | null;
  started_at: Date;
  finished_at: Date | null;
  first_sync: boolean;
}

interface Inserted {
  events: number;
  deliveries: number;
}

/**
 * Record events of one model of the run, in record id order after `afterRecordId`, at most `limit`
 * records, with their deliveries.
 */
async function insertRecordEvents(
  client: pg.PoolClient,
  run: EndedRun,
  model: ModelName,
  afterRecordId: string | null,
  limit: number,
): Promise<Inserted & { records: number; lastRecordId: string | null }> {
  const spec = MODELS[model];
  const { rows } = await client.query<Inserted & { records: number; last_record_id: string | null }>(
    `WITH changed AS (
       SELECT record_id, array_agg(kind ORDER BY id) AS kinds
       FROM change_events
       WHERE sync_run_id = $1 AND model = $2 AND ($6::uuid IS NULL OR record_id > $6::uuid)
       GROUP BY record_id ORDER BY record_id LIMIT $7
     ), inserted AS (
       INSERT INTO webhook_events (id, platform_id, linked_account_id, sync_run_id, type, record_key, data, fanned_out_at)
       SELECT webhook_uuid_v7(), $3, $4, $1, $5 || '.' || ${COALESCED_KIND}, $2 || ':' || c.record_id,
              json_build_object('id', c.record_id, 'remote_id', r.remote_id, 'linked_account_id', $4::uuid,
                                'model', $5, 'record', r.json::json),
              now()
       FROM changed c
       LEFT JOIN LATERAL (
         SELECT ${jsonSelect(spec, PAYLOAD_READ)}, t.remote_id FROM ${spec.table} t
         WHERE t.linked_account_id = $4 AND t.id = c.record_id
       ) r ON true
       ORDER BY c.record_id
       RETURNING id, seq, platform_id, type, record_key
     ), delivered AS (${FAN_OUT_INSERTED})
     SELECT (SELECT count(*) FROM inserted)::int AS events, (SELECT count(*) FROM delivered)::int AS deliveries,
            (SELECT count(*) FROM changed)::int AS records,
            (SELECT record_id FROM changed ORDER BY record_id DESC LIMIT 1) AS last_record_id`,
    [
      run.sync_run_id,
      model,
      run.platform_id,
      run.linked_account_id,
      MODEL_EVENT_NAMES[model],
      afterRecordId,
      limit,
    ],
  );
  const row = rows[0];
  return {
    events: row?.events ?? 0,
    deliveries: row?.deliveries ?? 0,
    records: row?.records ?? 0,
    lastRecordId: row?.last_record_id ?? null,
  };
}

/** Inserts one event for a platform and its deliveries (to the enabled endpoints subscribed). */
export async function insertEvent(
  client: pg.PoolClient,
  event: {
    platformId: string;
    linkedAccountId: string | null;
    syncRunId: string | null;
    type: string;
    recordKey: string | null;
    data: unknown;
  },
): Promise<Inserted> {
  const { rows } = await client.query<Inserted>(
    `WITH inserted AS (
       INSERT INTO webhook_events (id, platform_id, linked_account_id, sync_run_id, type, record_key, data, fanned_out_at)
       VALUES (webhook_uuid_v7(), $1, $2, $3, $4, $5, $6, now())
       RETURNING id, seq, platform_id, type, record_key
     ), delivered AS (${FAN_OUT_INSERTED})
     SELECT 1::int AS events, (SELECT count(*) FROM delivered)::int AS deliveries`,
    [
      event.platformId,
      event.linkedAccountId,
      event.syncRunId,
      event.type,
      event.recordKey,
      JSON.stringify(event.data),
    ],
  );
  return rows[0] ?? { events: 0, deliveries: 0 };
}

type Counts = Record<string, { created: number; updated: number; deleted: number }>;

/**
 * Per model, how many records the run created, updated and deleted, counted as the record events
 * are (one per record, coalesced), so a first sync reports each new record once.
 */
async function runCounts(client: pg.PoolClient, run: EndedRun): Promise<Counts> {
  const counts: Counts = {};
  for (const model of Object.keys(run.stats ?? {})) counts[model] = { created: 0, updated: 0, deleted: 0 };
  const { rows } = await client.query<{ model: string; created: number; updated: number; deleted: number }>(
    `SELECT model,
            count(*) FILTER (WHERE kind = 'created')::int AS created,
            count(*) FILTER (WHERE kind = 'updated')::int AS updated,
            count(*) FILTER (WHERE kind = 'deleted')::int AS deleted
     FROM (SELECT model, ${COALESCED_KIND} AS kind
           FROM (SELECT model, array_agg(kind ORDER BY id) AS kinds FROM change_events
                 WHERE sync_run_id = $1 GROUP BY model, record_id) AS records) AS coalesced
     GROUP BY model`,
    [run.sync_run_id],
  );
  for (const row of rows)
    counts[row.model] = { created: row.created, updated: row.updated, deleted: row.deleted };
  return counts;
}

function syncEventData(run: EndedRun, counts: Counts) {
  return {
    sync_run_id: run.sync_run_id,
    linked_account_id: run.linked_account_id,
    kind: run.kind,
    first_sync: run.first_sync,
    started_at: run.started_at.toISOString(),
    finished_at: run.finished_at?.toISOString() ?? null,
    counts,
    ...(run.status === 'failed' ? { error: run.error } : {}),
  };
}

/**
 * Turns the oldest ended run (or its next slice) into events and deliveries. Returns false when there was none, or when
 * another worker is dispatching (runs are dispatched one at a time, in order, so events about a
 * record keep their order across runs).
 */
export async function dispatchNextRun(pool: pg.Pool, slice = DISPATCH_SLICE): Promise<boolean> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const locked = await client.query<{ locked: boolean }>(
      "SELECT pg_try_advisory_xact_lock(hashtext('hris:webhook-dispatch')) AS locked",
    );
    if (!locked.rows[0]?.locked) {
      await client.query('ROLLBACK');
      return false;
    }
    const { rows } = await client.query<EndedRun>(
      `SELECT p.sync_run_id, p.model, p.after_record_id, r.linked_account_id, a.platform_id, r.kind, r.status, r.stats, r.error,
              r.started_at, r.finished_at,
              NOT EXISTS (SELECT 1 FROM sync_runs e WHERE e.linked_account_id = r.linked_account_id
                            AND e.status = 'succeeded' AND e.started_at < r.started_at) AS first_sync
       FROM webhook_pending_runs p
       LEFT JOIN sync_runs r ON r.id = p.sync_run_id
       LEFT JOIN linked_accounts a ON a.id = r.linked_account_id
       ORDER BY p.queued_at, p.sync_run_id LIMIT 1`,
    );
    const run = rows[0];
    if (!run) {
      await client.query('ROLLBACK');
      return false;
    }
    if (run.platform_id && run.linked_account_id) {
      if (!run.first_sync) {
        const models = await client.query<{ model: ModelName }>(
          'SELECT DISTINCT model FROM change_events WHERE sync_run_id = $1 AND model >= $2 ORDER BY model',
          [run.sync_run_id, run.model ?? ''],
        );
        let budget = slice;
        for (const { model } of models.rows) {
          if (!(model in MODELS)) continue;
          const after = model === run.model ? run.after_record_id : null;
          const inserted = await insertRecordEvents(client, run, model, after, budget);
          budget -= inserted.records;
          // Statistics matter most on the first large slice (the claim is planned on them).
          if (!run.model && inserted.deliveries >= ANALYZE_AFTER_ROWS) {
            await client.query('ANALYZE webhook_events');
            await client.query('ANALYZE webhook_deliveries');
          }
          if (budget <= 0) {
            await client.query(
              'UPDATE webhook_pending_runs SET model = $2, after_record_id = $3 WHERE sync_run_id = $1',
              [run.sync_run_id, model, inserted.lastRecordId],
            );
            await client.query('COMMIT');
            return true;
          }
        }
      }
      await insertEvent(client, {
        platformId: run.platform_id,
        linkedAccountId: run.linked_account_id,
        syncRunId: run.sync_run_id,
        type: run.status === 'succeeded' ? 'sync.completed' : 'sync.failed',
        recordKey: `linked_account:${run.linked_account_id}`,
        data: syncEventData(run, await runCounts(client, run)),
      });
    }
    await client.query('DELETE FROM webhook_pending_runs WHERE sync_run_id = $1', [run.sync_run_id]);
    await client.query('COMMIT');
    return true;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Creates the deliveries of events written without them (linked account events, written by a
 * trigger): one per enabled endpoint of the platform subscribed to the type.
 */
export async function fanOutPending(pool: pg.Pool, limit = 10_000): Promise<number> {
  const { rows } = await pool.query<{ deliveries: number }>(
    `WITH pending AS (
       SELECT id FROM webhook_events WHERE fanned_out_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED
     ), inserted AS (
       UPDATE webhook_events ev SET fanned_out_at = now() FROM pending WHERE ev.id = pending.id
       RETURNING ev.id, ev.seq, ev.platform_id, ev.type, ev.record_key
     ), delivered AS (${FAN_OUT_INSERTED})
     SELECT count(*)::int AS deliveries FROM delivered`,
    [limit],
  );
  return rows[0]?.deliveries ?? 0;
}
