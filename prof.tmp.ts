import { openBenchDatabase } from './bench/sync-helpers.js';

const db = await openBenchDatabase();
const q = (s: string, p: unknown[] = []) => db.pool.query(s, p);
await q(`INSERT INTO platforms (id, name) VALUES ('00000000-0000-0000-0000-000000000001', 'p')`);
await q(
  `INSERT INTO webhook_endpoints (id, platform_id, url, secret_encrypted) VALUES ('00000000-0000-0000-0000-000000000002', '00000000-0000-0000-0000-000000000001', 'http://x', '\\x00')`,
);
await q(
  `INSERT INTO webhook_events (id, platform_id, type, record_key, data, fanned_out_at) SELECT webhook_uuid_v7(), '00000000-0000-0000-0000-000000000001', 'employee.updated', 'employees:' || g, '{}', now() FROM generate_series(1, 10000) g`,
);
await q(
  `INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_seq, record_key, next_attempt_at) SELECT webhook_uuid_v7(), '00000000-0000-0000-0000-000000000002', id, seq, record_key, now() FROM webhook_events`,
);
const claim = `EXPLAIN ANALYZE WITH due AS (
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
     SELECT c.id, c.attempts, c.event_id, ev.type, ev.data, ev.created_at
     FROM claimed c JOIN webhook_events ev ON ev.id = c.event_id ORDER BY ev.seq`;
for (const label of ['stale', 'analyzed']) {
  if (label === 'analyzed') await q('ANALYZE');
  const r = await q(claim, ['00000000-0000-0000-0000-000000000002', 200, 35]);
  console.log(label, r.rows.map((x) => x['QUERY PLAN']).join('\n'));
}
await db.close();
