import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { generateSecret, hashSecret } from '../auth/secrets.js';
import type { Keyring } from '../crypto/credentials.js';

/**
 * The public token: what a finished connect flow hands to the page (and so to an embedding
 * platform's front end), exchanged, with the platform's API key, for the account token.
 *
 * The gateway keeps only hashes of account tokens, so to hand one over later it has to stay
 * recoverable until then: it is stored AES-256-GCM encrypted under the keyring beside the public
 * token's hash. A handover is retry-safe: if the platform never got the answer (a dropped connection,
 * a gateway process killed after its COMMIT), the same exchange or claim repeated within
 * HANDOVER_RETRY_MINUTES answers the same account token. After that window the scheduler's sweep
 * erases the ciphertext (erasePublicTokenSecrets), and nothing in the database can produce the
 * account token again. Unexchanged tokens expire after PUBLIC_TOKEN_HOURS.
 */
export const PUBLIC_TOKEN_PREFIX = 'hpt_';
export const PUBLIC_TOKEN_HOURS = 24;
export const HANDOVER_RETRY_MINUTES = 10;

export async function issuePublicToken(
  client: pg.PoolClient | pg.Pool,
  keyring: Keyring,
  input: { platformId: string; linkedAccountId: string; connectLinkId: string; accountToken: string },
): Promise<string> {
  const publicToken = generateSecret(PUBLIC_TOKEN_PREFIX);
  await client.query(
    `INSERT INTO connect_public_tokens (id, token_hash, platform_id, linked_account_id, connect_link_id,
       account_token_encrypted, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(hours => $7))`,
    [
      randomUUID(),
      hashSecret(publicToken),
      input.platformId,
      input.linkedAccountId,
      input.connectLinkId,
      keyring.encrypt(input.accountToken),
      PUBLIC_TOKEN_HOURS,
    ],
  );
  return publicToken;
}

export type ExchangeResult =
  | { outcome: 'exchanged'; accountToken: string; linkedAccountId: string }
  | { outcome: 'already_exchanged' | 'expired' | 'unknown' };

/**
 * A row whose account token may be handed over now: never handed over and (for the exchange) not
 * expired, or handed over so recently that this is the same platform retrying. `$3` is
 * HANDOVER_RETRY_MINUTES.
 */
const HANDOVER_ALLOWED = `account_token_encrypted IS NOT NULL
  AND (exchanged_at IS NULL OR exchanged_at > now() - make_interval(mins => $3))`;

/**
 * Exchanges a public token of this platform; a repeat within HANDOVER_RETRY_MINUTES answers the
 * same account token, a later one `already_exchanged`. One statement checks and marks, so a process
 * killed at any point leaves either no exchange or one that the retry completes.
 */
export async function exchangePublicToken(
  pool: pg.Pool,
  keyring: Keyring,
  platformId: string,
  publicToken: string,
): Promise<ExchangeResult> {
  const tokenHash = hashSecret(publicToken);
  const { rows } = await pool.query<{ linked_account_id: string; account_token: Buffer }>(
    `UPDATE connect_public_tokens SET exchanged_at = coalesce(exchanged_at, now())
     WHERE token_hash = $1 AND platform_id = $2 AND ${HANDOVER_ALLOWED}
       AND (exchanged_at IS NOT NULL OR expires_at > now())
     RETURNING linked_account_id, account_token_encrypted AS account_token`,
    [tokenHash, platformId, HANDOVER_RETRY_MINUTES],
  );
  const row = rows[0];
  if (row) {
    return {
      outcome: 'exchanged',
      accountToken: keyring.decrypt(row.account_token),
      linkedAccountId: row.linked_account_id,
    };
  }
  const { rows: existing } = await pool.query<{ exchanged: boolean }>(
    'SELECT exchanged_at IS NOT NULL AS exchanged FROM connect_public_tokens WHERE token_hash = $1 AND platform_id = $2',
    [tokenHash, platformId],
  );
  const found = existing[0];
  if (!found) return { outcome: 'unknown' };
  return { outcome: found.exchanged ? 'already_exchanged' : 'expired' };
}

/**
 * For a plain magic link (no front end of the platform's to receive the public token): the platform
 * claims the new account's token, with its API key, by the account id it sees in
 * GET /v1/linked-accounts. Handed over like the exchange (retry-safe for HANDOVER_RETRY_MINUTES, then
 * never again); no 24-hour limit, since nothing of it travelled through a browser.
 */
export async function claimAccountToken(
  pool: pg.Pool,
  keyring: Keyring,
  platformId: string,
  linkedAccountId: string,
): Promise<ExchangeResult> {
  const { rows } = await pool.query<{ account_token: Buffer }>(
    `UPDATE connect_public_tokens t SET exchanged_at = coalesce(t.exchanged_at, now())
     FROM (SELECT id FROM connect_public_tokens
           WHERE linked_account_id = $1 AND platform_id = $2 AND ${HANDOVER_ALLOWED}
           ORDER BY created_at DESC LIMIT 1 FOR UPDATE) handover
     WHERE t.id = handover.id
     RETURNING t.account_token_encrypted AS account_token`,
    [linkedAccountId, platformId, HANDOVER_RETRY_MINUTES],
  );
  const row = rows[0];
  if (row) return { outcome: 'exchanged', accountToken: keyring.decrypt(row.account_token), linkedAccountId };
  const { rows: existing } = await pool.query(
    'SELECT 1 FROM connect_public_tokens WHERE linked_account_id = $1 AND platform_id = $2',
    [linkedAccountId, platformId],
  );
  return { outcome: existing.length > 0 ? 'already_exchanged' : 'unknown' };
}

/**
 * Erases the encrypted account tokens whose retry window has passed, so that the database can no
 * longer produce them. Run by the scheduler's periodic sweep; returns how many it erased.
 */
export async function erasePublicTokenSecrets(pool: pg.Pool): Promise<number> {
  const { rowCount } = await pool.query(
    `UPDATE connect_public_tokens SET account_token_encrypted = NULL
     WHERE account_token_encrypted IS NOT NULL AND exchanged_at <= now() - make_interval(mins => $1)`,
    [HANDOVER_RETRY_MINUTES],
  );
  return rowCount ?? 0;
}
