import type pg from 'pg';
import { quote } from '../db/sql-text.js';
import type { LinkRule, MappedRecord, ReferenceRule, SourceStream } from '../providers/types.js';
import { MODELS, type ModelName } from '../unified/models.js';
import { type FieldLookup, type KeyLookup, referenceKeyLookups } from './references.js';

/** Per resolved column, its value for each record of a page, in the page's order. */
export type ResolvedValues = Record<string, (string | null)[]>;

/**
 * An initial load's references resolved in memory (docs/sync.md, "References"). The SQL lookup on
 * insert (references.ts, resolveOnInsert) needs the page in a staging table and one subquery per
 * row and reference: in a 100k-worker DMF load that was a third of PostgreSQL's time. Here each
 * referenced key map (business key → id, e.g. personnel number → employee id) is read once per run
 * with the rule's own tie-break, and a page's references are looked up in it, so the page COPYs
 * straight into its table.
 *
 * Same result as the SQL, or no result (the caller then uses the SQL):
 * - a map is used only once no stream of this run that writes its model is running or still to
 *   run (`streamFinished`), so it holds what each row's SQL lookup would have read, at any page;
 * - the rules, their order and the key maps come from the same compiled rules as the SQL
 *   (referenceKeyLookups), and a model's page is resolved here only when the columns the engine
 *   would compute in SQL are exactly these rules' expressions;
 * - a row's key is read as `remote_data->>key` would read it: strings as they are, booleans as
 *   true/false, safe integers as their digits; any other value (a fraction, an object) sends the
 *   page to the SQL;
 * - case-insensitive keys are lower-cased by PostgreSQL (lower(), as the SQL compares them), one
 *   query per page, never by JavaScript, whose case mapping can differ from the database's.
 */
export class InitialLoadKeys {
  private readonly lookups: Map<ModelName, FieldLookup[]>;
  /** Per model, the streams of this run that write it and have not finished. */
  private readonly unsettled = new Map<ModelName, number>();
  /** Per source table, the models its stream writes (its target, and a link rule's model). */
  private readonly writes = new Map<string, ModelName[]>();
  /** Key maps by their SQL (one per referenced table and key), shared by the run's pages. */
  private readonly maps = new Map<string, Promise<KeyMap>>();
  /** Per model, the rows this run inserted with references resolved here (committed pages). */
  private readonly resolvedRows = new Map<ModelName, number>();
  /** Models with a page stored in this run otherwise (upserted, resolved in SQL, deletions only). */
  private readonly otherwiseStored = new Set<ModelName>();

  constructor(
    rules: readonly ReferenceRule[],
    streams: readonly SourceStream[],
    links: readonly LinkRule[] = [],
  ) {
    this.lookups = referenceKeyLookups(rules);
    for (const stream of streams) {
      const models = [
        ...(stream.target === 'auxiliary' ? [] : [stream.target]),
        ...links.filter((link) => link.source === stream.sourceTable).map((link) => link.model),
      ];
      this.writes.set(stream.sourceTable, [...(this.writes.get(stream.sourceTable) ?? []), ...models]);
      for (const model of models) this.unsettled.set(model, (this.unsettled.get(model) ?? 0) + 1);
    }
  }

  /** A stream is done (successfully or not): this run writes its models no more. */
  streamFinished(sourceTable: string): void {
    for (const model of this.writes.get(sourceTable) ?? []) {
      this.unsettled.set(model, (this.unsettled.get(model) ?? 1) - 1);
    }
    this.writes.delete(sourceTable);
  }

  /**
   * Reads the key maps a load of `model` will use, if it may use them now, without waiting for its
   * first page: a DMF load's streams wait seconds for the export while the database is idle.
   */
  prefetch(pool: pg.Pool, linkedAccountId: string, model: ModelName): void {
    const fields = this.lookups.get(model);
    if (!fields || !this.settled(fields)) return;
    for (const { rules } of fields) {
      // A failed read is dropped (keyMap); the first page reads again.
      for (const rule of rules) this.keyMap(pool, linkedAccountId, rule.keyMapSql).catch(() => undefined);
    }
  }

  /**
   * A page of `model` was committed: `resolvedHere` when its rows were inserted with the values of
   * resolve(); otherwise any row or deletion it held was stored another way.
   */
  pageStored(model: ModelName, resolvedHere: boolean, records: number, deletions: number): void {
    if (resolvedHere) this.resolvedRows.set(model, (this.resolvedRows.get(model) ?? 0) + records);
    else if (records + deletions > 0) this.otherwiseStored.add(model);
  }

  /**
   * Whether every row of `model` in the account was inserted in this run with references resolved
   * here, and nothing else of the model was stored in it: then, as long as no stream writes the
   * referenced models any more (true once the streams are done) and nothing else has written them
   * since, each row already holds what the rebuild would give it (references.ts skips it).
   */
  async allResolvedHere(client: pg.PoolClient, linkedAccountId: string, model: ModelName): Promise<boolean> {
    const resolved = this.resolvedRows.get(model) ?? 0;
    if (resolved === 0 || this.otherwiseStored.has(model)) return false;
    if ([...this.unsettled.values()].some((count) => count > 0)) return false;
    const { rows } = await client.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM ${quote(MODELS[model].table)} WHERE linked_account_id = $1`,
      [linkedAccountId],
    );
    return rows[0]?.count === resolved;
  }

  /**
   * The values of `model`'s reference columns for a page of an initial load, or undefined when they
   * must be computed in SQL (`sql`: the columns the engine would compute, resolveOnInsert).
   */
  async resolve(
    client: pg.PoolClient,
    linkedAccountId: string,
    model: ModelName,
    records: readonly MappedRecord[],
    sql: Readonly<Record<string, string>> | undefined,
  ): Promise<ResolvedValues | undefined> {
    const fields = this.lookups.get(model);
    if (!fields || !sql || !sameColumns(fields, sql) || !this.settled(fields)) return undefined;
    // Each row's key per field, under the first rule that applies to it (SQL: CASE WHEN ... ?).
    const keys = new Map<KeyLookup, { rows: number[]; keys: string[] }>();
    const values: ResolvedValues = {};
    for (const { field, rules } of fields) {
      values[field] = new Array<string | null>(records.length).fill(null);
      for (let row = 0; row < records.length; row++) {
        const data = (records[row] as MappedRecord).remoteData;
        const rule = rules.find((candidate) => inJson(data, candidate.appliesTo));
        if (!rule) continue;
        const key = keyText(data[rule.key]);
        if (key === undefined) return undefined;
        if (key === null) continue;
        const wanted = keys.get(rule) ?? { rows: [], keys: [] };
        keys.set(rule, wanted);
        wanted.rows.push(row);
        wanted.keys.push(key);
      }
    }
    for (const { field, rules } of fields) {
      const column = values[field] as (string | null)[];
      for (const rule of rules) {
        const wanted = keys.get(rule);
        if (!wanted) continue;
        const map = await this.keyMap(client, linkedAccountId, rule.keyMapSql);
        const compared = rule.caseInsensitive ? await lowerCased(client, wanted.keys) : wanted.keys;
        for (let index = 0; index < wanted.rows.length; index++) {
          column[wanted.rows[index] as number] = map.get(compared[index] as string) ?? null;
        }
      }
    }
    return values;
  }

  /** Whether no stream of this run writes a model these lookups read any more. */
  private settled(fields: readonly FieldLookup[]): boolean {
    return fields.every(({ rules }) => rules.every((rule) => (this.unsettled.get(rule.target) ?? 0) === 0));
  }

  private keyMap(client: pg.Pool | pg.PoolClient, linkedAccountId: string, sql: string): Promise<KeyMap> {
    let map = this.maps.get(sql);
    if (!map) {
      map = client
        .query<[string, string]>({ text: sql, values: [linkedAccountId], rowMode: 'array' })
        .then(({ rows }) => new KeyMap(rows));
      // A failed read is not kept: the next page reads again.
      map.catch(() => this.maps.delete(sql));
      this.maps.set(sql, map);
    }
    return map;
  }
}

/**
 * Business key → referenced id, the ids packed 16 bytes each outside the heap: a sync worker's heap
 * is capped (WORKER_HEAP_MB), and a Map of 100k personnel numbers to uuid strings held 11.8 MB of
 * it, half of that the uuids (docs/PERFORMANCE.md).
 */
export class KeyMap {
  private readonly index = new Map<string, number>();
  private readonly ids: Buffer;

  constructor(rows: readonly (readonly [string, string])[]) {
    this.ids = Buffer.alloc(rows.length * 16);
    rows.forEach(([key, id], position) => {
      this.index.set(key, position);
      this.ids.write(id.replaceAll('-', ''), position * 16, 16, 'hex');
    });
  }

  /** The id (a uuid as PostgreSQL prints it: lower-case, hyphenated), or undefined. */
  get(key: string): string | undefined {
    const position = this.index.get(key);
    if (position === undefined) return undefined;
    const hex = this.ids.toString('hex', position * 16, position * 16 + 16);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
}

/** Whether the engine's SQL columns for the model are exactly these lookups' expressions. */
function sameColumns(fields: readonly FieldLookup[], sql: Readonly<Record<string, string>>): boolean {
  return (
    Object.keys(sql).length === fields.length && fields.every(({ field, sql: text }) => sql[field] === text)
  );
}

/** Whether the stored remote_data (JSON.stringify of `data`) has the key: SQL `remote_data ? key`. */
function inJson(data: Record<string, unknown>, key: string): boolean {
  if (!Object.hasOwn(data, key)) return false;
  const value = data[key];
  return value !== undefined && typeof value !== 'function' && typeof value !== 'symbol';
}

/**
 * A value as `remote_data->>key` reads it once stored: null for no value or JSON null, undefined
 * when JavaScript's text could differ from PostgreSQL's (fractions and large numbers, which jsonb
 * prints in its own notation; objects and arrays).
 */
function keyText(value: unknown): string | null | undefined {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined || typeof value === 'function' || typeof value === 'symbol') {
    return null;
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}

/** Keys lower-cased by PostgreSQL, in order. */
async function lowerCased(client: pg.PoolClient, keys: string[]): Promise<string[]> {
  const { rows } = await client.query<{ keys: string[] }>(
    'SELECT array_agg(lower(k) ORDER BY n) AS keys FROM unnest($1::text[]) WITH ORDINALITY AS u(k, n)',
    [keys],
  );
  return rows[0]?.keys ?? [];
}
