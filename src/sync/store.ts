import type pg from 'pg';
import { upsertRows } from '../db/bulk-upsert.js';
import { copyRows, copyRowsBy } from '../db/copy-rows.js';
import { quote } from '../db/sql-text.js';
import type { MappedRecord, StoredCursor } from '../providers/types.js';
import { COMMON_COLUMNS, COVERAGE_TABLE, MODELS, type ModelName, type PgType } from '../unified/models.js';
import { recordId } from '../unified/record-id.js';
import type { ResolvedValues } from './key-maps.js';

/**
 * The sync engine's writes, each inside the caller's transaction: upserts of mapped records,
 * deletions, the seen-set of a full load and its reconciliation, checkpoints, and the change-event
 * outbox. Plain SQL on one connection; batched, never one statement per row.
 */

export type ChangeKind = 'created' | 'updated' | 'deleted';

export interface Changes {
  created: string[];
  updated: string[];
  deleted: string[];
}

export const noChanges = (): Changes => ({ created: [], updated: [], deleted: [] });

const UPSERT_KEY = ['linked_account_id', 'remote_id'];
// Refreshed when they differ, but not a change of the normalized record (modified_at stays).
const UNTRACKED = ['remote_data', 'remote_created_at', 'remote_modified_at'];

/** The columns a stream writes: the common ones plus whichever model fields its mapper produces. */
function writtenColumns(model: ModelName, fieldNames: string[]): Record<string, PgType> {
  const spec = MODELS[model];
  const columns: Record<string, PgType> = {
    id: COMMON_COLUMNS.id,
    linked_account_id: COMMON_COLUMNS.linked_account_id,
    remote_id: COMMON_COLUMNS.remote_id,
    remote_data: COMMON_COLUMNS.remote_data,
    remote_created_at: COMMON_COLUMNS.remote_created_at,
    remote_modified_at: COMMON_COLUMNS.remote_modified_at,
    remote_was_deleted: COMMON_COLUMNS.remote_was_deleted,
    remote_deleted_at: COMMON_COLUMNS.remote_deleted_at,
  };
  for (const name of fieldNames) {
    const type = spec.columns[name];
    if (!type) throw new Error(`${model} has no field ${name} (mapper output)`);
    columns[name] = type;
  }
  return columns;
}

/** The model fields a page's mapper produced. */
function fieldNamesOf(records: readonly MappedRecord[]): string[] {
  const names = new Set<string>();
  for (const record of records) for (const name in record.fields) names.add(name);
  return [...names];
}

/** Mapped records as rows of the model's table, with the columns a stream writes. */
export function toUnifiedRows(linkedAccountId: string, model: ModelName, records: MappedRecord[]) {
  const fieldNames = fieldNamesOf(records);
  const rows = records.map((record) => ({
    ...record.fields,
    id: recordId(linkedAccountId, model, record.remoteId),
    linked_account_id: linkedAccountId,
    remote_id: record.remoteId,
    remote_data: record.remoteData,
    remote_created_at: record.remoteCreatedAt,
    remote_modified_at: record.remoteModifiedAt,
    // A row seen again after a deletion is alive again.
    remote_was_deleted: false,
    remote_deleted_at: null,
  }));
  return { columns: writtenColumns(model, fieldNames), rows };
}

export async function upsertRecords(
  client: pg.PoolClient,
  linkedAccountId: string,
  model: ModelName,
  records: MappedRecord[],
): Promise<Changes> {
  const changes = noChanges();
  if (records.length === 0) return changes;
  const { columns, rows } = toUnifiedRows(linkedAccountId, model, records);
  const result = await upsertRows(client, MODELS[model].table, columns, rows, {
    conflictColumns: UPSERT_KEY,
    touchColumn: 'modified_at',
    untrackedColumns: UNTRACKED,
  });
  changes.created.push(...result.inserted);
  changes.updated.push(...result.updated);
  if (model === 'benefit_enrollments') {
    const coverageChanged = await replaceCoverage(client, linkedAccountId, records);
    const already = new Set([...changes.created, ...changes.updated]);
    changes.updated.push(...coverageChanged.filter((id) => !already.has(id)));
  }
  return changes;
}

/**
 * SQL giving a new modified_at to the enrollments whose coverage links changed (ids from `changed`,
 * a CTE or table expression with an `id` column), returning their ids: the links are part of the
 * enrollment (covered_dependent_ids). Rows already written in this transaction (modified_at =
 * now(), stored at millisecond precision like the column) are not rewritten again; they already
 * have their change event.
 */
export function touchEnrollmentsSql(changed: string): string {
  return `UPDATE benefit_enrollments e SET modified_at = now() FROM (SELECT DISTINCT id FROM ${changed}) c
    WHERE e.id = c.id AND e.modified_at IS DISTINCT FROM now()::timestamptz(3)
    RETURNING e.id`;
}

/**
 * Sets the covered dependents of the given enrollments to exactly what the records say, and
 * returns the enrollments whose coverage changed (their modified_at moves too).
 */
async function replaceCoverage(
  client: pg.PoolClient,
  linkedAccountId: string,
  records: MappedRecord[],
): Promise<string[]> {
  const enrollmentIds: string[] = [];
  const pairs: { enrollment: string[]; dependent: string[] } = { enrollment: [], dependent: [] };
  for (const record of records) {
    if (!record.coveredDependentRemoteIds) continue;
    const enrollmentId = recordId(linkedAccountId, 'benefit_enrollments', record.remoteId);
    enrollmentIds.push(enrollmentId);
    for (const dependent of record.coveredDependentRemoteIds) {
      pairs.enrollment.push(enrollmentId);
      pairs.dependent.push(recordId(linkedAccountId, 'dependents', dependent));
    }
  }
  if (enrollmentIds.length === 0) return [];
  const { rows } = await client.query<{ id: string }>(
    `WITH wanted AS (
       SELECT * FROM unnest($2::uuid[], $3::uuid[]) AS w(benefit_enrollment_id, dependent_id)
     ), removed AS (
       DELETE FROM ${COVERAGE_TABLE} c
       WHERE c.benefit_enrollment_id = ANY($4::uuid[])
         AND NOT EXISTS (SELECT 1 FROM wanted w WHERE w.benefit_enrollment_id = c.benefit_enrollment_id AND w.dependent_id = c.dependent_id)
       RETURNING c.benefit_enrollment_id AS id
     ), added AS (
       INSERT INTO ${COVERAGE_TABLE} (linked_account_id, benefit_enrollment_id, dependent_id)
       SELECT $1, w.benefit_enrollment_id, w.dependent_id FROM wanted w
       ON CONFLICT DO NOTHING
       RETURNING benefit_enrollment_id AS id
     ), changed AS (SELECT id FROM removed UNION SELECT id FROM added)
     ${touchEnrollmentsSql('changed')}`,
    [linkedAccountId, pairs.enrollment, pairs.dependent, enrollmentIds],
  );
  return rows.map((row) => row.id);
}

export async function markDeleted(
  client: pg.PoolClient,
  linkedAccountId: string,
  model: ModelName,
  remoteIds: string[],
): Promise<string[]> {
  if (remoteIds.length === 0) return [];
  const { rows } = await client.query<{ id: string }>(
    `UPDATE ${MODELS[model].table} SET remote_was_deleted = true, remote_deleted_at = now(), modified_at = now()
     WHERE linked_account_id = $1 AND remote_id = ANY($2::text[]) AND NOT remote_was_deleted
     RETURNING id`,
    [linkedAccountId, remoteIds],
  );
  return rows.map((row) => row.id);
}

const PROVIDER_RECORD_COLUMNS = {
  linked_account_id: 'uuid',
  source_table: 'text',
  remote_id: 'text',
  ref_id: 'text',
  data: 'jsonb',
} as const satisfies Record<string, PgType>;

function providerRecordRows(linkedAccountId: string, sourceTable: string, records: MappedRecord[]) {
  return records.map((record) => ({
    linked_account_id: linkedAccountId,
    source_table: sourceTable,
    remote_id: record.remoteId,
    ref_id: record.refId ?? null,
    data: record.remoteData,
  }));
}

/** Auxiliary rows: kept raw in provider_records; returns how many changed. */
export async function upsertAuxiliary(
  client: pg.PoolClient,
  linkedAccountId: string,
  sourceTable: string,
  records: MappedRecord[],
): Promise<number> {
  if (records.length === 0) return 0;
  const result = await upsertRows(
    client,
    'provider_records',
    PROVIDER_RECORD_COLUMNS,
    providerRecordRows(linkedAccountId, sourceTable, records),
    {
      conflictColumns: ['linked_account_id', 'source_table', 'remote_id'],
      touchColumn: 'modified_at',
      idColumn: 'remote_id',
    },
  );
  return result.inserted.length + result.updated.length;
}

export async function deleteAuxiliary(
  client: pg.PoolClient,
  linkedAccountId: string,
  sourceTable: string,
  remoteIds: string[],
): Promise<number> {
  if (remoteIds.length === 0) return 0;
  const result = await client.query(
    'DELETE FROM provider_records WHERE linked_account_id = $1 AND source_table = $2 AND remote_id = ANY($3::text[])',
    [linkedAccountId, sourceTable, remoteIds],
  );
  return result.rowCount ?? 0;
}

/** Remembers the remote ids of a full load's page, for reconciliation at its end. */
export async function markSeen(
  client: pg.PoolClient,
  linkedAccountId: string,
  sourceTable: string,
  remoteIds: string[],
): Promise<void> {
  if (remoteIds.length === 0) return;
  await client.query(
    `INSERT INTO sync_seen_records (linked_account_id, source_table, remote_id)
     SELECT $1, $2, unnest($3::text[]) ON CONFLICT DO NOTHING`,
    [linkedAccountId, sourceTable, remoteIds],
  );
}

/**
 * End of a complete full load: whatever the account holds from this source that the load did not
 * see was deleted at the source. Returns the ids marked deleted (or the count of auxiliary rows).
 */
export async function reconcile(
  client: pg.PoolClient,
  linkedAccountId: string,
  sourceTable: string,
  target: ModelName | 'auxiliary',
): Promise<string[]> {
  // The seen-set was just filled: without fresh statistics the planner takes it for tiny and
  // probes it row by row (seconds for 100k rows) instead of hashing it once.
  await client.query('ANALYZE sync_seen_records');
  const notSeen = `NOT EXISTS (SELECT 1 FROM sync_seen_records s
      WHERE s.linked_account_id = $1 AND s.source_table = $2 AND s.remote_id = t.remote_id)`;
  let deleted: string[];
  if (target === 'auxiliary') {
    await client.query(
      `DELETE FROM provider_records t WHERE t.linked_account_id = $1 AND t.source_table = $2 AND ${notSeen}`,
      [linkedAccountId, sourceTable],
    );
    deleted = [];
  } else {
    const { rows } = await client.query<{ id: string }>(
      `UPDATE ${MODELS[target].table} t SET remote_was_deleted = true, remote_deleted_at = now(), modified_at = now()
       WHERE t.linked_account_id = $1 AND NOT t.remote_was_deleted AND ${notSeen}
       RETURNING t.id`,
      [linkedAccountId, sourceTable],
    );
    deleted = rows.map((row) => row.id);
  }
  await client.query('DELETE FROM sync_seen_records WHERE linked_account_id = $1 AND source_table = $2', [
    linkedAccountId,
    sourceTable,
  ]);
  return deleted;
}

export interface CursorState extends StoredCursor {
  /** A first full load for this source: nothing stored yet could be stale (see startFullLoad). */
  initialLoad: boolean;
}

export async function loadCursor(
  client: pg.Pool | pg.PoolClient,
  linkedAccountId: string,
  sourceTable: string,
): Promise<CursorState | null> {
  const { rows } = await client.query<{
    phase: 'full' | 'delta';
    cursor: string | null;
    initial_load: boolean;
  }>(
    'SELECT phase, cursor, initial_load FROM sync_cursors WHERE linked_account_id = $1 AND source_table = $2',
    [linkedAccountId, sourceTable],
  );
  const row = rows[0];
  return row ? { phase: row.phase, cursor: row.cursor, initialLoad: row.initial_load } : null;
}

/** Where to resume after this page; the initial-load flag holds until its full load ends. */
export async function saveCursor(
  client: pg.PoolClient,
  linkedAccountId: string,
  sourceTable: string,
  cursor: StoredCursor,
  initialLoad = false,
): Promise<void> {
  await client.query(
    `UPDATE sync_cursors SET phase = $3, cursor = $4, initial_load = $5, updated_at = now()
     WHERE linked_account_id = $1 AND source_table = $2`,
    [linkedAccountId, sourceTable, cursor.phase, cursor.cursor, initialLoad],
  );
}

/**
 * Starts a full load of a source table: forget what an interrupted one had seen, and note whether
 * the account holds anything from this source yet. When it holds nothing, the load is "initial":
 * its pages can be bulk-inserted, and nothing can be missing at its end, so no reconciliation.
 */
export async function startFullLoad(
  client: pg.PoolClient,
  linkedAccountId: string,
  sourceTable: string,
  target: ModelName | 'auxiliary',
): Promise<CursorState> {
  await client.query('DELETE FROM sync_seen_records WHERE linked_account_id = $1 AND source_table = $2', [
    linkedAccountId,
    sourceTable,
  ]);
  const existing = await client.query<{ present: boolean }>(
    target === 'auxiliary'
      ? 'SELECT EXISTS (SELECT 1 FROM provider_records WHERE linked_account_id = $1 AND source_table = $2) AS present'
      : `SELECT EXISTS (SELECT 1 FROM ${MODELS[target].table} WHERE linked_account_id = $1 AND $2::text IS NOT NULL) AS present`,
    [linkedAccountId, sourceTable],
  );
  const initialLoad = !existing.rows[0]?.present;
  await client.query(
    `INSERT INTO sync_cursors (linked_account_id, source_table, phase, cursor, full_load_started_at, initial_load, updated_at)
     VALUES ($1, $2, 'full', NULL, now(), $3, now())
     ON CONFLICT (linked_account_id, source_table) DO UPDATE
     SET phase = 'full', cursor = NULL, full_load_started_at = now(), initial_load = $3, updated_at = now()`,
    [linkedAccountId, sourceTable, initialLoad],
  );
  return { phase: 'full', cursor: null, initialLoad };
}

/**
 * A page of an initial load: rows are new, so COPY them (the fast path). A row the source sent
 * twice would violate the unique key: the savepoint lets the caller fall back to the upsert.
 * `resolved`: columns computed in SQL as the rows go in (Derivation.resolveOnInsert), so a
 * reference is written with its row rather than by rewriting every row after the load. `values`:
 * the same columns resolved already (key-maps.ts, one value per record), COPYed with the rows.
 */
export async function insertInitialRecords(
  client: pg.PoolClient,
  linkedAccountId: string,
  target: ModelName | 'auxiliary',
  sourceTable: string,
  records: MappedRecord[],
  resolved: Record<string, string> = {},
  values?: ResolvedValues,
): Promise<Changes | undefined> {
  const changes = noChanges();
  if (records.length === 0) return changes;
  await client.query('SAVEPOINT initial_page');
  try {
    if (target === 'auxiliary') {
      await copyRows(
        client,
        'provider_records',
        PROVIDER_RECORD_COLUMNS,
        providerRecordRows(linkedAccountId, sourceTable, records),
      );
    } else {
      const names = fieldNamesOf(records);
      const columns = writtenColumns(
        target,
        values ? [...new Set([...names, ...Object.keys(values)])] : names,
      );
      const ids = records.map((record) => recordId(linkedAccountId, target, record.remoteId));
      const table = MODELS[target].table;
      if (values || Object.keys(resolved).length === 0) {
        await copyRowsBy(
          client,
          table,
          columns,
          records,
          recordReaders(linkedAccountId, ids, columns, values),
        );
      } else {
        await copyResolving(client, linkedAccountId, table, columns, records, ids, resolved);
      }
      changes.created.push(...ids);
      if (target === 'benefit_enrollments') await replaceCoverage(client, linkedAccountId, records);
    }
    await client.query('RELEASE SAVEPOINT initial_page');
    return changes;
  } catch (error) {
    if ((error as { code?: string }).code !== '23505') throw error;
    await client.query('ROLLBACK TO SAVEPOINT initial_page');
    return undefined;
  }
}

/**
 * COPY into a staging table of the transaction (no indexes, no WAL), then one INSERT ... SELECT that
 * adds the resolved columns: each row reaches the indexed table once, with its references. An
 * UPDATE afterwards would write every row and every index entry a second time.
 */
async function copyResolving(
  client: pg.PoolClient,
  linkedAccountId: string,
  table: string,
  columns: Record<string, PgType>,
  records: MappedRecord[],
  ids: string[],
  resolved: Record<string, string>,
): Promise<void> {
  const staging = quote(`staged_${table}`);
  const copied = Object.keys(columns).filter((name) => !(name in resolved));
  await client.query(
    `CREATE TEMP TABLE ${staging} (${copied.map((name) => `${quote(name)} ${columns[name]}`).join(', ')}) ON COMMIT DROP`,
  );
  const copiedColumns = Object.fromEntries(copied.map((name) => [name, columns[name] as PgType]));
  await copyRowsBy(
    client,
    `staged_${table}`,
    copiedColumns,
    records,
    recordReaders(linkedAccountId, ids, copiedColumns),
  );
  const names = [...copied, ...Object.keys(resolved)].map(quote).join(', ');
  const values = [
    ...copied.map((name) => `r.${quote(name)}`),
    ...Object.values(resolved).map((sql) => `(${sql})`),
  ];
  await client.query(`INSERT INTO ${quote(table)} (${names}) SELECT ${values.join(', ')} FROM ${staging} r`, [
    linkedAccountId,
  ]);
  await client.query(`DROP TABLE ${staging}`);
}

/**
 * How each column of a new row is read from its mapped record (`ids` = the records' ids, in order),
 * as toUnifiedRows would have built it, without building the row; a column of `values` (resolved
 * references) from there instead.
 */
function recordReaders(
  linkedAccountId: string,
  ids: readonly string[],
  columns: Record<string, PgType>,
  values: ResolvedValues = {},
): ((record: MappedRecord, index: number) => unknown)[] {
  return Object.keys(columns).map((name) => {
    const resolved = values[name];
    if (resolved) return (_record, index) => resolved[index];
    switch (name) {
      case 'id':
        return (_record, index) => ids[index];
      case 'linked_account_id':
        return () => linkedAccountId;
      case 'remote_id':
        return (record) => record.remoteId;
      case 'remote_data':
        return (record) => record.remoteData;
      case 'remote_created_at':
        return (record) => record.remoteCreatedAt;
      case 'remote_modified_at':
        return (record) => record.remoteModifiedAt;
      // A row seen again after a deletion is alive again (as in toUnifiedRows).
      case 'remote_was_deleted':
        return () => false;
      case 'remote_deleted_at':
        return () => null;
      default:
        return (record) => (record.fields as Record<string, unknown>)[name];
    }
  });
}

export async function recordChangeEvents(
  client: pg.PoolClient,
  linkedAccountId: string,
  model: ModelName,
  changes: Changes,
  syncRunId: string,
): Promise<void> {
  const ids = [...changes.created, ...changes.updated, ...changes.deleted];
  if (ids.length === 0) return;
  const kinds = [
    ...changes.created.map(() => 'created'),
    ...changes.updated.map(() => 'updated'),
    ...changes.deleted.map(() => 'deleted'),
  ];
  await client.query(
    `INSERT INTO change_events (linked_account_id, model, record_id, kind, sync_run_id)
     SELECT $1, $2, unnest($3::uuid[]), unnest($4::text[]), $5`,
    [linkedAccountId, model, ids, kinds, syncRunId],
  );
}
