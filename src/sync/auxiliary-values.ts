import { quote, stringLiteral } from '../db/sql-text.js';
import type { AuxiliaryValue, AuxiliaryValueRule, ValueTable } from '../providers/types.js';
import { MODELS, type ModelSpec } from '../unified/models.js';
import { enumValues } from '../unified/schemas.js';
import { type Derivation, touched } from './derivation.js';
import { fieldNameLiteral, sourceTableLiteral } from './references.js';

/**
 * Values copied from auxiliary rows (AuxiliaryValueRule, src/providers/types.ts) turned into SQL:
 * one UPDATE per rule, each row LEFT JOINed to the auxiliary row (provider_records, whose key is
 * account + source table + remote id, so there is at most one) its remote_data names, every column
 * of the rule set at once (one new row version per changed row); only rows whose values differ are
 * written, so modified_at moves on real change only; the changed ids returned for change events.
 * Skipped unless one of the rule's rerunWhen sources was read in full or changed in the run.
 * Every name comes from the rule and is checked here first: model and column names against the
 * unified model specs (then quoted as identifiers), remote_data and data keys against the field-name
 * pattern of references.ts, the source table against its own pattern, value-table entries against
 * the normalised form and the column's enum (then written as string literals). Nothing else
 * reaches the SQL text; the account is a parameter ($1).
 */

/** Each normalisation as SQL over a text expression, and in TypeScript to check a table's keys. */
const NORMALISE: Record<ValueTable['normalise'], { sql(text: string): string; of(text: string): string }> = {
  'alphanumeric-lowercase': {
    sql: (text) => `regexp_replace(lower(${text}), '[^a-z0-9]', '', 'g')`,
    of: (text) => text.toLowerCase().replace(/[^a-z0-9]/g, ''),
  },
  none: { sql: (text) => text, of: (text) => text },
};

/** The column's value over the auxiliary row `a` (NULL when there is none). */
function valueExpression(value: AuxiliaryValue, spec: ModelSpec, context: string): string {
  const type = spec.columns[value.column];
  const text = `a.data->>${fieldNameLiteral(value.from, `${context}.${value.column}`, 'data')}`;
  if (!value.through) {
    if (type !== 'text') throw new Error(`${context}: ${spec.name} has no text column ${value.column}`);
    return text;
  }
  const allowed = type && enumValues(type);
  if (!type || !allowed) throw new Error(`${context}: ${spec.name} has no enum column ${value.column}`);
  const { normalise, values, default: fallback } = value.through;
  const enumLiteral = (enumValue: string) => {
    if (!allowed.includes(enumValue)) {
      throw new Error(`${context}.${value.column}: '${enumValue}' is not a value of ${type}`);
    }
    return stringLiteral(enumValue);
  };
  const normaliser = Object.hasOwn(NORMALISE, normalise) ? NORMALISE[normalise] : undefined;
  if (!normaliser) throw new Error(`${context}.${value.column}: unknown normalisation '${normalise}'`);
  const whens = Object.entries(values).map(([input, enumValue]) => {
    if (normaliser.of(input) !== input) {
      throw new Error(`${context}.${value.column}: '${input}' is not ${normalise} (it could never match)`);
    }
    return `WHEN ${stringLiteral(input)} THEN ${enumLiteral(enumValue)}`;
  });
  const mapped =
    whens.length === 0
      ? enumLiteral(fallback)
      : `CASE ${normaliser.sql(text)} ${whens.join(' ')} ELSE ${enumLiteral(fallback)} END`;
  // The default is for an auxiliary row whose text is not in the table; no auxiliary row is NULL.
  return `CASE WHEN a.remote_id IS NULL THEN NULL ELSE (${mapped})::${quote(type)} END`;
}

/** The rule's UPDATE, returning the changed ids. */
function statement(rule: AuxiliaryValueRule): string {
  const context = `auxiliary value rule ${rule.model}`;
  const spec = MODELS[rule.model];
  if (!spec) throw new Error(`auxiliary value rule: unknown model ${rule.model}`);
  if (rule.columns.length === 0) throw new Error(`${context}: no column to fill`);
  const columns = rule.columns.map((value) => value.column);
  const twice = columns.find((column, index) => columns.indexOf(column) !== index);
  if (twice) throw new Error(`${context}: ${twice} is filled twice`);
  const { sourceTable, remoteDataKey } = rule.auxiliary;
  const source = sourceTableLiteral(sourceTable, context);
  if (!rule.rerunWhen.includes(sourceTable)) {
    throw new Error(`${context}: rerunWhen must include the auxiliary source ${sourceTable}`);
  }
  const values = rule.columns.map((value, index) => `${valueExpression(value, spec, context)} AS v${index}`);
  const appliesTo = rule.appliesTo
    ? `AND r.remote_data ? ${fieldNameLiteral(rule.appliesTo.remoteDataKey, context)}`
    : '';
  const table = quote(spec.table);
  const quoted = columns.map(quote);
  const stored = quoted.map((column) => `r.${column}`);
  const derived = quoted.map((_, index) => `t.v${index}`);
  return `WITH target AS (
      SELECT r.id, ${values.join(', ')}
      FROM ${table} r
      LEFT JOIN provider_records a
        ON a.linked_account_id = r.linked_account_id AND a.source_table = ${source}
       AND a.remote_id = r.remote_data->>${fieldNameLiteral(remoteDataKey, context)}
      WHERE r.linked_account_id = $1 ${appliesTo})
    UPDATE ${table} r
    SET ${quoted.map((column, index) => `${column} = t.v${index}`).join(', ')}, modified_at = now()
    FROM target t
    WHERE r.id = t.id
      AND (${stored.join(', ')}) IS DISTINCT FROM (${derived.join(', ')})
    RETURNING r.id`;
}

/**
 * The rules as derivations the engine runs like the providers' SQL ones, one per rule, in order.
 * Throws on a rule naming anything the model specs do not have, or filling a column of the same
 * rows twice (two rules would overwrite each other).
 */
export function auxiliaryValueDerivations(rules: readonly AuxiliaryValueRule[]): Derivation[] {
  // Per model and column, the rows already filled: a remote_data key, or null for every row.
  const filled = new Map<string, (string | null)[]>();
  return rules.map((rule): Derivation => {
    const sql = statement(rule);
    const rows = rule.appliesTo?.remoteDataKey ?? null;
    for (const { column } of rule.columns) {
      const name = `${rule.model}.${column}`;
      const before = filled.get(name) ?? [];
      if (before.some((other) => other === null || rows === null || other === rows)) {
        throw new Error(`auxiliary value rule: ${name} is stated twice for the same rows`);
      }
      filled.set(name, [...before, rows]);
    }
    return {
      model: rule.model,
      description: `${rule.model}: ${rule.columns
        .map((value) => `${value.column} from ${rule.auxiliary.sourceTable} ${value.from}`)
        .join(', ')}`,
      run: async (client, accountId, scope) => {
        if (!touched(scope, rule.rerunWhen)) return [];
        const { rows } = await client.query<{ id: string }>(sql, [accountId]);
        return rows.map((row) => row.id);
      },
    };
  });
}
