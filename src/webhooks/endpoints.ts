import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Keyring } from '../crypto/credentials.js';
import { TEST_EVENT_TYPE } from './event-types.js';
import { ANALYZE_AFTER_ROWS, SUBSCRIBED } from './events.js';
import { generateSecret } from './signing.js';

/**
 * A platform's endpoints and the operations on them that the API offers. Every statement is scoped
 * by platform: a platform never sees or touches another's endpoints, events or deliveries.
 */

/** The NOTIFY channel that wakes delivery workers (the triggers in the webhooks migration use it too). */
export const WEBHOOK_CHANNEL = 'hris_webhooks';
export const MAX_ENDPOINTS_PER_PLATFORM = 20;
/** After a rotation, deliveries are signed with both secrets for this long. */
export const ROTATION_OVERLAP_HOURS = 24;

export interface EndpointRecord {
  id: string;
  url: string;
  description: string | null;
  event_types: string[] | null;
  payload: 'full' | 'thin';
  status: 'enabled' | 'disabled';
  disabled_reason: string | null;
  created_at: string;
  updated_at: string;
}

/** A timestamp as the API writes it (ISO 8601, UTC, milliseconds). */
const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const ENDPOINT_COLUMNS = `id, url, description, CASE WHEN cardinality(event_types) > 0 THEN event_types END AS event_types,
  payload, status, disabled_reason, ${iso('created_at')} AS created_at, ${iso('updated_at')} AS updated_at`;

/** Wakes the delivery workers (they also poll every second). */
export async function notifyWorkers(db: pg.Pool | pg.PoolClient): Promise<void> {
  await db.query('SELECT pg_notify($1, $2)', [WEBHOOK_CHANNEL, 'api']);
}

export async function countEndpoints(pool: pg.Pool, platformId: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM webhook_endpoints WHERE platform_id = $1',
    [platformId],
  );
  return rows[0]?.n ?? 0;
}

export async function createEndpoint(
  pool: pg.Pool,
  keyring: Keyring,
  platformId: string,
  input: {
    url: string;
    event_types?: string[] | undefined;
    payload: 'full' | 'thin';
    description?: string | undefined;
  },
): Promise<EndpointRecord & { secret: string }> {
  const secret = generateSecret();
  const { rows } = await pool.query<EndpointRecord>(
    `INSERT INTO webhook_endpoints (id, platform_id, url, description, event_types, payload, secret_encrypted)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${ENDPOINT_COLUMNS}`,
    [
      randomUUID(),
      platformId,
      input.url,
      input.description ?? null,
      input.event_types ?? [],
      input.payload,
      keyring.encrypt(secret),
    ],
  );
  return { ...(rows[0] as EndpointRecord), secret };
}

export async function listEndpoints(
  pool: pg.Pool,
  platformId: string,
  cursor: { d: 'n' | 'p'; id: string } | undefined,
  pageSize: number,
): Promise<EndpointRecord[]> {
  const params: unknown[] = [platformId, pageSize + 1];
  let where = 'platform_id = $1';
  if (cursor) {
    params.push(cursor.id);
    where += cursor.d === 'n' ? ' AND id > $3' : ' AND id < $3';
  }
  const { rows } = await pool.query<EndpointRecord>(
    `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE ${where}
     ORDER BY id ${cursor?.d === 'p' ? 'DESC' : 'ASC'} LIMIT $2`,
    params,
  );
  return rows;
}

export async function getEndpoint(
  pool: pg.Pool,
  platformId: string,
  id: string,
): Promise<EndpointRecord | undefined> {
  const { rows } = await pool.query<EndpointRecord>(
    `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE platform_id = $1 AND id = $2`,
    [platformId, id],
  );
  return rows[0];
}

export async function updateEndpoint(
  pool: pg.Pool,
  platformId: string,
  id: string,
  changes: {
    url?: string | undefined;
    event_types?: string[] | null | undefined;
    payload?: 'full' | 'thin' | undefined;
    description?: string | null | undefined;
    status?: 'enabled' | 'disabled' | undefined;
  },
): Promise<EndpointRecord | undefined> {
  const sets: string[] = [];
  const params: unknown[] = [platformId, id];
  const set = (sql: string, value: unknown) => {
    params.push(value);
    sets.push(sql.replace('?', `$${params.length}`));
  };
  if (changes.url !== undefined) set('url = ?', changes.url);
  if (changes.event_types !== undefined) set('event_types = ?', changes.event_types ?? []);
  if (changes.payload !== undefined) set('payload = ?', changes.payload);
  if (changes.description !== undefined) set('description = ?', changes.description);
  if (changes.status === 'enabled') {
    // Re-enabled: start afresh; its pending deliveries are sent again now.
    sets.push("status = 'enabled'", 'disabled_reason = NULL', 'failing_since = NULL');
  } else if (changes.status === 'disabled') {
    sets.push("status = 'disabled'", "disabled_reason = 'Disabled through the API.'");
  }
  sets.push('updated_at = now()');
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<EndpointRecord>(
      `UPDATE webhook_endpoints SET ${sets.join(', ')} WHERE platform_id = $1 AND id = $2 RETURNING ${ENDPOINT_COLUMNS}`,
      params,
    );
    if (changes.status === 'enabled' && rows[0]) {
      await client.query(
        `UPDATE webhook_deliveries SET next_attempt_at = now() WHERE endpoint_id = $1 AND status = 'pending'`,
        [id],
      );
      await notifyWorkers(client);
    }
    await client.query('COMMIT');
    return rows[0];
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

export async function deleteEndpoint(pool: pg.Pool, platformId: string, id: string): Promise<boolean> {
  const result = await pool.query('DELETE FROM webhook_endpoints WHERE platform_id = $1 AND id = $2', [
    platformId,
    id,
  ]);
  return (result.rowCount ?? 0) > 0;
}

/** A new secret; the current one keeps signing beside it for ROTATION_OVERLAP_HOURS. */
export async function rotateSecret(
  pool: pg.Pool,
  keyring: Keyring,
  platformId: string,
  id: string,
): Promise<{ secret: string; previous_secret_expires_at: string } | undefined> {
  const secret = generateSecret();
  const { rows } = await pool.query<{ previous_secret_expires_at: string }>(
    `UPDATE webhook_endpoints SET previous_secret_encrypted = secret_encrypted, secret_encrypted = $3,
       previous_secret_expires_at = now() + make_interval(hours => $4), updated_at = now()
     WHERE platform_id = $1 AND id = $2 RETURNING ${iso('previous_secret_expires_at')} AS previous_secret_expires_at`,
    [platformId, id, keyring.encrypt(secret), ROTATION_OVERLAP_HOURS],
  );
  const row = rows[0];
  return row ? { secret, previous_secret_expires_at: row.previous_secret_expires_at } : undefined;
}

/** A `webhook.test` event for one endpoint, delivered at once by the workers. */
export async function sendTestEvent(
  pool: pg.Pool,
  platformId: string,
  endpointId: string,
): Promise<{ event_id: string; delivery_id: string }> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const event = await client.query<{ id: string; seq: string }>(
      `INSERT INTO webhook_events (id, platform_id, type, record_key, data, fanned_out_at)
       VALUES (webhook_uuid_v7(), $1, $2, NULL, $3, now()) RETURNING id, seq`,
      [
        platformId,
        TEST_EVENT_TYPE,
        JSON.stringify({ endpoint_id: endpointId, message: 'A test event from HRIS Gateway.' }),
      ],
    );
    const { id: eventId, seq } = event.rows[0] as { id: string; seq: string };
    const delivery = await client.query<{ id: string }>(
      `INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_seq, next_attempt_at)
       VALUES (webhook_uuid_v7(), $1, $2, $3, now()) RETURNING id`,
      [endpointId, eventId, seq],
    );
    await notifyWorkers(client);
    await client.query('COMMIT');
    return { event_id: eventId, delivery_id: (delivery.rows[0] as { id: string }).id };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * New deliveries, to one endpoint, of the platform's events in [since, until) that it subscribes
 * to (and of the types asked for). The events keep their ids: receivers deduplicate by webhook-id.
 */
export async function replayEvents(
  pool: pg.Pool,
  platformId: string,
  endpointId: string,
  window: { since: Date; until: Date; eventTypes: string[] },
): Promise<number> {
  const result = await pool.query(
    `WITH replayed AS (
       INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_seq, record_key, next_attempt_at)
       SELECT webhook_uuid_v7(), e.id, ev.id, ev.seq, ev.record_key, now()
       FROM webhook_events ev JOIN webhook_endpoints e ON e.id = $2 AND e.platform_id = ev.platform_id
       WHERE ev.platform_id = $1 AND ev.created_at >= $3 AND ev.created_at < $4 AND ev.type <> $6
         AND (cardinality($5::text[]) = 0 OR ev.type = ANY($5::text[]))
         AND ${SUBSCRIBED('e', 'ev.type')}
       ORDER BY ev.seq
       RETURNING 1
     ) SELECT count(*)::int AS n, pg_notify($7, 'api') FROM replayed`,
    [platformId, endpointId, window.since, window.until, window.eventTypes, TEST_EVENT_TYPE, WEBHOOK_CHANNEL],
  );
  const replayed = (result.rows[0] as { n: number }).n;
  if (replayed >= ANALYZE_AFTER_ROWS) await pool.query('ANALYZE webhook_deliveries');
  return replayed;
}

/** New deliveries of one event: to one endpoint, or to every enabled endpoint subscribed to it. */
export async function redeliverEvent(
  pool: pg.Pool,
  platformId: string,
  eventId: string,
  endpointId: string | undefined,
): Promise<{ id: string; endpoint_id: string }[] | undefined> {
  const event = await pool.query('SELECT 1 FROM webhook_events WHERE platform_id = $1 AND id = $2', [
    platformId,
    eventId,
  ]);
  if (event.rowCount === 0) return undefined;
  const { rows } = await pool.query<{ id: string; endpoint_id: string }>(
    `INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_seq, record_key, next_attempt_at)
     SELECT webhook_uuid_v7(), e.id, ev.id, ev.seq, ev.record_key, now()
     FROM webhook_events ev JOIN webhook_endpoints e ON e.platform_id = ev.platform_id
     WHERE ev.id = $2 AND ev.platform_id = $1
       AND ($3::uuid IS NOT NULL AND e.id = $3::uuid
            OR $3::uuid IS NULL AND e.status = 'enabled' AND ${SUBSCRIBED('e', 'ev.type')})
     RETURNING id, endpoint_id`,
    [platformId, eventId, endpointId ?? null],
  );
  await notifyWorkers(pool);
  return rows;
}

export interface DeliveryRecord {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  status: 'pending' | 'delivered' | 'failed';
  attempt_count: number;
  next_attempt_at: string | null;
  delivered_at: string | null;
  last_response_status: number | null;
  last_error: string | null;
  created_at: string;
  attempts: {
    attempt_number: number;
    started_at: string;
    duration_ms: number;
    response_status: number | null;
    error: string | null;
  }[];
}

export async function listDeliveries(
  pool: pg.Pool,
  platformId: string,
  filters: { endpoint_id?: string | undefined; event_id?: string | undefined; status?: string | undefined },
  cursor: { d: 'n' | 'p'; id: string } | undefined,
  pageSize: number,
): Promise<DeliveryRecord[]> {
  const params: unknown[] = [platformId];
  const where = ['e.platform_id = $1'];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (filters.endpoint_id) add('d.endpoint_id = ?', filters.endpoint_id);
  if (filters.event_id) add('d.event_id = ?', filters.event_id);
  if (filters.status) add('d.status = ?', filters.status);
  if (cursor) add(cursor.d === 'n' ? 'd.id > ?' : 'd.id < ?', cursor.id);
  params.push(pageSize + 1);
  const { rows } = await pool.query<DeliveryRecord>(
    `SELECT d.id, d.endpoint_id, d.event_id, ev.type AS event_type, d.status, d.attempts AS attempt_count,
            CASE WHEN d.status = 'pending' THEN ${iso('d.next_attempt_at')} END AS next_attempt_at,
            ${iso('d.delivered_at')} AS delivered_at, d.last_response_status, d.last_error, ${iso('d.created_at')} AS created_at,
            coalesce((SELECT json_agg(json_build_object(
                'attempt_number', a.attempt_number, 'started_at', ${iso('a.started_at')}, 'duration_ms', a.duration_ms,
                'response_status', a.response_status, 'error', a.error) ORDER BY a.attempt_number, a.id)
              FROM webhook_delivery_attempts a WHERE a.delivery_id = d.id), '[]') AS attempts
     FROM webhook_deliveries d
     JOIN webhook_endpoints e ON e.id = d.endpoint_id
     JOIN webhook_events ev ON ev.id = d.event_id
     WHERE ${where.join(' AND ')}
     ORDER BY d.id ${cursor?.d === 'p' ? 'DESC' : 'ASC'} LIMIT $${params.length}`,
    params,
  );
  return rows;
}
