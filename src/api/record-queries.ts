import type pg from 'pg';
import { SENSITIVE_REMOTE_FIELDS } from '../providers/registry.js';
import { COMMON_COLUMNS, COVERAGE_TABLE, MODELS, type ModelSpec } from '../unified/models.js';
import { type ListQuery, MODEL_FILTERS } from './list-query.js';
import { type Cursor, decodeCursor, toPage } from './pagination.js';

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

/** A row as PostgreSQL returns it: the id (for keyset paging) and the record as JSON text. */
interface JsonRow {
  id: string;
  json: string;
}

/** A page whose records are still JSON text, ready to be written to the response as they are. */
export interface JsonPage {
  next: string | null;
  previous: string | null;
  count: number;
  /** The whole `{next, previous, results}` body. */
  body: string;
}

const quote = (identifier: string) => `"${identifier}"`;

const CONTRIBUTION = /^(employee|company)_contribution_(amount_minor|percent_bps|currency)$/;

/**
 * The record as JSON, built by PostgreSQL (json_build_object, in API field order). Each response row
 * is then one text column: the gateway neither parses every column into JS values nor serializes them
 * again, which is most of the cost of a list response.
 */
export function jsonSelect(
  spec: ModelSpec,
  options: Pick<ReadOptions, 'includeRemoteData' | 'includeSensitiveFields'>,
): string {
  const pairs: string[] = ["'id', t.id", "'remote_id', t.remote_id"];
  for (const column of Object.keys(spec.columns)) {
    if (!options.includeSensitiveFields && spec.sensitiveFields.includes(column)) continue;
    const contribution = CONTRIBUTION.exec(column);
    if (contribution) {
      // Enrollment contributions nest: { amount_minor, currency, percent_basis_points } or null.
      if (contribution[2] !== 'amount_minor') continue;
      const prefix = `t.${contribution[1]}_contribution`;
      pairs.push(
        `'${contribution[1]}_contribution', CASE WHEN ${prefix}_amount_minor IS NULL AND ${prefix}_percent_bps IS NULL THEN NULL
          ELSE json_build_object('amount_minor', ${prefix}_amount_minor, 'currency', ${prefix}_currency,
                                 'percent_basis_points', ${prefix}_percent_bps) END`,
      );
      continue;
    }
    pairs.push(`'${column}', t.${quote(column)}`);
  }
  if (spec.name === 'benefit_enrollments') {
    pairs.push(
      `'covered_dependent_ids', ARRAY(SELECT c.dependent_id FROM ${COVERAGE_TABLE} c WHERE c.benefit_enrollment_id = t.id ORDER BY c.dependent_id)`,
    );
  }
  if (options.includeRemoteData)
    pairs.push(`'remote_data', ${remoteDataSql(spec, options.includeSensitiveFields)}`);
  for (const column of Object.keys(COMMON_COLUMNS)) {
    if (['id', 'linked_account_id', 'remote_id', 'remote_data'].includes(column)) continue;
    pairs.push(`'${column}', t.${column}`);
  }
  return `t.id, json_build_object(${pairs.join(', ')})::text AS json`;
}

/** A SQL text[] literal of catalog names (plain identifiers, checked). */
function textArrayLiteral(names: readonly string[]): string {
  for (const name of names) {
    if (!/^\w+$/.test(name)) throw new Error(`not a plain column name: ${name}`);
  }
  return `'{${names.join(',')}}'::text[]`;
}

/**
 * remote_data as the caller may see it. Without sensitive reads, the provider's sensitive columns are
 * cut, and so are their OData annotations (`cdm_birthdate@OData.Community.Display.V1.FormattedValue`
 * spells the same birth date), which is why keys are compared up to their `@`.
 */
function remoteDataSql(spec: ModelSpec, includeSensitiveFields: boolean): string {
  const sensitive = SENSITIVE_REMOTE_FIELDS[spec.name] ?? [];
  if (includeSensitiveFields || sensitive.length === 0) return 't.remote_data';
  return `CASE WHEN jsonb_typeof(t.remote_data) = 'object' THEN COALESCE(
      (SELECT jsonb_object_agg(e.key, e.value) FROM jsonb_each(t.remote_data) e
        WHERE split_part(e.key, '@', 1) <> ALL(${textArrayLiteral(sensitive)})), '{}'::jsonb)
    ELSE t.remote_data END`;
}

function parse(rows: JsonRow[]): ApiRecord[] {
  return rows.map((row) => JSON.parse(row.json) as ApiRecord);
}

/**
 * A page of records. Without expand, the page stays JSON text from PostgreSQL to the socket; with
 * expand, records are parsed so the referenced ones can be inlined.
 */
export async function listRecords(
  pool: pg.Pool,
  spec: ModelSpec,
  linkedAccountId: string,
  query: ListQuery,
  options: ReadOptions,
): Promise<JsonPage> {
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
  const sql = `SELECT ${jsonSelect(spec, options)} FROM ${spec.table} t WHERE ${where.join(' AND ')}
    ORDER BY t.id ${cursor?.d === 'p' ? 'DESC' : 'ASC'} LIMIT $${params.length}`;
  const { rows } = await pool.query<JsonRow>(sql, params);
  const page = toPage(rows, query.page_size, cursor);
  let results: string;
  if (options.expand.length === 0) {
    results = `[${page.results.map((row) => row.json).join(',')}]`;
  } else {
    const records = parse(page.results);
    await expandReferences(pool, spec, linkedAccountId, records, options);
    results = JSON.stringify(records);
  }
  return {
    next: page.next,
    previous: page.previous,
    count: page.results.length,
    body: `{"next":${JSON.stringify(page.next)},"previous":${JSON.stringify(page.previous)},"results":${results}}`,
  };
}

export async function getRecord(
  pool: pg.Pool,
  spec: ModelSpec,
  linkedAccountId: string,
  id: string,
  options: ReadOptions,
): Promise<ApiRecord | undefined> {
  const { rows } = await pool.query<JsonRow>(
    `SELECT ${jsonSelect(spec, options)} FROM ${spec.table} t WHERE t.linked_account_id = $1 AND t.id = $2`,
    [linkedAccountId, id],
  );
  const [record] = parse(rows);
  if (!record) return undefined;
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
  const { rows } = await pool.query<JsonRow>(
    `SELECT ${jsonSelect(spec, options)} FROM ${spec.table} t WHERE t.linked_account_id = $1 AND t.id = ANY($2::uuid[])`,
    [linkedAccountId, ids],
  );
  return new Map(parse(rows).map((record) => [record.id, record]));
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
  const models = [spec];
  for (const name of options.expand) {
    models.push(
      name === 'covered_dependents'
        ? MODELS.dependents
        : MODELS[spec.references.find((reference) => reference.expand === name)?.model ?? spec.name],
    );
  }
  const fields = models.flatMap((model) => [
    ...model.sensitiveFields.map((field) => `${model.name}.${field}`),
    ...(options.includeRemoteData
      ? (SENSITIVE_REMOTE_FIELDS[model.name] ?? []).map((field) => `${model.name}.remote_data.${field}`)
      : []),
  ]);
  return [...new Set(fields)];
}
