import type pg from 'pg';
import { type Dispatcher, request } from 'undici';
import type { Keyring } from '../crypto/credentials.js';
import { signedHeaders } from './signing.js';

/**
 * Sending deliveries. A worker claims a batch of an endpoint's due deliveries with a lease
 * (FOR UPDATE SKIP LOCKED, then locked_until), so workers in any number of processes share an
 * endpoint's work without sending one delivery twice at once; a killed worker's lease simply runs
 * out and another worker sends it again (at-least-once). A delivery is claimable only when no
 * earlier delivery about the same record to the same endpoint is still pending, so events about
 * one record arrive in order, retries included.
 */

export interface DeliveryPolicy {
  /** Per attempt (connect, headers and body). */
  timeoutMs: number;
  /** Wait before retry n (after attempt n fails); the delivery fails after the last one. */
  retryDelaysMs: number[];
  /** An endpoint failing every attempt for this long is disabled. */
  disableAfterMs: number;
  /** Requests in flight per claimed batch. */
  concurrency: number;
  batchSize: number;
}

export interface DeliveryContext {
  pool: pg.Pool;
  keyring: Keyring;
  dispatcher: Dispatcher;
  policy: DeliveryPolicy;
  /** True once the process is shutting down: no new batch is claimed (the one in flight finishes). */
  stopping?: () => boolean;
  log: { warn(object: object, message: string): void; info(object: object, message: string): void };
}

interface ClaimedDelivery {
  id: string;
  attempts: number;
  event_id: string;
  body: string;
}

interface EndpointRow {
  id: string;
  url: string;
  payload: 'full' | 'thin';
  status: string;
  secret_encrypted: Buffer;
  previous_secret_encrypted: Buffer | null;
  previous_secret_valid: boolean;
}

export interface AttemptResult {
  deliveryId: string;
  attemptNumber: number;
  startedAt: Date;
  durationMs: number;
  responseStatus: number | null;
  error: string | null;
}

const USER_AGENT = 'HRIS-Gateway-Webhooks/1.0';

/** The lease outlives one attempt comfortably: a live worker never loses it mid-request. */
export function leaseMs(policy: DeliveryPolicy): number {
  return policy.timeoutMs * 2 + 5_000;
}

/** Backoff before retry n (1-based), with ±20 % jitter so failing deliveries do not retry in lockstep. */
export function retryDelayMs(
  policy: DeliveryPolicy,
  failedAttempts: number,
  random = Math.random,
): number | null {
  const base = policy.retryDelaysMs[failedAttempts - 1];
  if (base === undefined) return null;
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * The body an endpoint receives, built by PostgreSQL from the stored event (its data is json text,
 * embedded as it is: never parsed and serialized again here). Record events carry
 * `{id, remote_id, linked_account_id, model}`, plus `record` when the endpoint takes full payloads.
 * The same event gives the same bytes on every attempt, replay and redelivery.
 */
const BODY_SQL = `json_build_object(
    'type', ev.type,
    'timestamp', to_char(ev.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'data', CASE WHEN $4 = 'thin' AND ev.data::jsonb ? 'record' THEN (ev.data::jsonb - 'record')::json ELSE ev.data END
  )::text`;

async function claim(context: DeliveryContext, endpoint: EndpointRow): Promise<ClaimedDelivery[]> {
  const { rows } = await context.pool.query<ClaimedDelivery>(
    `WITH due AS (
       SELECT d.id FROM webhook_deliveries d
       WHERE d.endpoint_id = $1 AND d.status = 'pending' AND d.next_attempt_at <= now()
         AND (d.locked_until IS NULL OR d.locked_until < now())
         AND NOT EXISTS (
           SELECT 1 FROM webhook_deliveries p
           WHERE p.endpoint_id = d.endpoint_id AND p.record_key = d.record_key AND p.status = 'pending'
             AND (p.event_seq, p.id) < (d.event_seq, d.id))
         AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = d.endpoint_id AND e.status = 'enabled')
       ORDER BY d.event_seq, d.id LIMIT $2 FOR UPDATE OF d SKIP LOCKED
     ), claimed AS (
       UPDATE webhook_deliveries d SET locked_until = now() + make_interval(secs => $3)
       FROM due WHERE d.id = due.id RETURNING d.id, d.attempts, d.event_id
     )
     SELECT c.id, c.attempts, c.event_id, ${BODY_SQL} AS body
     FROM claimed c JOIN webhook_events ev ON ev.id = c.event_id ORDER BY ev.seq`,
    [endpoint.id, context.policy.batchSize, leaseMs(context.policy) / 1000, endpoint.payload],
  );
  return rows;
}

async function loadEndpoint(pool: pg.Pool, endpointId: string): Promise<EndpointRow | undefined> {
  const { rows } = await pool.query<EndpointRow>(
    `SELECT id, url, payload, status, secret_encrypted, previous_secret_encrypted,
            coalesce(previous_secret_expires_at > now(), false) AS previous_secret_valid
     FROM webhook_endpoints WHERE id = $1`,
    [endpointId],
  );
  return rows[0];
}

function describeFailure(error: unknown, timeoutMs: number): string {
  const err = error as {
    name?: string;
    code?: string;
    message?: string;
    cause?: { code?: string; message?: string };
  };
  if (
    err.name === 'TimeoutError' ||
    err.code === 'UND_ERR_HEADERS_TIMEOUT' ||
    err.code === 'UND_ERR_BODY_TIMEOUT'
  ) {
    return `timed out after ${timeoutMs / 1000} s`;
  }
  const code = err.cause?.code ?? err.code;
  const message = err.cause?.message ?? err.message ?? String(error);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

async function attempt(
  context: DeliveryContext,
  endpoint: EndpointRow,
  secrets: string[],
  delivery: ClaimedDelivery,
): Promise<AttemptResult> {
  const { body } = delivery;
  const startedAt = new Date();
  const started = performance.now();
  const result = (responseStatus: number | null, error: string | null): AttemptResult => ({
    deliveryId: delivery.id,
    attemptNumber: delivery.attempts + 1,
    startedAt,
    durationMs: Math.round(performance.now() - started),
    responseStatus,
    error,
  });
  try {
    const { timeoutMs } = context.policy;
    const response = await request(endpoint.url, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        ...signedHeaders(secrets, delivery.event_id, body, startedAt),
      },
      dispatcher: context.dispatcher,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    // The receiver's body does not matter; drain a little of it and drop the connection's rest.
    await response.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
    const ok = response.statusCode >= 200 && response.statusCode < 300;
    return result(response.statusCode, ok ? null : `HTTP ${response.statusCode}`);
  } catch (error) {
    return result(null, describeFailure(error, context.policy.timeoutMs));
  }
}

/** Runs `work` over items with at most `limit` at once. */
async function mapLimited<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    for (let index = next++; index < items.length; index = next++)
      results[index] = await work(items[index] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** Stores a batch's attempts and their consequences for the deliveries and the endpoint, at once. */
export async function recordAttempts(
  context: DeliveryContext,
  endpointId: string,
  results: AttemptResult[],
): Promise<void> {
  if (results.length === 0) return;
  const { policy } = context;
  const now = Date.now();
  const outcome = results.map((result) => {
    const delivered =
      result.responseStatus !== null && result.responseStatus >= 200 && result.responseStatus < 300;
    const delay = delivered ? null : retryDelayMs(policy, result.attemptNumber);
    return {
      status: delivered ? 'delivered' : delay === null ? 'failed' : 'pending',
      nextAttemptAt: delay === null ? null : new Date(now + delay),
    };
  });
  const client = await context.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      // Joined to the deliveries: an endpoint deleted meanwhile took its deliveries with it.
      `INSERT INTO webhook_delivery_attempts (delivery_id, attempt_number, started_at, duration_ms, response_status, error)
       SELECT u.* FROM unnest($1::uuid[], $2::int[], $3::timestamptz[], $4::int[], $5::int[], $6::text[])
         AS u(delivery_id, attempt_number, started_at, duration_ms, response_status, error)
       JOIN webhook_deliveries d ON d.id = u.delivery_id`,
      [
        results.map((r) => r.deliveryId),
        results.map((r) => r.attemptNumber),
        results.map((r) => r.startedAt),
        results.map((r) => r.durationMs),
        results.map((r) => r.responseStatus),
        results.map((r) => r.error),
      ],
    );
    await client.query(
      `UPDATE webhook_deliveries d SET status = u.status, attempts = u.attempt_number, next_attempt_at = u.next_attempt_at,
         last_response_status = u.response_status, last_error = u.error, locked_until = NULL,
         delivered_at = CASE WHEN u.status = 'delivered' THEN now() END
       FROM unnest($1::uuid[], $2::text[], $3::int[], $4::timestamptz[], $5::int[], $6::text[])
         AS u(id, status, attempt_number, next_attempt_at, response_status, error)
       WHERE d.id = u.id`,
      [
        results.map((r) => r.deliveryId),
        outcome.map((o) => o.status),
        results.map((r) => r.attemptNumber),
        outcome.map((o) => o.nextAttemptAt),
        results.map((r) => r.responseStatus),
        results.map((r) => r.error),
      ],
    );
    const gone = results.find((r) => r.responseStatus === 410);
    const succeeded = outcome.some((o) => o.status === 'delivered');
    if (gone) {
      await client.query(
        `UPDATE webhook_endpoints SET status = 'disabled', updated_at = now(),
           disabled_reason = $2 WHERE id = $1 AND status = 'enabled'`,
        [
          endpointId,
          `The endpoint answered 410 Gone at ${gone.startedAt.toISOString()}. Re-enable it with PATCH /v1/webhook-endpoints/{id} {"status":"enabled"}; undelivered events are then sent.`,
        ],
      );
    } else if (succeeded) {
      await client.query(
        'UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL',
        [endpointId],
      );
    } else {
      const first = results.reduce((a, b) => (a.startedAt < b.startedAt ? a : b));
      const last = results[results.length - 1] as AttemptResult;
      await client.query(
        `UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, $2),
           status = CASE WHEN coalesce(failing_since, $2) < now() - make_interval(secs => $3) THEN 'disabled' ELSE status END,
           disabled_reason = CASE WHEN coalesce(failing_since, $2) < now() - make_interval(secs => $3)
             THEN 'Every delivery failed since ' || to_char(coalesce(failing_since, $2) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                  || ' (last error: ' || $4 || '). Fix the endpoint, then PATCH /v1/webhook-endpoints/{id} {"status":"enabled"}.'
             ELSE disabled_reason END,
           updated_at = now()
         WHERE id = $1 AND status = 'enabled'`,
        [endpointId, first.startedAt, policy.disableAfterMs / 1000, last.error ?? 'unknown'],
      );
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Sends an endpoint's due deliveries, batch after batch, until none is due or `budgetMs` has
 * passed (the job then ends; the next sweep queues another). Returns how many attempts it made.
 */
export async function deliverEndpoint(
  context: DeliveryContext,
  endpointId: string,
  budgetMs = 60_000,
): Promise<number> {
  const endpoint = await loadEndpoint(context.pool, endpointId);
  if (endpoint?.status !== 'enabled') return 0;
  const secrets = [context.keyring.decrypt(endpoint.secret_encrypted)];
  if (endpoint.previous_secret_encrypted && endpoint.previous_secret_valid) {
    secrets.push(context.keyring.decrypt(endpoint.previous_secret_encrypted));
  }
  const deadline = Date.now() + budgetMs;
  let attempts = 0;
  while (Date.now() < deadline && !context.stopping?.()) {
    const batch = await claim(context, endpoint);
    if (batch.length === 0) break;
    const results = await mapLimited(batch, context.policy.concurrency, (delivery) =>
      attempt(context, endpoint, secrets, delivery),
    );
    await recordAttempts(context, endpointId, results);
    attempts += results.length;
    const failed = results.filter((r) => r.error !== null);
    if (failed.length > 0) {
      // The endpoint id and the first error only: never the URL (it may carry a token) or a secret.
      context.log.warn(
        { endpointId, failed: failed.length, attempts: results.length, error: failed[0]?.error },
        'webhook deliveries failed; retrying later',
      );
    }
    if (results.some((r) => r.responseStatus === 410)) break;
  }
  return attempts;
}
