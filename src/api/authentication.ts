import type pg from 'pg';
import { hashSecret } from '../auth/secrets.js';
import { AppError } from '../errors.js';

/**
 * Who is calling: the platform behind `Authorization: Bearer <api key>`, and which of its linked
 * accounts `X-Account-Token` names. Successful look-ups are cached for AUTH_CACHE_SECONDS so the hot
 * read path costs one query, not three; a revoked key therefore stops working within that time.
 */
export interface ApiKeyPrincipal {
  keyId: string;
  platformId: string;
  /** May read sensitive fields. */
  sensitive: boolean;
  /** May call POST /v1/passthrough (which also needs `sensitive`). */
  passthrough: boolean;
}

export interface AccountPrincipal {
  id: string;
  platformId: string;
}

interface CacheEntry<T> {
  value: T;
  expiresAt: number;
}

class TtlCache<T> {
  private readonly entries = new Map<string, CacheEntry<T>>();
  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  get(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt < Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: T): void {
    if (this.ttlMs <= 0) return;
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(key, { value, expiresAt: Date.now() + this.ttlMs });
  }

  clear(): void {
    this.entries.clear();
  }
}

/**
 * Failed authentications per client address in a fixed one-minute window. Authenticated traffic is
 * limited per API key (app.ts); this is what makes guessing keys or account tokens cost something,
 * since every wrong guess would otherwise start a fresh per-key bucket. Counted per process.
 */
class FailureWindow {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  constructor(
    private readonly maxPerMinute: number,
    private readonly maxAddresses = 50_000,
  ) {}

  /** Refuses an address that already failed too often in its current window. */
  check(address: string): void {
    const window = this.windows.get(address);
    if (!window) return;
    const now = Date.now();
    if (window.resetAt <= now) {
      this.windows.delete(address);
      return;
    }
    if (window.count >= this.maxPerMinute) {
      const retryAfter = Math.ceil((window.resetAt - now) / 1000);
      throw new AppError(
        'rate_limited',
        `Too many requests with missing or invalid credentials from this address; retry in ${retryAfter} s.`,
        [],
        { 'retry-after': String(retryAfter) },
      );
    }
  }

  record(address: string): void {
    const now = Date.now();
    const window = this.windows.get(address);
    if (window && window.resetAt > now) {
      window.count++;
      return;
    }
    if (this.windows.size >= this.maxAddresses) this.windows.clear();
    this.windows.set(address, { count: 1, resetAt: now + 60_000 });
  }
}

export class Authenticator {
  private readonly keys: TtlCache<ApiKeyPrincipal>;
  private readonly accounts: TtlCache<AccountPrincipal>;
  private readonly failures: FailureWindow;

  constructor(
    private readonly pool: pg.Pool,
    cacheSeconds: number,
    failuresPerMinute: number,
  ) {
    this.keys = new TtlCache(cacheSeconds * 1000);
    this.accounts = new TtlCache(cacheSeconds * 1000);
    this.failures = new FailureWindow(failuresPerMinute);
  }

  /** The caller's API key; `address` (the client's) is refused after too many failures. */
  authenticateKey(authorization: string | undefined, address: string): Promise<ApiKeyPrincipal> {
    return this.counted(address, () => this.lookUpKey(authorization));
  }

  /** The linked account named by X-Account-Token, which must belong to the key's platform. */
  authenticateAccount(
    token: string | undefined,
    platformId: string,
    address: string,
  ): Promise<AccountPrincipal> {
    return this.counted(address, () => this.lookUpAccount(token, platformId));
  }

  /** Runs a look-up for `address`, refused while it has failed too often, and counts its refusals. */
  private async counted<T>(address: string, lookUp: () => Promise<T>): Promise<T> {
    this.failures.check(address);
    try {
      return await lookUp();
    } catch (error) {
      if (error instanceof AppError) this.failures.record(address);
      throw error;
    }
  }

  private async lookUpKey(authorization: string | undefined): Promise<ApiKeyPrincipal> {
    if (!authorization) {
      throw new AppError('missing_api_key', 'Send your API key as `Authorization: Bearer <api key>`.', [
        { field: 'Authorization', message: 'header missing' },
      ]);
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match?.[1]) {
      throw new AppError('invalid_api_key', 'The Authorization header must be `Bearer <api key>`.', [
        { field: 'Authorization', message: 'not a Bearer credential' },
      ]);
    }
    const keyHash = hashSecret(match[1]);
    const cached = this.keys.get(keyHash);
    if (cached) return cached;
    // One statement both authenticates and records the use (at most once per cache period).
    const { rows } = await this.pool.query<{
      id: string;
      platform_id: string;
      sensitive: boolean;
      passthrough: boolean;
    }>(
      `UPDATE api_keys SET last_used_at = now() WHERE key_hash = $1 AND revoked_at IS NULL
       RETURNING id, platform_id, sensitive, passthrough`,
      [keyHash],
    );
    const row = rows[0];
    if (!row) {
      throw new AppError('invalid_api_key', 'This API key is not valid or was revoked.', [
        { field: 'Authorization', message: 'unknown or revoked API key' },
      ]);
    }
    const principal = {
      keyId: row.id,
      platformId: row.platform_id,
      sensitive: row.sensitive,
      passthrough: row.passthrough,
    };
    this.keys.set(keyHash, principal);
    return principal;
  }

  private async lookUpAccount(token: string | undefined, platformId: string): Promise<AccountPrincipal> {
    if (!token) {
      throw new AppError('missing_account_token', "Send the linked account's token as `X-Account-Token`.", [
        { field: 'X-Account-Token', message: 'header missing' },
      ]);
    }
    const tokenHash = hashSecret(token.trim());
    let account = this.accounts.get(tokenHash);
    if (!account) {
      const { rows } = await this.pool.query<{ id: string; platform_id: string }>(
        'SELECT id, platform_id FROM linked_accounts WHERE account_token_hash = $1',
        [tokenHash],
      );
      const row = rows[0];
      if (row) {
        account = { id: row.id, platformId: row.platform_id };
        this.accounts.set(tokenHash, account);
      }
    }
    // Another platform's account answers exactly like a token that does not exist.
    if (!account || account.platformId !== platformId) {
      throw new AppError('not_found', 'No linked account of yours has this account token.', [
        { field: 'X-Account-Token', message: 'unknown account token' },
      ]);
    }
    return account;
  }

  /** Forget cached principals (after a key is revoked in-process, and in tests). */
  clear(): void {
    this.keys.clear();
    this.accounts.clear();
  }
}
