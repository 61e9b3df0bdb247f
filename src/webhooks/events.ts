import type pg from 'pg';
import { recordsById } from '../api/record-queries.js';
import { MODELS, type ModelName } from '../unified/models.js';
import { coalesceKinds, MODEL_EVENT_NAMES, recordEventType } from './event-types.js';

/**
 * From the change_events outbox to webhook events. The sync engine writes change events in the
 * transaction of each page; when a run ends, a trigger queues it in webhook_pending_runs (same
 * transaction as its end). Here, one transaction per run turns its changes into one event per
 * record (several changes of a record in one run coalesce), adds `sync.completed` or
 * `sync.failed`, creates the deliveries, and dequeues the run: a crash at any point repeats the
 * whole step, never half of it. A first sync (no earlier successful run of the account) emits only
 * its `sync.completed` with counts: a platform learns the initial load happened without a flood.
 */

const RENDER_BATCH = 1000;
/** Full payloads never carry sensitive fields or remote_data. */
const PAYLOAD_READ = { includeRemoteData: false, includeSensitiveFields: false, expand: [] };

interface EndedRun {
  sync_run_id: string;
  linked_account_id: string | null;
  platform_id: string | null;
  kind: string;
  status: 'succeeded' | 'failed';
  stats: Record<string, { created?: number; updated?: number; deleted?: number }>;
  error: string | null;
  started_at: Date;
  finished_at: Date | null;
  first_sync: boolean;
}

interface ChangedRecord {
  model: ModelName;
  record_id: string;
  kinds: string[];
}

export interface NewEvent {
  type: string;
  recordKey: string | null;
  data: unknown;
}

/** Inserts events (in this order, so their seq follows it) for a platform, not yet fanned out. */
export async function insertEvents(
  client: pg.PoolClient,
  platformId: string,
  linkedAccountId: string | null,
  syncRunId: string | null,
  events: NewEvent[],
): Promise<void> {
  if (events.length === 0) return;
  await client.query(
    `INSERT INTO webhook_events (id, platform_id, linked_account_id, sync_run_id, type, record_key, data)
     SELECT webhook_uuid_v7(), $1, $2, $3, e.type, e.record_key, e.data::jsonb
     FROM unnest($4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS e(type, record_key, data, n)
     ORDER BY e.n`,
    [
      platformId,
      linkedAccountId,
      syncRunId,
      events.map((event) => event.type),
      events.map((event) => event.recordKey),
      events.map((event) => JSON.stringify(event.data)),
    ],
  );
}

/** The records' events, with their data as the API's own record read renders it. */
async function recordEvents(
  pool: pg.Pool,
  linkedAccountId: string,
  changed: ChangedRecord[],
): Promise<NewEvent[]> {
  const byModel = new Map<ModelName, string[]>();
  for (const change of changed)
    byModel.set(change.model, [...(byModel.get(change.model) ?? []), change.record_id]);
  const rendered = new Map<string, Record<string, unknown>>();
  for (const [model, ids] of byModel) {
    const records = await recordsById(pool, MODELS[model], linkedAccountId, ids, PAYLOAD_READ);
    for (const [id, record] of records) rendered.set(`${model}:${id}`, record);
  }
  return changed.map((change) => {
    const key = `${change.model}:${change.record_id}`;
    const record = rendered.get(key) ?? null;
    return {
      type: recordEventType(change.model, coalesceKinds(change.kinds)),
      recordKey: key,
      data: {
        id: change.record_id,
        remote_id: (record?.remote_id as string | undefined) ?? null,
        linked_account_id: linkedAccountId,
        model: MODEL_EVENT_NAMES[change.model],
        record,
      },
    };
  });
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
            count(*) FILTER (WHERE last_kind <> 'deleted' AND was_created)::int AS created,
            count(*) FILTER (WHERE last_kind <> 'deleted' AND NOT was_created)::int AS updated,
            count(*) FILTER (WHERE last_kind = 'deleted')::int AS deleted
     FROM (SELECT model, (array_agg(kind ORDER BY id DESC))[1] AS last_kind, bool_or(kind = 'created') AS was_created
           FROM change_events WHERE sync_run_id = $1 GROUP BY model, record_id) AS records
     GROUP BY model`,
    [run.sync_run_id],
  );
  for (const row of rows)
    counts[row.model] = { created: row.created, updated: row.updated, deleted: row.deleted };
  return counts;
}

function syncEvent(run: EndedRun, counts: Counts): NewEvent {
  return {
    type: run.status === 'succeeded' ? 'sync.completed' : 'sync.failed',
    recordKey: `linked_account:${run.linked_account_id}`,
    data: {
      sync_run_id: run.sync_run_id,
      linked_account_id: run.linked_account_id,
      kind: run.kind,
      first_sync: run.first_sync,
      started_at: run.started_at.toISOString(),
      finished_at: run.finished_at?.toISOString() ?? null,
      counts,
      ...(run.status === 'failed' ? { error: run.error } : {}),
    },
  };
}

/**
 * Turns the oldest ended run into events and deliveries. Returns false when there was none, or when
 * another worker is dispatching (runs are dispatched one at a time, in order, so events about a
 * record keep their order across runs).
 */
export async function dispatchNextRun(pool: pg.Pool): Promise<boolean> {
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
      `SELECT p.sync_run_id, r.linked_account_id, a.platform_id, r.kind, r.status, r.stats, r.error,
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
      const events: NewEvent[] = [];
      if (!run.first_sync) {
        const changed = await client.query<ChangedRecord>(
          `SELECT model, record_id, array_agg(kind ORDER BY id) AS kinds
           FROM change_events WHERE sync_run_id = $1
           GROUP BY model, record_id ORDER BY min(id)`,
          [run.sync_run_id],
        );
        for (let start = 0; start < changed.rows.length; start += RENDER_BATCH) {
          const batch = changed.rows.slice(start, start + RENDER_BATCH);
          await insertEvents(
            client,
            run.platform_id,
            run.linked_account_id,
            run.sync_run_id,
            await recordEvents(pool, run.linked_account_id, batch),
          );
        }
      }
      events.push(syncEvent(run, await runCounts(client, run)));
      await insertEvents(client, run.platform_id, run.linked_account_id, run.sync_run_id, events);
      await fanOutPending(client);
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
 * Creates the deliveries of events not yet fanned out (sync events, linked account events from
 * the trigger): one per enabled endpoint of the platform subscribed to the type. Returns the
 * endpoints that got deliveries.
 */
export async function fanOutPending(client: pg.Pool | pg.PoolClient, limit = 50_000): Promise<string[]> {
  const { rows } = await client.query<{ endpoint_id: string }>(
    `WITH pending AS (
       SELECT id, seq, platform_id, type, record_key FROM webhook_events
       WHERE fanned_out_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED
     ), marked AS (
       UPDATE webhook_events ev SET fanned_out_at = now() FROM pending WHERE ev.id = pending.id
     )
     INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_seq, record_key, next_attempt_at)
     SELECT webhook_uuid_v7(), e.id, p.id, p.seq, p.record_key, now()
     FROM pending p JOIN webhook_endpoints e ON e.platform_id = p.platform_id AND e.status = 'enabled'
       AND (cardinality(e.event_types) = 0 OR e.event_types IS NULL OR p.type = ANY(e.event_types))
     ORDER BY p.seq
     RETURNING endpoint_id`,
    [limit],
  );
  return [...new Set(rows.map((row) => row.endpoint_id))];
}
