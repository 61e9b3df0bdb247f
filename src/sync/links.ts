import type pg from 'pg';
import { quote } from '../db/sql-text.js';
import type { Derivation, LinkRule, MappedRecord } from '../providers/types.js';
import { COVERAGE_TABLE, MODELS } from '../unified/models.js';
import { hashJoinedIds, REMOTE_DATA_KEY } from './references.js';

/**
 * Link rules (LinkRule, src/providers/types.ts) turned into SQL: the rebuild of the coverage links
 * of the rule's enrollments after the streams, and the links of an initial load's enrollment page
 * inserted with the page. Names are checked before any SQL is built (remote_data and data keys
 * against the field-name pattern of references.ts, then written as string literals); the account
 * and the source table are parameters.
 */

export interface CompiledLink {
  rule: LinkRule;
  /** The whole-account rebuild, as a derivation the engine runs after the references. */
  rebuild: Derivation;
  /**
   * Inserts the links of an initial load's enrollment page (records of any source: only those the
   * rule applies to are linked). Links to dependents not stored yet are left to the rebuild.
   */
  insertPage(
    client: pg.PoolClient,
    linkedAccountId: string,
    records: readonly MappedRecord[],
    /** Our id of each record, as stored (recordId), in the same order. */
    ids: readonly string[],
  ): Promise<void>;
}

function literal(key: string, rule: LinkRule): string {
  if (!REMOTE_DATA_KEY.test(key)) {
    throw new Error(`link rule ${rule.model} → ${rule.linked}: '${key}' is not a field name`);
  }
  return `'${key.replaceAll("'", "''")}'`;
}

export function compileLink(rule: LinkRule): CompiledLink {
  if (rule.model !== 'benefit_enrollments' || rule.linked !== 'dependents') {
    throw new Error(`link rule: no link table from ${rule.model} to ${rule.linked}`);
  }
  const owners = quote(MODELS[rule.model].table);
  const linked = quote(MODELS[rule.linked].table);
  const appliesTo = literal(rule.appliesTo.remoteDataKey, rule);
  const linkedKey = literal(rule.linkedKey, rule);
  // Live dependents only: a link to a deleted dependent is dropped, and comes back with it.
  const linkedRow = `JOIN ${linked} d ON d.linked_account_id = $1 AND d.remote_id = p.data->>${linkedKey}
                     AND NOT d.remote_was_deleted`;
  const rebuildSql = `WITH scope AS (
      SELECT id, remote_id FROM ${owners} WHERE linked_account_id = $1 AND remote_data ? ${appliesTo}
    ), wanted AS (
      SELECT DISTINCT s.id AS owner_id, d.id AS linked_id
      FROM provider_records p
      JOIN scope s ON s.remote_id = p.ref_id
      ${linkedRow}
      WHERE p.linked_account_id = $1 AND p.source_table = $2
    ), removed AS (
      -- An anti-join (hashable), not NOT EXISTS against the CTE, which would rescan it per link.
      DELETE FROM ${COVERAGE_TABLE} c
      USING (SELECT c2.benefit_enrollment_id, c2.dependent_id
             FROM ${COVERAGE_TABLE} c2
             JOIN scope s ON s.id = c2.benefit_enrollment_id
             LEFT JOIN wanted w ON w.owner_id = c2.benefit_enrollment_id AND w.linked_id = c2.dependent_id
             WHERE c2.linked_account_id = $1 AND w.owner_id IS NULL) gone
      WHERE c.benefit_enrollment_id = gone.benefit_enrollment_id AND c.dependent_id = gone.dependent_id
      RETURNING c.benefit_enrollment_id AS id
    ), added AS (
      INSERT INTO ${COVERAGE_TABLE} (linked_account_id, benefit_enrollment_id, dependent_id)
      SELECT $1, w.owner_id, w.linked_id FROM wanted w
      ON CONFLICT DO NOTHING
      RETURNING benefit_enrollment_id AS id
    ), changed AS (SELECT id FROM removed UNION SELECT id FROM added)
    -- The enrollment's links are part of it (covered_dependent_ids): its modified_at moves with them.
    -- Rows another derivation already touched in this transaction (modified_at = now(), stored at
    -- millisecond precision like the column) are not rewritten again; they have their change event.
    UPDATE ${owners} e SET modified_at = now() FROM changed
    WHERE e.id = changed.id AND e.modified_at IS DISTINCT FROM now()::timestamptz(3)
    RETURNING e.id`;
  // The page's enrollments by remote id and our id (computed, not looked up); their link rows by
  // ref_id (indexed), their dependents by remote id (unique index).
  const pageSql = `INSERT INTO ${COVERAGE_TABLE} (linked_account_id, benefit_enrollment_id, dependent_id)
    SELECT DISTINCT $1::uuid, o.id, d.id
    FROM unnest($3::text[], $4::uuid[]) AS o(remote_id, id)
    JOIN provider_records p ON p.linked_account_id = $1 AND p.source_table = $2 AND p.ref_id = o.remote_id
    ${linkedRow}
    ON CONFLICT DO NOTHING`;
  return {
    rule,
    rebuild: {
      model: rule.model,
      description: `${rule.linked} covered by each ${rule.model} (${rule.source})`,
      run: (client, accountId) => hashJoinedIds(client, rebuildSql, [accountId, rule.source]),
    },
    async insertPage(client, linkedAccountId, records, ids) {
      const remoteIds: string[] = [];
      const owners: string[] = [];
      records.forEach((record, index) => {
        if (!(rule.appliesTo.remoteDataKey in record.remoteData)) return;
        remoteIds.push(record.remoteId);
        owners.push(ids[index] as string);
      });
      if (remoteIds.length === 0) return;
      await client.query(pageSql, [linkedAccountId, rule.source, remoteIds, owners]);
    },
  };
}
