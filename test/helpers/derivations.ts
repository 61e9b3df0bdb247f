import type { Database } from '../../src/db/database.js';
import { inTransaction } from '../../src/db/transaction.js';
import type { DerivationScope } from '../../src/providers/types.js';
import type { Derivation } from '../../src/sync/derivation.js';

/** Runs the derivations in order in one transaction, as the engine does: the ids they changed. */
export async function runDerivations(
  db: Database,
  derivations: readonly Derivation[],
  accountId: string,
  scope: DerivationScope,
): Promise<string[]> {
  return inTransaction(db.pool, async (client) => {
    const changed: string[] = [];
    for (const derivation of derivations) changed.push(...(await derivation.run(client, accountId, scope)));
    return changed;
  });
}

/** The account's rows of `table`, by remote id: remote_id and the given select list. */
export async function storedRows(db: Database, table: string, fields: string, accountId: string) {
  const { rows } = await db.pool.query(
    `SELECT remote_id, ${fields} FROM ${table} WHERE linked_account_id = $1 ORDER BY remote_id`,
    [accountId],
  );
  return rows;
}
