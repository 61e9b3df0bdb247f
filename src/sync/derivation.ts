import type pg from 'pg';
import type { DerivationScope, InvalidRow } from '../providers/types.js';
import type { ModelName } from '../unified/models.js';

/**
 * SQL the engine runs after the streams, in the sync transaction, returning the ids of rows it
 * changed. Every one is built here in the sync layer from a provider's rules (references.ts,
 * links.ts, auxiliary-values.ts, derived-fields.ts): providers state joins as data and never see
 * Postgres.
 */
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

/** Whether any of these source tables changed in the run or was read in full. */
export function touched(scope: DerivationScope, sources: readonly string[]): boolean {
  return sources.some((source) => scope.fullSources.has(source) || scope.changedSources.has(source));
}
