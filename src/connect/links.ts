import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { generateSecret, hashSecret } from '../auth/secrets.js';

/**
 * Magic links. The link token is 256 random bits (generateSecret) and only its SHA-256 is stored,
 * so a database leak does not hand out working links. A link expires, and is consumed atomically
 * (one UPDATE ... WHERE used_at IS NULL) when the admin connects: two tabs racing get one winner.
 */
export const LINK_TOKEN_PREFIX = 'hlt_';
export const DEFAULT_LINK_DAYS = 7;
export const MAX_LINK_DAYS = 30;

export type LinkPurpose = 'create' | 'relink';

export interface ConnectLink {
  id: string;
  platformId: string;
  platformName: string;
  purpose: LinkPurpose;
  linkedAccountId: string | null;
  endUserOriginId: string;
  organizationName: string;
  endUserEmail: string | null;
  provider: string;
  expiresAt: Date;
  usedAt: Date | null;
  tokenHash: string;
}

export interface NewConnectLink {
  platformId: string;
  purpose: LinkPurpose;
  linkedAccountId?: string | null;
  endUserOriginId: string;
  organizationName: string;
  endUserEmail?: string | null;
  provider: string;
  expiresInDays: number;
}

export async function createConnectLink(
  pool: pg.Pool,
  input: NewConnectLink,
): Promise<{ id: string; linkToken: string; expiresAt: Date }> {
  const linkToken = generateSecret(LINK_TOKEN_PREFIX);
  const id = randomUUID();
  const { rows } = await pool.query<{ expires_at: Date }>(
    `INSERT INTO connect_links (id, platform_id, token_hash, purpose, linked_account_id, end_user_origin_id,
       organization_name, end_user_email, provider, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now() + make_interval(days => $10))
     RETURNING expires_at`,
    [
      id,
      input.platformId,
      hashSecret(linkToken),
      input.purpose,
      input.linkedAccountId ?? null,
      input.endUserOriginId,
      input.organizationName,
      input.endUserEmail ?? null,
      input.provider,
      input.expiresInDays,
    ],
  );
  return { id, linkToken, expiresAt: rows[0]?.expires_at ?? new Date() };
}

interface LinkRow {
  id: string;
  platform_id: string;
  platform_name: string;
  purpose: LinkPurpose;
  linked_account_id: string | null;
  end_user_origin_id: string;
  organization_name: string;
  end_user_email: string | null;
  provider: string;
  expires_at: Date;
  used_at: Date | null;
  token_hash: string;
}

function toLink(row: LinkRow): ConnectLink {
  return {
    id: row.id,
    platformId: row.platform_id,
    platformName: row.platform_name,
    purpose: row.purpose,
    linkedAccountId: row.linked_account_id,
    endUserOriginId: row.end_user_origin_id,
    organizationName: row.organization_name,
    endUserEmail: row.end_user_email,
    provider: row.provider,
    expiresAt: row.expires_at,
    usedAt: row.used_at,
    tokenHash: row.token_hash,
  };
}

const LINK_COLUMNS = `l.id, l.platform_id, p.name AS platform_name, l.purpose, l.linked_account_id,
  l.end_user_origin_id, l.organization_name, l.end_user_email, l.provider, l.expires_at, l.used_at, l.token_hash`;

export type LinkState =
  | { state: 'usable'; link: ConnectLink }
  | { state: 'used'; link: ConnectLink }
  | { state: 'expired'; link: ConnectLink }
  | { state: 'unknown' };

/** What a link token opens: a usable link, a used or expired one (a friendly page), or nothing. */
export async function findConnectLink(pool: pg.Pool, linkToken: string): Promise<LinkState> {
  // Cheap shape check first: random probes never reach the database.
  if (!/^hlt_[\w-]{43}$/.test(linkToken)) return { state: 'unknown' };
  const { rows } = await pool.query<LinkRow>(
    `SELECT ${LINK_COLUMNS} FROM connect_links l JOIN platforms p ON p.id = l.platform_id WHERE l.token_hash = $1`,
    [hashSecret(linkToken)],
  );
  const row = rows[0];
  if (!row) return { state: 'unknown' };
  const link = toLink(row);
  if (link.usedAt) return { state: 'used', link };
  if (link.expiresAt.getTime() <= Date.now()) return { state: 'expired', link };
  return { state: 'usable', link };
}

/**
 * Claims the link for the request about to store credentials. False when another request got there
 * first or it expired meanwhile: exactly one claim ever succeeds (a concurrent claim waits on the row
 * lock, then finds it used). Run in the same transaction as what the link produces: a failure or a
 * crash before COMMIT leaves the link usable, so the admin can retry.
 */
export async function claimConnectLink(client: pg.PoolClient, linkId: string): Promise<boolean> {
  const { rowCount } = await client.query(
    'UPDATE connect_links SET used_at = now() WHERE id = $1 AND used_at IS NULL AND expires_at > now()',
    [linkId],
  );
  return rowCount === 1;
}

/** Records which account a "create" link produced. */
export async function recordLinkedAccount(
  client: pg.PoolClient,
  linkId: string,
  linkedAccountId: string,
): Promise<void> {
  await client.query('UPDATE connect_links SET linked_account_id = $2 WHERE id = $1', [
    linkId,
    linkedAccountId,
  ]);
}
