import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { generateSecret, hashSecret } from '../auth/secrets.js';
import type { Keyring } from '../crypto/credentials.js';

/**
 * The public token: what a finished connect flow hands to the page (and so to an embedding
 * platform's front end), exchanged once, with the platform's API key, for the account token.
 *
 * The gateway keeps only hashes of account tokens, so to hand one over later it has to stay
 * recoverable until then: it is stored AES-256-GCM encrypted under the keyring beside the public
 * token's hash, and erased (set to null) by the exchange. After that nothing in the database can
 * produce the account token again. Unexchanged tokens expire after PUBLIC_TOKEN_HOURS.
 */
export const PUBLIC_TOKEN_PREFIX = 'hpt_';
export const PUBLIC_TOKEN_HOURS = 24;

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
 * Exchanges a public token of this platform once. The UPDATE both checks and erases, so two
 * concurrent exchanges cannot both read the account token.
 */
export async function exchangePublicToken(
  pool: pg.Pool,
  keyring: Keyring,
  platformId: string,
  publicToken: string,
): Promise<ExchangeResult> {
  const tokenHash = hashSecret(publicToken);
  const { rows } = await pool.query<{ linked_account_id: string; account_token: Buffer }>(
    `UPDATE connect_public_tokens t SET exchanged_at = now(), account_token_encrypted = NULL
     FROM (SELECT id, account_token_encrypted FROM connect_public_tokens
           WHERE token_hash = $1 AND platform_id = $2 FOR UPDATE) old
     WHERE t.id = old.id AND t.exchanged_at IS NULL AND t.expires_at > now()
     RETURNING t.linked_account_id, old.account_token_encrypted AS account_token`,
    [tokenHash, platformId],
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
 * claims the new account's token once, with its API key, by the account id it sees in
 * GET /v1/linked-accounts. Same single use as the exchange; no 24-hour limit, since nothing of it
 * travelled through a browser.
 */
export async function claimAccountToken(
  pool: pg.Pool,
  keyring: Keyring,
  platformId: string,
  linkedAccountId: string,
): Promise<ExchangeResult> {
  const { rows } = await pool.query<{ account_token: Buffer }>(
    `UPDATE connect_public_tokens t SET exchanged_at = now(), account_token_encrypted = NULL
     FROM (SELECT id, account_token_encrypted FROM connect_public_tokens
           WHERE linked_account_id = $1 AND platform_id = $2 AND exchanged_at IS NULL
           ORDER BY created_at DESC LIMIT 1 FOR UPDATE) old
     WHERE t.id = old.id AND t.exchanged_at IS NULL
     RETURNING old.account_token_encrypted AS account_token`,
    [linkedAccountId, platformId],
  );
  const row = rows[0];
  if (row) return { outcome: 'exchanged', accountToken: keyring.decrypt(row.account_token), linkedAccountId };
  const { rows: existing } = await pool.query(
    'SELECT 1 FROM connect_public_tokens WHERE linked_account_id = $1 AND platform_id = $2',
    [linkedAccountId, platformId],
  );
  return { outcome: existing.length > 0 ? 'already_exchanged' : 'unknown' };
}
