import type pg from 'pg';

/**
 * Retention: events older than the window whose deliveries are all settled (delivered or given up)
 * go, with their deliveries and attempts (ON DELETE CASCADE). Deleted in slices so a large backlog
 * never holds long locks.
 */
export async function pruneWebhookHistory(
  pool: pg.Pool,
  retentionDays: number,
  slice = 5000,
): Promise<number> {
  let total = 0;
  for (;;) {
    const result = await pool.query(
      `DELETE FROM webhook_events WHERE id IN (
         SELECT ev.id FROM webhook_events ev
         WHERE ev.created_at < now() - make_interval(days => $1) AND ev.fanned_out_at IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = ev.id AND d.status = 'pending')
         LIMIT $2)`,
      [retentionDays, slice],
    );
    total += result.rowCount ?? 0;
    if ((result.rowCount ?? 0) < slice) return total;
  }
}
