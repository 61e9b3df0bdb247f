import type pg from 'pg';
import { COMMON_COLUMNS, COVERAGE_TABLE, MODELS, type ModelSpec } from '../unified/models.js';
import { type ListQuery, MODEL_FILTERS } from './list-query.js';
import { type Cursor, decodeCursor, type Page, toPage } from './pagination.js';

/**
 * Reads of unified records: one keyset query per page, plus one query per expanded reference for
 * the whole page (never one per row). Plain SQL on the shared pool: this is the API's hot path and
 * the statements are simple enough that a query builder would only add overhead.
 */

export interface ReadOptions {
  includeRemoteData: boolean;
  includeSensitiveFields: boolean;
  expand: string[];
}

export type ApiRecord = Record<string, unknown> & { id: string };

const quote = (identifier: string) => `"${identifier}"`;

/** The SELECT list for a model under the read options, aliased to API field names. */
function selectList(
  spec: ModelSpec,
  options: Pick<ReadOptions, 'includeRemoteData' | 'includeSensitiveFields'>,
) {
  const columns: string[] = ['t.id', 't.remote_id'];
  for (const [column, type] of Object.entries(spec.columns)) {
    if (!options.includeSensitiveFields && spec.sensitiveFields.includes(column)) continue;
    // pg has no parser for enum arrays (their type oid is per database): read them as text[].
    columns.push(
      type === 'coverage_level[]' ? `t.${quote(column)}::text[] AS ${quote(column)}` : `t.${quote(column)}`,
    );
  }
  if (spec.name === 'benefit_enrollments') {
    columns.push(
      `ARRAY(SELECT c.dependent_id FROM ${COVERAGE_TABLE} c WHERE c.benefit_enrollment_id = t.id ORDER BY c.dependent_id) AS covered_dependent_ids`,
    );
  }
  if (options.includeRemoteData) columns.push('t.remote_data');
  for (const column of Object.keys(COMMON_COLUMNS)) {
    if (['id', 'linked_account_id', 'remote_id', 'remote_data'].includes(column)) continue;
    columns.push(`t.${column}`);
  }
  return columns.join(', ');
}

/** Nests the flat contribution columns of enrollments; other models pass through. */
function present(spec: ModelSpec, row: ApiRecord): ApiRecord {
  if (spec.name !== 'benefit_enrollments') return row;
  const {
    employee_contribution_amount_minor,
    employee_contribution_percent_bps,
    employee_contribution_currency,
  } = row;
  const {
    company_contribution_amount_minor,
    company_contribution_percent_bps,
    company_contribution_currency,
  } = row;
  const presented: ApiRecord = { id: row.id };
  for (const [key, value] of Object.entries(row)) {
    if (key.startsWith('employee_contribution_') || key.startsWith('company_contribution_')) continue;
    presented[key] = value;
    if (key === 'end_date') {
      presented.employee_contribution = contribution(
        employee_contribution_amount_minor,
        employee_contribution_currency,
        employee_contribution_percent_bps,
      );
      presented.company_contribution = contribution(
        company_contribution_amount_minor,
        company_contribution_currency,
        company_contribution_percent_bps,
      );
    }
  }
  return presented;
}

function contribution(amount: unknown, currency: unknown, percent: unknown) {
  if (amount === null && percent === null) return null;
  return { amount_minor: amount, currency, percent_basis_points: percent };
}

export async function listRecords(
  pool: pg.Pool,
  spec: ModelSpec,
  linkedAccountId: string,
  query: ListQuery,
  options: ReadOptions,
): Promise<Page<ApiRecord>> {
  const cursor: Cursor | undefined = query.cursor ? decodeCursor(query.cursor) : undefined;
  const params: unknown[] = [linkedAccountId];
  const where = ['t.linked_account_id = $1'];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (!query.include_deleted_data) where.push('NOT t.remote_was_deleted');
  if (query.modified_after) add('t.modified_at > ?', query.modified_after);
  if (query.modified_before) add('t.modified_at < ?', query.modified_before);
  if (query.created_after) add('t.created_at > ?', query.created_after);
  if (query.created_before) add('t.created_at < ?', query.created_before);
  if (query.remote_id) add('t.remote_id = ?', query.remote_id);
  const filters = query as Record<string, unknown>;
  for (const column of MODEL_FILTERS[spec.name]) {
    if (filters[column] !== undefined) add(`t.${quote(column)} = ?`, filters[column]);
  }
  if (cursor) add(cursor.d === 'n' ? 't.id > ?' : 't.id < ?', cursor.id);
  params.push(query.page_size + 1);
  const sql = `SELECT ${selectList(spec, options)} FROM ${spec.table} t WHERE ${where.join(' AND ')}
    ORDER BY t.id ${cursor?.d === 'p' ? 'DESC' : 'ASC'} LIMIT $${params.length}`;
  const { rows } = await pool.query<ApiRecord>(sql, params);
  const page = toPage(rows, query.page_size, cursor);
  const results = page.results.map((row) => present(spec, row));
  await expandReferences(pool, spec, linkedAccountId, results, options);
  return { ...page, results };
}

export async function getRecord(
  pool: pg.Pool,
  spec: ModelSpec,
  linkedAccountId: string,
  id: string,
  options: ReadOptions,
): Promise<ApiRecord | undefined> {
  const { rows } = await pool.query<ApiRecord>(
    `SELECT ${selectList(spec, options)} FROM ${spec.table} t WHERE t.linked_account_id = $1 AND t.id = $2`,
    [linkedAccountId, id],
  );
  const row = rows[0];
  if (!row) return undefined;
  const record = present(spec, row);
  await expandReferences(pool, spec, linkedAccountId, [record], options);
  return record;
}

/** Fetches records of one model by id, for expansion. */
async function recordsById(
  pool: pg.Pool,
  spec: ModelSpec,
  linkedAccountId: string,
  ids: string[],
  options: ReadOptions,
): Promise<Map<string, ApiRecord>> {
  if (ids.length === 0) return new Map();
  const { rows } = await pool.query<ApiRecord>(
    `SELECT ${selectList(spec, options)} FROM ${spec.table} t WHERE t.linked_account_id = $1 AND t.id = ANY($2::uuid[])`,
    [linkedAccountId, ids],
  );
  return new Map(rows.map((row) => [row.id, present(spec, row)]));
}

async function expandReferences(
  pool: pg.Pool,
  spec: ModelSpec,
  linkedAccountId: string,
  records: ApiRecord[],
  options: ReadOptions,
): Promise<void> {
  for (const name of options.expand) {
    if (name === 'covered_dependents') {
      const ids = [...new Set(records.flatMap((record) => record.covered_dependent_ids as string[]))];
      const dependents = await recordsById(pool, MODELS.dependents, linkedAccountId, ids, options);
      for (const record of records) {
        record.covered_dependents = (record.covered_dependent_ids as string[])
          .map((id) => dependents.get(id))
          .filter((dependent) => dependent !== undefined);
      }
      continue;
    }
    const reference = spec.references.find((candidate) => candidate.expand === name);
    if (!reference) continue;
    const ids = [
      ...new Set(records.map((record) => record[reference.field]).filter((id) => typeof id === 'string')),
    ];
    const related = await recordsById(
      pool,
      MODELS[reference.model],
      linkedAccountId,
      ids as string[],
      options,
    );
    for (const record of records) {
      const id = record[reference.field];
      record[reference.expand] = typeof id === 'string' ? (related.get(id) ?? null) : null;
    }
  }
}

/** Sensitive fields a response with these options contains (for the audit record). */
export function sensitiveFieldsRead(spec: ModelSpec, options: ReadOptions): string[] {
  if (!options.includeSensitiveFields) return [];
  const fields = spec.sensitiveFields.map((field) => `${spec.name}.${field}`);
  for (const name of options.expand) {
    const model =
      name === 'covered_dependents'
        ? MODELS.dependents
        : MODELS[spec.references.find((reference) => reference.expand === name)?.model ?? spec.name];
    fields.push(...model.sensitiveFields.map((field) => `${model.name}.${field}`));
  }
  return [...new Set(fields)];
}
