import type pg from 'pg';
import { copyRowsBy } from '../db/copy-rows.js';
import { quote } from '../db/sql-text.js';
import type { LinkRule, MappedRecord } from '../providers/types.js';
import { COVERAGE_TABLE, MODELS, type PgType } from '../unified/models.js';
import { recordId } from '../unified/record-id.js';
import type { Derivation } from './derivation.js';
import { fieldNameLiteral, hashJoinedIds } from './references.js';
import { touchEnrollmentsSql } from './store.js';

/**
 * Link rules (LinkRule, src/providers/types.ts) turned into SQL: the rebuild of the coverage links
 * of the rule's enrollments after the streams, and the links of an initial load of link rows
 * inserted with each page of them. Names are checked before any SQL is built (remote_data and data keys
 * against the field-name pattern of references.ts, then written as string literals); the account
 * and the source table are parameters.
 */

export interface CompiledLink {
  rule: LinkRule;
  /**
   * The derivation the engine runs after the references: the whole-account rebuild or, when the
   * rule's link rows were loaded in full through insertLinks in this run (`loadedWithLinks` holds
   * their source: an initial load that stored every page in bulk), a prune. Every link they name
   * is then in place, so only links to dependents that are not (or no longer) stored, and links of
   * enrollments that never arrived, are removed: the rebuild's result for a fraction of its cost,
   * as no link row is read from provider_records again.
   */
  derivation(loadedWithLinks: ReadonlySet<string>): Derivation;
  /**
   * Inserts the links named by a page of an initial load of the rule's link rows, both ends' ids
   * derived from their remote ids (recordId: no lookup, and no need for either row to be stored
   * yet). Returns the enrollments already stored that gained a link: their modified_at has moved,
   * and they need a change event. Enrollments stored later arrive with their links in place.
   */
  insertLinks(
    client: pg.PoolClient,
    linkedAccountId: string,
    linkRows: readonly MappedRecord[],
  ): Promise<string[]>;
}

const LINK_COLUMNS = {
  linked_account_id: 'uuid',
  benefit_enrollment_id: 'uuid',
  dependent_id: 'uuid',
} as const satisfies Record<string, PgType>;

/**
 * Inserts a page's links (distinct pairs) and returns the enrollments already stored that gained
 * one. COPY first, under a savepoint: in an initial load the links are new, and COPY costs less
 * than an INSERT ... ON CONFLICT (18 % less in an A/B of 300k links, docs/PERFORMANCE.md). A link
 * already there (named by an earlier page, or stored before the load) fails the COPY; the page's
 * links then go in through `insertSql`, which skips those. Either way every link of the page was
 * added, or was there, and the touched enrollments are those that gained one.
 */
async function insertPairs(
  client: pg.PoolClient,
  linkedAccountId: string,
  ownerIds: readonly string[],
  linkedIds: readonly string[],
  insertSql: string,
): Promise<string[]> {
  await client.query('SAVEPOINT page_links');
  try {
    await copyRowsBy(client, COVERAGE_TABLE, LINK_COLUMNS, ownerIds, [
      () => linkedAccountId,
      (owner) => owner,
      (_owner, index) => linkedIds[index],
    ]);
    await client.query('RELEASE SAVEPOINT page_links');
  } catch (error) {
    if ((error as { code?: string }).code !== '23505') throw error;
    await client.query('ROLLBACK TO SAVEPOINT page_links');
    const { rows } = await client.query<{ id: string }>(insertSql, [linkedAccountId, ownerIds, linkedIds]);
    return rows.map((row) => row.id);
  }
  const { rows } = await client.query<{ id: string }>(
    touchEnrollmentsSql('unnest($1::uuid[]) AS owners(id)'),
    [[...new Set(ownerIds)]],
  );
  return rows.map((row) => row.id);
}

/** A remote_data or data key of the rule as a SQL string literal (refused unless a plain field name). */
function literal(key: string, rule: LinkRule, kind: 'remote_data' | 'data'): string {
  return fieldNameLiteral(key, `link rule ${rule.model} → ${rule.linked}`, kind);
}

export function compileLink(rule: LinkRule): CompiledLink {
  if (rule.model !== 'benefit_enrollments' || rule.linked !== 'dependents') {
    throw new Error(`link rule: no link table from ${rule.model} to ${rule.linked}`);
  }
  const owners = quote(MODELS[rule.model].table);
  const linked = quote(MODELS[rule.linked].table);
  const appliesTo = literal(rule.appliesTo.remoteDataKey, rule, 'remote_data');
  const linkedKey = literal(rule.linkedKey, rule, 'data');
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
    ${touchEnrollmentsSql('changed')}`;
  // Links to dependents not stored (or deleted) are removed by the rebuild after the streams.
  const linkSql = `WITH added AS (
      INSERT INTO ${COVERAGE_TABLE} (linked_account_id, benefit_enrollment_id, dependent_id)
      SELECT DISTINCT $1::uuid, l.owner_id, l.linked_id FROM unnest($2::uuid[], $3::uuid[]) AS l(owner_id, linked_id)
      ON CONFLICT DO NOTHING
      RETURNING benefit_enrollment_id AS id
    )
    ${touchEnrollmentsSql('added')}`;
  const pruneSql = `WITH gone AS (
      SELECT c.benefit_enrollment_id, c.dependent_id
      FROM ${COVERAGE_TABLE} c
      LEFT JOIN ${owners} e ON e.id = c.benefit_enrollment_id
      LEFT JOIN ${linked} d ON d.id = c.dependent_id AND NOT d.remote_was_deleted
      WHERE c.linked_account_id = $1 AND (e.id IS NULL OR (d.id IS NULL AND e.remote_data ? ${appliesTo}))
    ), removed AS (
      DELETE FROM ${COVERAGE_TABLE} c USING gone g
      WHERE c.benefit_enrollment_id = g.benefit_enrollment_id AND c.dependent_id = g.dependent_id
      RETURNING c.benefit_enrollment_id AS id
    )
    ${touchEnrollmentsSql('removed')}`;
  const description = `${rule.linked} covered by each ${rule.model} (${rule.source})`;
  return {
    rule,
    derivation: (loadedWithLinks) => ({
      model: rule.model,
      description,
      run: (client, accountId) =>
        loadedWithLinks.has(rule.source)
          ? hashJoinedIds(client, pruneSql, [accountId])
          : hashJoinedIds(client, rebuildSql, [accountId, rule.source]),
    }),
    async insertLinks(client, linkedAccountId, linkRows) {
      const ownerIds: string[] = [];
      const linkedIds: string[] = [];
      // Each pair once (the SQL's DISTINCT): a page naming a link twice must not fail its COPY.
      const pairs = new Set<string>();
      for (const row of linkRows) {
        const linkedRemoteId = row.remoteData[rule.linkedKey];
        if (!row.refId || typeof linkedRemoteId !== 'string' || linkedRemoteId === '') continue;
        const owner = recordId(linkedAccountId, rule.model, row.refId);
        const linkedId = recordId(linkedAccountId, rule.linked, linkedRemoteId);
        const pair = `${owner} ${linkedId}`;
        if (pairs.has(pair)) continue;
        pairs.add(pair);
        ownerIds.push(owner);
        linkedIds.push(linkedId);
      }
      if (ownerIds.length === 0) return [];
      return insertPairs(client, linkedAccountId, ownerIds, linkedIds, linkSql);
    },
  };
}
