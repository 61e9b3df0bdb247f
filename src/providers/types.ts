import type pg from 'pg';
import type { ModelName } from '../unified/models.js';

/**
 * The provider contract. A provider knows its HR system and nothing of Postgres: it says which
 * sources serve which unified models for an account, streams pages of mapped rows, names its live
 * checks, and lists the SQL derivations that fill fields joined across sources. The sync engine
 * (src/sync) owns storage, checkpoints and retries of whole runs.
 */

export type CheckStatus = 'ok' | 'warning' | 'failure' | 'skipped';

export interface CheckResult {
  /** Stable id, e.g. "token", "whoami", "table:cdm_worker". */
  id: string;
  title: string;
  status: CheckStatus;
  /** What was found, in words. */
  detail: string;
  /** What to do about it, when something needs doing. */
  remediation?: string;
}

/** A unified row produced by a mapper: API field names (see src/unified/models.ts). */
export interface MappedRecord {
  remoteId: string;
  fields: Record<string, unknown>;
  remoteData: Record<string, unknown>;
  remoteCreatedAt: string | null;
  remoteModifiedAt: string | null;
  /** Auxiliary rows: the remote id of the record they hang from (kept in provider_records.ref_id). */
  refId?: string | null;
  /** Dependents an enrollment covers, as remote ids of dependents (enrollments only). */
  coveredDependentRemoteIds?: string[];
}

export interface InvalidRow {
  /** The row's key at the source (its GUID, or the best identifier available). */
  key: string;
  reason: string;
}

export interface SyncPage {
  records: MappedRecord[];
  deletedRemoteIds: string[];
  invalid: InvalidRow[];
  /**
   * Where to resume after this page is stored. During a full load: the next page's link (null on
   * the last page of a snapshot source). On the last page of a change-tracked load: the delta link.
   */
  nextCursor: string | null;
  /** "full" for pages of a full load, "delta" for pages of changes since the last cursor. */
  phase: 'full' | 'delta';
  /** True on the last page of this stream. */
  last: boolean;
}

export interface StoredCursor {
  phase: 'full' | 'delta';
  cursor: string | null;
}

/** One stream of a sync: a source table feeding a model, or auxiliary rows for derivations. */
export interface SourceStream {
  /** e.g. "dataverse:cdm_workers". Checkpoints and reconciliation are kept per source table. */
  sourceTable: string;
  /** The unified model this stream fills, or "auxiliary" (rows kept raw in provider_records). */
  target: ModelName | 'auxiliary';
  /**
   * Pages from `from` (null = start a full load). Throws CursorExpiredError when the source no
   * longer accepts the cursor; the engine then starts a full load, reconciling deletions.
   */
  pages(from: StoredCursor | null): AsyncGenerator<SyncPage>;
}

export class CursorExpiredError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CursorExpiredError';
  }
}

export interface ModelAvailability {
  model: ModelName;
  /** e.g. "dataverse:cdm_workers", or "unavailable". */
  source: string;
  reason: string;
}

/** SQL run after the streams, in the sync transaction, returning the ids of rows it changed. */
/** What a sync run changed, so a derivation can do only the work those changes call for. */
export interface DerivationScope {
  /**
   * Source tables read in full this run (first sync, reconciliation, a snapshot source): derive
   * everything that depends on them, since a full read may change what is stored without counting
   * as a change (remote_data only). Per source, so a snapshot-only F&O source read every sync does
   * not make the Dataverse derivations rewrite the whole account.
   */
  fullSources: ReadonlySet<string>;
  /** Source tables with any created, updated or deleted row in this run. */
  changedSources: ReadonlySet<string>;
  /** Our ids of the records created or updated in this run, per model. */
  changedRecords: ReadonlyMap<ModelName, readonly string[]>;
}

export interface Derivation {
  model: ModelName;
  description: string;
  run(client: pg.PoolClient, linkedAccountId: string, scope: DerivationScope): Promise<string[]>;
  /**
   * After run(): rows whose reference this derivation could not resolve (e.g. an F&O enrollment
   * whose worker is not among the synced employees). Reported in the run's stats, not dropped.
   */
  unresolved?(
    client: pg.PoolClient,
    linkedAccountId: string,
  ): Promise<{ count: number; first: InvalidRow[] }>;
  /**
   * The same references as SQL expressions, one per column of `model`'s table, over an incoming row
   * `r` (with `$1` = the account): an initial load stores them as it inserts its pages, so run()
   * finds nothing left to rewrite when the referenced rows were already stored (see
   * insertInitialRecords). run() stays the authority: it fixes whatever was not resolvable yet.
   */
  resolveOnInsert?: Record<string, string>;
}

export interface SyncPlan {
  models: ModelAvailability[];
  streams: SourceStream[];
  derivations: Derivation[];
}

/** A provider bound to one linked account's connection. */
export interface ProviderConnection {
  plan(): Promise<SyncPlan>;
  check(): AsyncGenerator<CheckResult>;
  close(): Promise<void>;
}
