import type { Database } from '../db/database.js';
import { EXPIRY_WARNING_DAYS } from '../providers/definition.js';
import { EXPIRING_CREDENTIALS } from '../providers/registry.js';

/**
 * connected ↔ expiring_soon by the credentials' expiry date, with the relink instruction: what
 * expires and what to do, in the words of the account's provider (its definition's expiringCredentials).
 */
export async function refreshExpiryStatus(pool: Database['pool'], linkedAccountId: string): Promise<void> {
  await pool.query(
    `UPDATE linked_accounts SET
       status = CASE WHEN credentials_expire_at < now() + make_interval(days => $2) THEN 'expiring_soon' ELSE 'connected' END::linked_account_status,
       status_reason = CASE WHEN credentials_expire_at < now() + make_interval(days => $2)
         THEN coalesce($3::jsonb -> provider ->> 'name', 'The stored credential') || ' expires on ' ||
              to_char(credentials_expire_at, 'YYYY-MM-DD') || ': ' ||
              coalesce($3::jsonb -> provider ->> 'advice', 'renew it and relink') ||
              ' (POST /v1/linked-accounts/' || id || '/relink).'
         END,
       updated_at = now()
     WHERE id = $1`,
    [linkedAccountId, EXPIRY_WARNING_DAYS, JSON.stringify(EXPIRING_CREDENTIALS)],
  );
}

/**
 * The expiry watch: a periodic sweep (SyncService's scheduler runs it) that moves accounts between
 * connected and expiring_soon as their credentials (a client secret, a certificate) near their end, so the
 * platform sees `expiring_soon` with the relink instruction in GET /v1/linked-accounts even for
 * an account whose syncs keep succeeding. The status sentence itself comes from
 * refreshExpiryStatus, the same one every sync uses, so the two never disagree.
 *
 * Only healthy accounts are touched: an account in needs_reauth or error_* keeps its diagnosis.
 */
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
