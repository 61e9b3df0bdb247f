import type pg from 'pg';
import type { PgType } from '../unified/models.js';
import { arrayLiteral, quote } from './sql-text.js';

/**
 * The one write path for unified rows (the seeder and the sync engine): many rows per statement
 * through `unnest` of one array parameter per column, upserted on a unique key.
 *
 * An update happens only when some written column really differs (`IS DISTINCT FROM`), so
 * re-upserting an unchanged row neither rewrites it nor moves its `modified_at`: API consumers
 * polling with `modified_after` only see rows whose content changed.
 */
export interface UpsertOptions {
  /** The unique key to upsert on, e.g. ['linked_account_id', 'remote_id']. */
  conflictColumns: string[];
  /** Set to now() when an existing row changes, e.g. 'modified_at'. Never written otherwise. */
  touchColumn?: string;
  /** Column whose values are returned in inserted/updated (default 'id'). */
  idColumn?: string;
  /** Rows per statement (default 2000). */
  batchSize?: number;
  /**
   * Columns kept up to date whose change alone is not a change of the record (remote_data,
   * remote_modified_at): written when they differ, but they neither move touchColumn nor count
   * the row as updated. Needs touchColumn.
   */
  untrackedColumns?: string[];
}

export interface UpsertResult {
  inserted: string[];
  updated: string[];
}

// Kept on insert but never overwritten on conflict: our id is stable and created_at is history.
const NEVER_UPDATED = new Set(['id', 'created_at']);

export async function upsertRows(
  db: pg.Pool | pg.PoolClient,
  table: string,
  columns: Record<string, PgType>,
  rows: Record<string, unknown>[],
  options: UpsertOptions,
): Promise<UpsertResult> {
  const result: UpsertResult = { inserted: [], updated: [] };
  if (rows.length === 0) return result;
  const statement = buildStatement(table, columns, options);
  const names = Object.keys(columns);
  const batchSize = options.batchSize ?? 2000;
  for (const batch of batchesOf(dedupeByKey(rows, options.conflictColumns), batchSize)) {
    const params = names.map((name) => batch.map((row) => toParam(row[name], columns[name]!)));
    const { rows: written } = await db.query<{ id: unknown; inserted: boolean; changed: boolean }>(
      statement,
      params,
    );
    for (const row of written) {
      if (row.inserted) result.inserted.push(String(row.id));
      else if (row.changed) result.updated.push(String(row.id));
    }
  }
  return result;
}

/** The statement for one table and column set (exported for tests and EXPLAIN). */
export function buildStatement(
  table: string,
  columns: Record<string, PgType>,
  options: UpsertOptions,
): string {
  const names = Object.keys(columns);
  if (names.length === 0) throw new Error(`upsertRows(${table}): no columns`);
  for (const key of options.conflictColumns) {
    if (!names.includes(key)) throw new Error(`upsertRows(${table}): conflict column ${key} is not written`);
  }
  const touch = options.touchColumn;
  const arrays = names.map((name, index) => `$${index + 1}::${arrayParamType(columns[name]!)}`);
  const aliases = names.map((_, index) => `c${index}`);
  // unnest flattens multi-dimensional arrays, so array-valued columns travel as the text of a
  // PostgreSQL array literal and are cast back here; jsonb travels as text for the same reason.
  const selected = names.map((name, index) => castFromParam(`u.c${index}`, columns[name]!));
  const compared = names.filter(
    (name) => !NEVER_UPDATED.has(name) && name !== touch && !options.conflictColumns.includes(name),
  );
  const assignments = compared.map((name) => `${quote(name)} = EXCLUDED.${quote(name)}`);
  const untracked = new Set(options.untrackedColumns ?? []);
  const tracked = compared.filter((name) => !untracked.has(name));
  if (touch && untracked.size > 0) {
    // now() is the transaction's timestamp: the RETURNING clause below recognises a touched row by it.
    assignments.push(
      `${quote(touch)} = CASE WHEN (${tracked.map((name) => `${quote(table)}.${quote(name)}`).join(', ')}) IS DISTINCT FROM (${tracked
        .map((name) => `EXCLUDED.${quote(name)}`)
        .join(', ')}) THEN now() ELSE ${quote(table)}.${quote(touch)} END`,
    );
  } else if (touch) assignments.push(`${quote(touch)} = now()`);
  const conflict = `ON CONFLICT (${options.conflictColumns.map(quote).join(', ')})`;
  const onConflict =
    compared.length === 0
      ? `${conflict} DO NOTHING`
      : `${conflict} DO UPDATE SET ${assignments.join(', ')} WHERE (${compared
          .map((name) => `${quote(table)}.${quote(name)}`)
          .join(', ')}) IS DISTINCT FROM (${compared.map((name) => `EXCLUDED.${quote(name)}`).join(', ')})`;
  return [
    `INSERT INTO ${quote(table)} (${names.map(quote).join(', ')})`,
    `SELECT ${selected.join(', ')} FROM unnest(${arrays.join(', ')}) AS u(${aliases.join(', ')})`,
    onConflict,
    `RETURNING ${quote(options.idColumn ?? 'id')} AS id, (xmax = 0) AS inserted${
      touch && untracked.size > 0
        ? // the column keeps milliseconds (timestamptz(3)): round now() the same way before comparing
          `, ${quote(touch)} = now()::timestamptz(3) AS changed`
        : ', true AS changed'
    }`,
  ].join('\n');
}

/**
 * Plain INSERT of rows known to be new (a freshly created linked account): skips the conflict
 * check, about a third faster than upsertRows for the seeder's million rows.
 */
export async function insertRows(
  db: pg.Pool | pg.PoolClient,
  table: string,
  columns: Record<string, PgType>,
  rows: Record<string, unknown>[],
  options: { batchSize?: number } = {},
): Promise<number> {
  const names = Object.keys(columns);
  const arrays = names.map((name, index) => `$${index + 1}::${arrayParamType(columns[name]!)}`);
  const selected = names.map((name, index) => castFromParam(`u.c${index}`, columns[name]!));
  const statement = `INSERT INTO ${quote(table)} (${names.map(quote).join(', ')}) SELECT ${selected.join(', ')} FROM unnest(${arrays.join(', ')}) AS u(${names.map((_, index) => `c${index}`).join(', ')})`;
  let written = 0;
  for (const batch of batchesOf(rows, options.batchSize ?? 2000)) {
    const params = names.map((name) => batch.map((row) => toParam(row[name], columns[name]!)));
    written += (await db.query(statement, params)).rowCount ?? 0;
  }
  return written;
}

function arrayParamType(type: PgType): string {
  if (type.endsWith('[]') || type === 'jsonb') return 'text[]';
  return `${type}[]`;
}

function castFromParam(expression: string, type: PgType): string {
  if (type.endsWith('[]') || type === 'jsonb') return `${expression}::${type}`;
  return expression;
}

function toParam(value: unknown, type: PgType): unknown {
  if (value === undefined || value === null) return null;
  if (type === 'jsonb') return JSON.stringify(value);
  if (type.endsWith('[]')) {
    if (!Array.isArray(value)) throw new TypeError(`expected an array for a ${type} column`);
    return arrayLiteral(value);
  }
  // A JS Date for a date column: keep its UTC calendar day (pg would send local time with an offset).
  if (type === 'date' && value instanceof Date) return value.toISOString().slice(0, 10);
  return value;
}

/** ON CONFLICT cannot touch one row twice in a statement: the last occurrence of a key wins. */
function dedupeByKey(rows: Record<string, unknown>[], key: string[]): Record<string, unknown>[] {
  const byKey = new Map<string, Record<string, unknown>>();
  for (const row of rows) {
    const id = key.length === 1 ? String(row[key[0]!]) : key.map((name) => String(row[name])).join('\u0000');
    byKey.delete(id);
    byKey.set(id, row);
  }
  return byKey.size === rows.length ? rows : [...byKey.values()];
}

function* batchesOf<T>(items: T[], size: number): Generator<T[]> {
  for (let start = 0; start < items.length; start += size) yield items.slice(start, start + size);
}
