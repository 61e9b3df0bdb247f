import type pg from 'pg';
import { quote, stringLiteral } from '../db/sql-text.js';
import type { InvalidRow, ReferenceRule } from '../providers/types.js';
import { MODELS, type ModelName } from '../unified/models.js';
import type { Derivation } from './derivation.js';

/**
 * Reference rules (ReferenceRule, src/providers/types.ts) turned into SQL. One statement of a join
 * gives three things, so the business key cannot drift between them:
 * - run: the whole-account rebuild, one UPDATE per model and source (all its rules at once, so a
 *   row gets one new version), each referenced set MATERIALIZED as DISTINCT ON (key) with a live
 *   row winning over a deleted one, then the latest modified; hash joins; only rows whose value
 *   differs written, so modified_at moves on real change only; the changed ids returned.
 * - resolveOnInsert: the same lookup per incoming row, for an initial load's INSERT ... SELECT
 *   (insertInitialRecords in store.ts), on the same tie-break; and, as data (referenceKeyLookups),
 *   the same lookups from a key map read once with that tie-break (key-maps.ts), so an initial
 *   load's pages can COPY straight into their table.
 * - unresolved: the rows left without their reference, counted, the first listed with their key.
 * Every name comes from the rule and is checked here first: model, field and column names against
 * the unified model specs (then quoted as identifiers), remote_data keys against a field-name
 * pattern that admits no quote, backslash or space (then written as string literals). Nothing else
 * reaches the SQL text; the account is a parameter ($1).
 */

/** How many unresolved rows are listed with their keys (all are counted). */
const LISTED = 20;

/** A provider's field name, e.g. PersonnelNumber, _cdm_jobid_value, mshr_planid. */
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_.@-]{0,127}$/;

/**
 * A provider's field name (a remote_data key, or a key of an auxiliary row's data) as a SQL string
 * literal, refused unless it is a plain field name; `context` names the rule for the error.
 */
export function fieldNameLiteral(
  name: string,
  context: string,
  kind: 'remote_data' | 'data' = 'remote_data',
): string {
  if (!FIELD_NAME.test(name)) throw new Error(`${context}: '${name}' is not a ${kind} field name`);
  // The pattern admits no quote; stringLiteral keeps the literal safe should it ever be widened.
  return stringLiteral(name);
}

/**
 * A source table as providers name them, e.g. "dataverse:cdm_jobs", "dmf:HR export/<entity>" (a
 * configured group name: spaces, slashes): anything but a quote, a backslash or a control character.
 */
const SOURCE_TABLE = /^[^\p{Cc}'\\]{1,200}$/u;

/** A source table name as a SQL string literal, refused unless it fits SOURCE_TABLE. */
export function sourceTableLiteral(name: string, context: string): string {
  if (!SOURCE_TABLE.test(name)) throw new Error(`${context}: '${name}' is not a source table name`);
  return stringLiteral(name);
}

function keyLiteral(key: string, rule: ReferenceRule): string {
  return fieldNameLiteral(key, `reference rule ${rule.model}.${rule.field}`);
}

/** A rule checked against the model specs, with the SQL fragments it contributes. */
interface CompiledRule {
  rule: ReferenceRule;
  /** The referencing column, quoted. */
  field: string;
  targetTable: string;
  /** The target row's business key, over alias `t`. */
  targetKey: string;
  /** The referencing row's business key, over alias `r`. */
  rowKey: string;
  /** The referencing row's raw key (for the report), over alias `r`. */
  rawKey: string;
}

function compile(rule: ReferenceRule): CompiledRule {
  const spec = MODELS[rule.model];
  const target = MODELS[rule.target.model];
  if (!spec || !target)
    throw new Error(`reference rule: unknown model ${rule.model} or ${rule.target.model}`);
  const reference = spec.references.find((candidate) => candidate.field === rule.field);
  if (!reference || reference.model !== rule.target.model) {
    throw new Error(`reference rule: ${rule.model}.${rule.field} is not a reference to ${rule.target.model}`);
  }
  let targetKey: string;
  if ('column' in rule.target.by) {
    const column = rule.target.by.column;
    if (target.columns[column] !== 'text') {
      throw new Error(
        `reference rule ${rule.model}.${rule.field}: ${rule.target.model} has no text column ${column}`,
      );
    }
    targetKey = `t.${quote(column)}`;
  } else {
    const keys = rule.target.by.remoteData.map((key) => `t.remote_data->>${keyLiteral(key, rule)}`);
    if (keys.length === 0)
      throw new Error(`reference rule ${rule.model}.${rule.field}: no remote_data key to match`);
    targetKey = keys.length === 1 ? (keys[0] as string) : `coalesce(${keys.join(', ')})`;
  }
  const rawKey = `r.remote_data->>${keyLiteral(rule.key, rule)}`;
  const lower = (sql: string) => (rule.target.caseInsensitive ? `lower(${sql})` : sql);
  keyLiteral(rule.appliesTo.remoteDataKey, rule);
  return {
    rule,
    field: quote(rule.field),
    targetTable: quote(target.table),
    targetKey: lower(targetKey),
    rowKey: lower(rawKey),
    rawKey,
  };
}

/** The lookup of one incoming row `r`'s reference (resolveOnInsert); `$1` is the account. */
function lookupOnInsert(compiled: CompiledRule): string {
  return `SELECT t.id FROM ${compiled.targetTable} t
    WHERE t.linked_account_id = $1 AND ${compiled.targetKey} = ${compiled.rowKey}
    ORDER BY t.remote_was_deleted, t.modified_at DESC, t.id LIMIT 1`;
}

/**
 * Each model's lookups on insert, per field, the rules filling it in the order they come (the
 * first whose appliesTo key the row has wins), carried by the model's first group: the engine
 * merges resolveOnInsert per model, so two groups filling the same field must not each bring an
 * expression of their own. Shared by the SQL expressions (lookupsOnInsert) and the in-memory
 * lookups of key-maps.ts, so both pick the same rule for a row.
 */
function fieldsOnInsert(
  groups: CompiledRule[][],
): Map<ModelName, { carrier: CompiledRule[]; fields: Map<string, CompiledRule[]> }> {
  const byModel = new Map<ModelName, { carrier: CompiledRule[]; fields: Map<string, CompiledRule[]> }>();
  for (const members of groups) {
    for (const compiled of members) {
      const { rule } = compiled;
      if (rule.lookupOnInsert === false) continue;
      const entry = byModel.get(rule.model) ?? {
        carrier: members,
        fields: new Map<string, CompiledRule[]>(),
      };
      byModel.set(rule.model, entry);
      entry.fields.set(rule.field, [...(entry.fields.get(rule.field) ?? []), compiled]);
    }
  }
  return byModel;
}

/** A field's lookup on insert as one SQL expression (`CASE WHEN r.remote_data ? 'BenefitId' THEN (...) END`). */
function caseOnInsert(rules: CompiledRule[]): string {
  const whens = rules.map(
    (compiled) =>
      `WHEN r.remote_data ? ${keyLiteral(compiled.rule.appliesTo.remoteDataKey, compiled.rule)} THEN (${lookupOnInsert(compiled)})`,
  );
  return `CASE ${whens.join(' ')} END`;
}

/** Each model's lookups on insert as SQL, one expression per field, keyed by the carrying group. */
function lookupsOnInsert(groups: CompiledRule[][]): Map<CompiledRule[], Record<string, string>> {
  return new Map(
    [...fieldsOnInsert(groups).values()].map(({ carrier, fields }) => [
      carrier,
      Object.fromEntries([...fields].map(([field, rules]) => [field, caseOnInsert(rules)])),
    ]),
  );
}

/**
 * The referenced rows by business key, one per key, as lookupOnInsert picks them: a live row over a
 * deleted one, then the latest modified (then the lowest id). Columns `key` and `id`; `$1` is the
 * account.
 */
function keyMapSql(compiled: CompiledRule): string {
  return `SELECT DISTINCT ON (${compiled.targetKey}) ${compiled.targetKey} AS key, t.id
    FROM ${compiled.targetTable} t
    WHERE t.linked_account_id = $1 AND ${compiled.targetKey} IS NOT NULL
    ORDER BY ${compiled.targetKey}, t.remote_was_deleted, t.modified_at DESC, t.id`;
}

function referencedSet(compiled: CompiledRule, name: string): string {
  return `${name} AS MATERIALIZED (${keyMapSql(compiled)})`;
}

/** The rebuild of every rule of one model and source, as one UPDATE returning the changed ids. */
function rebuildStatement(model: ModelName, appliesTo: string, rules: CompiledRule[]): string {
  const table = quote(MODELS[model].table);
  const sets = rules.map((compiled, index) => referencedSet(compiled, `ref${index}`));
  const joins = rules.map(
    (compiled, index) => `LEFT JOIN ref${index} ON ref${index}.key = ${compiled.rowKey}`,
  );
  const values = rules.map((_, index) => `ref${index}.id AS v${index}`);
  const fields = rules.map((compiled) => `r.${compiled.field}`);
  const derived = rules.map((_, index) => `t.v${index}`);
  return `WITH ${sets.join(',\n')},
    target AS (
      SELECT r.id, ${values.join(', ')}
      FROM ${table} r ${joins.join(' ')}
      WHERE r.linked_account_id = $1 AND r.remote_data ? ${appliesTo})
    UPDATE ${table} r
    SET ${rules.map((compiled, index) => `${compiled.field} = t.v${index}`).join(', ')}, modified_at = now()
    FROM target t
    WHERE r.id = t.id AND (${fields.join(', ')}) IS DISTINCT FROM (${derived.join(', ')})
    RETURNING r.id`;
}

/** Live rows of one model and source that a reported rule left without its reference. */
function unresolvedStatement(model: ModelName, appliesTo: string, rules: CompiledRule[]): string {
  const table = quote(MODELS[model].table);
  const columns = rules.map(
    (compiled, index) =>
      `${compiled.rawKey} AS key${index}, (r.${compiled.field} IS NULL) AS missing${index}`,
  );
  const missing = rules.map((compiled) => `r.${compiled.field} IS NULL`).join(' OR ');
  return `SELECT r.remote_id, ${columns.join(', ')}, count(*) OVER ()::int AS total
    FROM ${table} r
    WHERE r.linked_account_id = $1 AND r.remote_data ? ${appliesTo} AND NOT r.remote_was_deleted AND (${missing})
    ORDER BY r.remote_id LIMIT ${LISTED}`;
}

type UnresolvedRow = { remote_id: string; total: number } & Record<string, string | boolean | null>;

function describeUnresolved(row: UnresolvedRow, rules: CompiledRule[]): string {
  const missing = rules.flatMap((compiled, index) =>
    row[`missing${index}`] === true ? [{ compiled, index }] : [],
  );
  const reasons = missing.map(({ compiled, index }) =>
    (compiled.rule.unresolved as string).replaceAll('{key}', String(row[`key${index}`] ?? '(none)')),
  );
  const fields = missing.map(({ compiled }) => compiled.rule.field).join(' and ');
  return `${reasons.join('; ')}; stored without ${fields}`;
}

/**
 * Runs a whole-account statement with nested loops off: its joins go through jsonb expressions
 * (remote_data->>'...'), whose selectivity Postgres can only guess; it then picks nested loops
 * (rows × rows: hours at 300k rows). SET LOCAL lasts until the transaction ends, so it is switched
 * back on right after.
 */
export async function hashJoinedIds(
  client: pg.PoolClient,
  sql: string,
  params: unknown[],
): Promise<string[]> {
  await client.query('SET LOCAL enable_nestloop = off');
  try {
    const { rows } = await client.query<{ id: string }>(sql, params);
    return rows.map((row) => row.id);
  } finally {
    await client.query('SET LOCAL enable_nestloop = on');
  }
}

/** The rules compiled, grouped in the order they come by the model and the remote_data key they apply to. */
function compileGroups(rules: readonly ReferenceRule[]): CompiledRule[][] {
  const groups = new Map<string, CompiledRule[]>();
  for (const rule of rules) {
    const compiled = compile(rule);
    const group = `${rule.model}\u0000${rule.appliesTo.remoteDataKey}`;
    const members = groups.get(group) ?? [];
    if (members.some((member) => member.rule.field === rule.field)) {
      throw new Error(`reference rule: ${rule.model}.${rule.field} is stated twice for the same rows`);
    }
    groups.set(group, [...members, compiled]);
  }
  return [...groups.values()];
}

/** What an initial load resolved in memory (key-maps.ts, InitialLoadKeys.allResolvedHere). */
export interface ResolvedInLoad {
  allResolvedHere(client: pg.PoolClient, linkedAccountId: string, model: ModelName): Promise<boolean>;
}

/**
 * Whether a group's rebuild may be skipped when every row of its model was resolved in memory in
 * this run (`loads`): the group is its model's only one (with two, a row having both groups' keys
 * gets the first rule's reference on insert but the last group's from the rebuilds), every rule is
 * looked up on insert, and no group before it (run before it, the engine running the reference
 * derivations first and in order) writes a model it references.
 */
function skippable(groups: CompiledRule[][], index: number): boolean {
  const members = groups[index] as CompiledRule[];
  const model = (members[0] as CompiledRule).rule.model;
  const targets = new Set(members.map(({ rule }) => rule.target.model));
  return (
    groups.every((other, at) => at === index || (other[0] as CompiledRule).rule.model !== model) &&
    members.every(({ rule }) => rule.lookupOnInsert !== false) &&
    groups.slice(0, index).every((other) => !targets.has((other[0] as CompiledRule).rule.model))
  );
}

/**
 * The rules as derivations the engine runs like the providers' SQL ones: one per model and source
 * (rules grouped in the order they come, by the model and the remote_data key they apply to), each
 * with its rebuild, its lookups on insert and, when a rule of the group describes its unresolved
 * rows, their report. Throws on a rule naming anything the model specs do not have. With `loads`,
 * a rebuild that would find nothing to write (every row of the model resolved in memory as this
 * run inserted it, see `skippable`) is skipped; its unresolved rows are reported all the same.
 */
export function referenceDerivations(rules: readonly ReferenceRule[], loads?: ResolvedInLoad): Derivation[] {
  const groups = compileGroups(rules);
  const onInsert = lookupsOnInsert(groups);
  return groups.map((members, index): Derivation => {
    const first = (members[0] as CompiledRule).rule;
    const model = first.model;
    const appliesTo = keyLiteral(first.appliesTo.remoteDataKey, first);
    const rebuild = rebuildStatement(model, appliesTo, members);
    const mayBeSkipped = loads !== undefined && skippable(groups, index);
    const reported = members.filter((compiled) => compiled.rule.unresolved);
    const report = reported.length > 0 ? unresolvedStatement(model, appliesTo, reported) : undefined;
    return {
      model,
      description: `${model} with ${first.appliesTo.remoteDataKey}: ${members
        .map(({ rule }) => `${rule.field} by ${rule.key}`)
        .join(', ')}`,
      ...(onInsert.get(members) && { resolveOnInsert: onInsert.get(members) }),
      run: async (client, accountId) =>
        mayBeSkipped && (await loads?.allResolvedHere(client, accountId, model))
          ? []
          : hashJoinedIds(client, rebuild, [accountId]),
      ...(report && {
        unresolved: async (client: pg.PoolClient, accountId: string) => {
          const { rows } = await client.query<UnresolvedRow>(report, [accountId]);
          return {
            count: rows[0]?.total ?? 0,
            first: rows.map(
              (row): InvalidRow => ({ key: row.remote_id, reason: describeUnresolved(row, reported) }),
            ),
          };
        },
      }),
    };
  });
}

/** One rule's lookup on insert as data, for resolving it in memory (key-maps.ts). */
export interface KeyLookup {
  /** The remote_data key a row must have for the rule to apply (SQL `r.remote_data ? key`). */
  appliesTo: string;
  /** The remote_data key holding the row's business key. */
  key: string;
  caseInsensitive: boolean;
  /** The referenced model, whose rows the key map holds. */
  target: ModelName;
  /** The referenced rows' keys and ids, exactly as the SQL lookup picks them (columns key, id; $1 = account). */
  keyMapSql: string;
}

/** A field's lookups on insert: its SQL expression (as in resolveOnInsert) and its rules, first match wins. */
export interface FieldLookup {
  field: string;
  sql: string;
  rules: KeyLookup[];
}

/**
 * Per model, the lookups on insert of the rules as data: the same rules, order and SQL expressions
 * as the derivations' resolveOnInsert (one source for both, so an in-memory lookup resolves a row
 * exactly as the SQL expression would).
 */
export function referenceKeyLookups(rules: readonly ReferenceRule[]): Map<ModelName, FieldLookup[]> {
  const lookups = new Map<ModelName, FieldLookup[]>();
  for (const [model, { fields }] of fieldsOnInsert(compileGroups(rules))) {
    lookups.set(
      model,
      [...fields].map(([field, compiled]) => ({
        field,
        sql: caseOnInsert(compiled),
        rules: compiled.map((one) => ({
          appliesTo: one.rule.appliesTo.remoteDataKey,
          key: one.rule.key,
          caseInsensitive: one.rule.target.caseInsensitive === true,
          target: one.rule.target.model,
          keyMapSql: keyMapSql(one),
        })),
      })),
    );
  }
  return lookups;
}
