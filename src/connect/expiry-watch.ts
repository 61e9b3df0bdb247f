import type { Database } from '../db/database.js';
import { refreshExpiryStatus } from '../sync/sync-service.js';

/**
 * The expiry watch: a periodic sweep (the lead schedules it) that moves accounts between
 * connected and expiring_soon as their client secret or certificate nears its end, so the
 * platform sees `expiring_soon` with the relink instruction in GET /v1/linked-accounts even for
 * an account whose syncs keep succeeding. The status sentence itself comes from
 * refreshExpiryStatus, the same one every sync uses, so the two never disagree.
 *
 * Only healthy accounts are touched: an account in needs_reauth or error_* keeps its diagnosis.
 */
export const EXPIRY_WARNING_DAYS = 30;

export async function sweepExpiringAccounts(pool: Database['pool']): Promise<{ updated: string[] }> {
  const { rows } = await pool.query<{ id: string }>(
    `SELECT id FROM linked_accounts
     WHERE status IN ('connected', 'expiring_soon')
       AND (credentials_expire_at IS NOT NULL AND credentials_expire_at < now() + make_interval(days => $1))
           IS DISTINCT FROM (status = 'expiring_soon')`,
    [EXPIRY_WARNING_DAYS],
  );
  for (const row of rows) await refreshExpiryStatus(pool, row.id);
  return { updated: rows.map((row) => row.id) };
}
