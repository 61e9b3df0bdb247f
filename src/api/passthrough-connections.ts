import type { ProviderConnection } from '../providers/types.js';

/**
 * Live provider connections for passthrough, one per linked account, kept while the account's stored
 * credentials stay the same: the provider's token cache (MSAL's, for Dynamics) then serves the next
 * call, instead of a discovery and token request to Entra ID per call. A relink stores new
 * credentials, so a new fingerprint: the old connection is closed and a new one opened. Connections
 * idle for `idleMs` and the least recently used past `maxEntries` are closed.
 */
interface Entry {
  fingerprint: string;
  connection: Promise<ProviderConnection>;
  usedAt: number;
}

export interface PassthroughConnectionsOptions {
  /** Opens a connection for the account (throws when it has no provider to connect to). */
  open: (accountId: string) => Promise<ProviderConnection>;
  /** What changes whenever the account's credentials do, e.g. a hash of the stored ciphertext. */
  fingerprint: (accountId: string) => Promise<string>;
  maxEntries?: number;
  idleMs?: number;
}

export class PassthroughConnections {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly idleMs: number;

  constructor(private readonly options: PassthroughConnectionsOptions) {
    this.maxEntries = options.maxEntries ?? 200;
    this.idleMs = options.idleMs ?? 15 * 60_000;
  }

  async get(accountId: string): Promise<ProviderConnection> {
    await this.closeIdle();
    const fingerprint = await this.options.fingerprint(accountId);
    const entry = this.entries.get(accountId);
    if (entry && entry.fingerprint === fingerprint) {
      // Most recently used last: Map keeps insertion order, so eviction takes the first entry.
      this.entries.delete(accountId);
      this.entries.set(accountId, { ...entry, usedAt: Date.now() });
      return entry.connection;
    }
    if (entry) await this.drop(accountId, entry);
    const connection = this.options.open(accountId);
    this.entries.set(accountId, { fingerprint, connection, usedAt: Date.now() });
    try {
      await connection;
    } catch (error) {
      // Nothing to keep: the next call tries again (the account may be linked by then).
      if (this.entries.get(accountId)?.connection === connection) this.entries.delete(accountId);
      throw error;
    }
    while (this.entries.size > this.maxEntries) {
      const [oldestId, oldest] = this.entries.entries().next().value as [string, Entry];
      await this.drop(oldestId, oldest);
    }
    return connection;
  }

  async close(): Promise<void> {
    for (const [accountId, entry] of [...this.entries]) await this.drop(accountId, entry);
  }

  private async closeIdle(): Promise<void> {
    const idleSince = Date.now() - this.idleMs;
    for (const [accountId, entry] of [...this.entries]) {
      if (entry.usedAt < idleSince) await this.drop(accountId, entry);
    }
  }

  private async drop(accountId: string, entry: Entry): Promise<void> {
    if (this.entries.get(accountId) === entry) this.entries.delete(accountId);
    const connection = await entry.connection.catch(() => undefined);
    await connection?.close();
  }
}
