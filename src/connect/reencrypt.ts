import type { Keyring } from '../crypto/credentials.js';
import type { Database } from '../db/database.js';

/**
 * Key rotation, step two: after the new key is put first in ENCRYPTION_KEY (the old one kept
 * after it, so it can still decrypt), every blob not under the current key is decrypted and
 * encrypted again. Each row is updated only if its blob did not change meanwhile (a relink
 * racing the rotation wins), so running it twice, or on several processes, is safe. Afterwards
 * the old key can be dropped from ENCRYPTION_KEY. The CLI (`hris credentials reencrypt`) calls it.
 */
export interface ReencryptResult {
  /** Encrypted values looked at. */
  scanned: number;
  /** Values that were under an older key and now are under the current one. */
  reencrypted: number;
}

const ENCRYPTED_COLUMNS = [
  { table: 'linked_accounts', column: 'credentials_encrypted' },
  { table: 'connect_public_tokens', column: 'account_token_encrypted' },
] as const;

export async function reencryptAllCredentials(db: Database, keyring: Keyring): Promise<ReencryptResult> {
  const result: ReencryptResult = { scanned: 0, reencrypted: 0 };
  for (const { table, column } of ENCRYPTED_COLUMNS) {
    let after = '00000000-0000-0000-0000-000000000000';
    // Batches in id order keep memory flat however many accounts there are.
    for (;;) {
      const { rows } = await db.pool.query<{ id: string; blob: Buffer }>(
        `SELECT id, ${column} AS blob FROM ${table} WHERE ${column} IS NOT NULL AND id > $1 ORDER BY id LIMIT 500`,
        [after],
      );
      if (rows.length === 0) break;
      for (const row of rows) {
        result.scanned++;
        if (!keyring.needsReencryption(row.blob)) continue;
        const fresh = keyring.encrypt(keyring.decrypt(row.blob));
        const { rowCount } = await db.pool.query(
          `UPDATE ${table} SET ${column} = $2 WHERE id = $1 AND ${column} = $3`,
          [row.id, fresh, row.blob],
        );
        if (rowCount === 1) result.reencrypted++;
      }
      after = rows[rows.length - 1]?.id ?? after;
    }
  }
  return result;
}
