import type pg from 'pg';
import { quote, stringLiteral } from '../db/sql-text.js';
import type { PickOrder, PickRule, PickStep, RollupRule, RowField } from '../providers/types.js';
import { MODELS, type ModelName, type ModelSpec } from '../unified/models.js';
import { type Derivation, touched } from './derivation.js';
import { fieldNameLiteral, hashJoinedIds, sourceTableLiteral } from './references.js';

/**
 * Picks and roll-ups (PickRule, RollupRule, src/providers/types.ts) turned into SQL: one UPDATE per
 * model holding all of the model's rules, so a row gets one new version however many fields change.
 * - A pick's step is DISTINCT ON its match key over the account's rows (live model rows, or
 *   auxiliary rows of one source), ranked by the step's order, then modified last (model rows),
 *   then by id: one candidate per key, MATERIALIZED and hash-joined to the previous step's key.
 *   A step matched on remote_id without an order needs no ranking (remote_id is unique per account
 *   and model, or per account and source): it is a plain join on the unique index.
 * - A roll-up is one GROUP BY over the referencing rows.
 * Only rows whose values differ are written (modified_at moves on real change only); the changed
 * ids are returned for change events. A run derives every row of the model when one of its rules'
 * rerunWhen sources was read in full or changed (or a roll-up's rows changed), else only the
 * model's rows created or updated in the run, and nothing when there are none.
 * Every name comes from a rule and is checked first: models and columns against the unified model
 * specs (then quoted), data keys against the field-name pattern and source tables against theirs
 * (then written as literals), value types against the filled column's. The account and the
 * changed ids are parameters.
 */

/** A set of rows a step walks, over an alias. */
interface Rows {
  table: string;
  /** The rows that count: the account's, live (models) or of the source (auxiliary rows). */
  filter(alias: string): string;
  /** remote_data (model rows) or data (auxiliary rows). */
  raw: 'remote_data' | 'data';
  /** Text columns a field may name. */
  textColumns: ReadonlySet<string>;
  /** The last ranks: a model row modified last, then the lowest id. */
  tieBreak(alias: string): string;
  spec?: ModelSpec;
}

function modelSpec(model: ModelName, context: string): ModelSpec {
  const spec = Object.hasOwn(MODELS, model) ? MODELS[model] : undefined;
  if (!spec) throw new Error(`${context}: unknown model ${model}`);
  return spec;
}

function rowsOf(rows: PickStep['rows'], context: string): Rows {
  if ('model' in rows) {
    const spec = modelSpec(rows.model, context);
    const textColumns = Object.entries(spec.columns).filter(([, type]) => type === 'text');
    return {
      table: quote(spec.table),
      filter: (alias) => `${alias}.linked_account_id = $1 AND NOT ${alias}.remote_was_deleted`,
      raw: 'remote_data',
      textColumns: new Set(['remote_id', ...textColumns.map(([column]) => column)]),
      tieBreak: (alias) => `${alias}.modified_at DESC, ${alias}.id`,
      spec,
    };
  }
  const source = sourceTableLiteral(rows.sourceTable, context);
  return {
    table: 'provider_records',
    filter: (alias) => `${alias}.linked_account_id = $1 AND ${alias}.source_table = ${source}`,
    raw: 'data',
    textColumns: new Set(['remote_id', 'ref_id']),
    tieBreak: (alias) => `${alias}.remote_id`,
  };
}

/** A field of a row of `rows` under `alias`, as text. */
function fieldSql(field: RowField, rows: Rows, alias: string, context: string): string {
  if ('column' in field) {
    if (!rows.textColumns.has(field.column)) {
      throw new Error(`${context}: ${field.column} is not a text column of ${rows.table}`);
    }
    return `${alias}.${quote(field.column)}`;
  }
  return `${alias}.${rows.raw}->>${fieldNameLiteral(field.key, context, rows.raw)}`;
}

function timestampSql(key: string, rows: Rows, alias: string, context: string): string {
  return `(${fieldSql({ key }, rows, alias, context)})::timestamptz`;
}

function orderSql(order: PickOrder, rows: Rows, alias: string, context: string): string {
  if ('latest' in order) return `${timestampSql(order.key, rows, alias, context)} DESC NULLS LAST`;
  const text = fieldSql({ key: order.key }, rows, alias, context);
  if ('first' in order) return `(${text} = ${stringLiteral(order.first)}) DESC NULLS LAST`;
  return `${text} NULLS LAST`;
}

function windowSql(step: Omit<PickStep, 'rows' | 'yields'>, rows: Rows, alias: string, context: string) {
  if (!step.window) return '';
  const from = timestampSql(step.window.from, rows, alias, context);
  const to = timestampSql(step.window.to, rows, alias, context);
  return ` AND coalesce(${from}, '-infinity') <= now() AND coalesce(${to}, 'infinity') > now()`;
}

/** The SQL a rule adds to its model's statement. */
interface Part {
  /** A pick's start, over the model's row `r`: selected into `scoped` as s_<index>. */
  start?: string;
  ctes: string[];
  joins: string[];
  /** Per filled column (quoted), its value over the joins. */
  values: Map<string, string>;
}

/**
 * One step joined to `key`: a plain join when remote_id picks the row, else a ranked CTE.
 * `outputs` are the step's values, by name, over the row alias `x`; returns their expressions
 * after the join. `restrict`: the keys that matter, when only some rows derive (first step).
 */
function joinStep(
  name: string,
  step: Omit<PickStep, 'yields'>,
  key: string,
  outputs: Record<string, (rows: Rows, alias: string) => string>,
  part: Part,
  context: string,
  restrict: string | undefined,
): Record<string, string> {
  const rows = rowsOf(step.rows, context);
  const unique = 'column' in step.match && step.match.column === 'remote_id' && !step.order?.length;
  const alias = unique ? name : 'x';
  const match = fieldSql(step.match, rows, alias, context);
  const window = windowSql(step, rows, alias, context);
  const result: Record<string, string> = {};
  if (unique) {
    part.joins.push(`LEFT JOIN ${rows.table} ${name} ON ${rows.filter(name)} AND ${match} = ${key}${window}`);
    for (const [output, expression] of Object.entries(outputs)) result[output] = expression(rows, name);
    return result;
  }
  const orders = (step.order ?? []).map((order) => orderSql(order, rows, 'x', context));
  const selected = Object.entries(outputs).map(
    ([output, expression]) => `${expression(rows, 'x')} AS ${output}`,
  );
  part.ctes.push(`${name} AS MATERIALIZED (
      SELECT DISTINCT ON (${match}) ${match} AS k, ${selected.join(', ')}
      FROM ${rows.table} x
      WHERE ${rows.filter('x')} AND ${match} IS NOT NULL${window}${restrict ? ` AND ${match} IN (${restrict})` : ''}
      ORDER BY ${[match, ...orders, rows.tieBreak('x')].join(', ')})`);
  part.joins.push(`LEFT JOIN ${name} ON ${name}.k = ${key}`);
  for (const output of Object.keys(outputs)) result[output] = `${name}.${output}`;
  return result;
}

function pickPart(rule: PickRule, index: number, spec: ModelSpec, scopedOnly: boolean): Part {
  const context = `pick rule ${rule.model}.${rule.columns.map((column) => column.column).join(',')}`;
  const self = rowsOf({ model: rule.model }, context);
  const part: Part = {
    start: fieldSql(rule.start, self, 'r', context),
    ctes: [],
    joins: [],
    values: new Map(),
  };
  let key = `s.s_${index}`;
  const restrictFirst = scopedOnly ? `SELECT s_${index} FROM scoped` : undefined;
  (rule.through ?? []).forEach((step, position) => {
    const { v } = joinStep(
      `p${index}_${position}`,
      step,
      key,
      { v: (rows, alias) => fieldSql(step.yields, rows, alias, context) },
      part,
      context,
      position === 0 ? restrictFirst : undefined,
    );
    key = v as string;
  });
  const target = modelSpec(rule.target.rows.model, context);
  if (rule.columns.length === 0) throw new Error(`${context}: no column to fill`);
  const outputs: Record<string, (rows: Rows, alias: string) => string> = {};
  rule.columns.forEach(({ column, from }, position) => {
    const type = spec.columns[column];
    if (!type) throw new Error(`${context}: ${rule.model} has no column ${column}`);
    if (from === 'id') {
      const reference = spec.references.find((candidate) => candidate.field === column);
      if (reference?.model !== target.name) {
        throw new Error(`${context}: ${rule.model}.${column} is not a reference to ${target.name}`);
      }
    } else if (target.columns[from] !== type) {
      throw new Error(
        `${context}: ${target.name}.${from} is not a ${type} column like ${rule.model}.${column}`,
      );
    }
    outputs[`c${position}`] = (_rows, alias) => `${alias}.${quote(from)}`;
  });
  const values = joinStep(
    `p${index}_t`,
    rule.target,
    key,
    outputs,
    part,
    context,
    rule.through?.length ? undefined : restrictFirst,
  );
  rule.columns.forEach(({ column }, position) => {
    part.values.set(quote(column), values[`c${position}`] as string);
  });
  return part;
}

function rollupPart(rule: RollupRule, index: number, spec: ModelSpec, scopedOnly: boolean): Part {
  const context = `roll-up rule ${rule.model}.${rule.columns.map((column) => column.column).join(',')}`;
  const over = modelSpec(rule.over.model, context);
  const reference = over.references.find((candidate) => candidate.field === rule.over.field);
  if (reference?.model !== rule.model) {
    throw new Error(`${context}: ${over.name}.${rule.over.field} is not a reference to ${rule.model}`);
  }
  if (rule.columns.length === 0) throw new Error(`${context}: no column to fill`);
  const field = `o.${quote(rule.over.field)}`;
  const name = `u${index}`;
  const part: Part = { ctes: [], joins: [], values: new Map() };
  const aggregates = rule.columns.map(({ column, of, aggregate }, position) => {
    const type = spec.columns[column];
    const ofType = over.columns[of];
    if (!type || !ofType)
      throw new Error(`${context}: no column ${rule.model}.${column} or ${over.name}.${of}`);
    const value = `o.${quote(of)}`;
    if (aggregate === 'distinct') {
      if (type !== `${ofType}[]`)
        throw new Error(`${context}: ${column} is not an array of ${over.name}.${of}`);
      part.values.set(quote(column), `coalesce(${name}.c${position}, '{}')`);
      return `array_agg(DISTINCT ${value} ORDER BY ${value}) FILTER (WHERE ${value} IS NOT NULL) AS c${position}`;
    }
    if (type !== ofType) throw new Error(`${context}: ${over.name}.${of} is not a ${type} like ${column}`);
    part.values.set(quote(column), `${name}.c${position}`);
    if (aggregate === 'min') return `min(${value}) AS c${position}`;
    if (aggregate !== 'latest') throw new Error(`${context}: unknown aggregate ${aggregate}`);
    if (!rule.latestBy || !over.columns[rule.latestBy]) {
      throw new Error(`${context}: 'latest' needs latestBy, a column of ${over.name}`);
    }
    return `(array_agg(${value} ORDER BY o.${quote(rule.latestBy)} DESC NULLS LAST, o.id))[1] AS c${position}`;
  });
  part.ctes.push(`${name} AS MATERIALIZED (
      SELECT ${field} AS k, ${aggregates.join(', ')}
      FROM ${quote(over.table)} o
      WHERE o.linked_account_id = $1 AND NOT o.remote_was_deleted AND ${field} IS NOT NULL${
        scopedOnly ? ` AND ${field} IN (SELECT id FROM scoped)` : ''
      }
      GROUP BY ${field})`);
  part.joins.push(`LEFT JOIN ${name} ON ${name}.k = s.id`);
  return part;
}

/** The model's UPDATE over every row, or (scopedOnly) over the ids in $2. */
function statement(
  model: ModelName,
  picks: readonly PickRule[],
  rollups: readonly RollupRule[],
  scopedOnly: boolean,
) {
  const spec = modelSpec(model, `derived fields of ${model}`);
  const parts = [
    ...picks.map((rule, index) => pickPart(rule, index, spec, scopedOnly)),
    ...rollups.map((rule, index) => rollupPart(rule, index, spec, scopedOnly)),
  ];
  const values = new Map<string, string>();
  for (const part of parts) {
    for (const [column, value] of part.values) {
      if (values.has(column)) throw new Error(`derived fields: ${model}.${column} is filled by two rules`);
      values.set(column, value);
    }
  }
  const starts = picks.map((_, index) => `${parts[index]?.start} AS s_${index}`);
  const table = quote(spec.table);
  const columns = [...values.keys()];
  return `WITH scoped AS MATERIALIZED (
      SELECT ${['r.id', ...starts].join(', ')} FROM ${table} r
      WHERE r.linked_account_id = $1${scopedOnly ? ' AND r.id = ANY($2::uuid[])' : ''}
    ), ${parts
      .flatMap((part) => part.ctes)
      .map((cte) => `${cte},`)
      .join('\n    ')}
    derived AS (
      SELECT s.id, ${columns.map((column, index) => `${values.get(column)} AS v${index}`).join(', ')}
      FROM scoped s
      ${parts.flatMap((part) => part.joins).join('\n      ')})
    UPDATE ${table} r
    SET ${columns.map((column, index) => `${column} = d.v${index}`).join(', ')}, modified_at = now()
    FROM derived d
    WHERE r.id = d.id
      AND (${columns.map((column) => `r.${column}`).join(', ')}) IS DISTINCT FROM (${columns
        .map((_, index) => `d.v${index}`)
        .join(', ')})
    RETURNING r.id`;
}

async function ids(client: pg.PoolClient, sql: string, params: unknown[]): Promise<string[]> {
  const { rows } = await client.query<{ id: string }>(sql, params);
  return rows.map((row) => row.id);
}

/**
 * The rules as derivations the engine runs after the other rules: one per model, in the order the
 * models first appear. Throws on a rule naming anything the model specs do not have, a value of
 * another type than its column, or a column two rules fill.
 */
export function derivedFieldDerivations(
  picks: readonly PickRule[],
  rollups: readonly RollupRule[],
): Derivation[] {
  const models = [...new Set([...picks, ...rollups].map((rule) => rule.model))];
  return models.map((model): Derivation => {
    const modelPicks = picks.filter((rule) => rule.model === model);
    const modelRollups = rollups.filter((rule) => rule.model === model);
    const everyRow = statement(model, modelPicks, modelRollups, false);
    const changedRows = statement(model, modelPicks, modelRollups, true);
    const columns = [...modelPicks, ...modelRollups].flatMap((rule) =>
      rule.columns.map((column) => column.column),
    );
    return {
      model,
      description: `${model}: ${columns.join(', ')} (picked along keys, rolled up)`,
      run: async (client, accountId, scope) => {
        const everyone =
          [...modelPicks, ...modelRollups].some((rule) => touched(scope, rule.rerunWhen)) ||
          modelRollups.some((rule) => (scope.changedRecords.get(rule.over.model) ?? []).length > 0);
        // Every row: hash joins over whole tables (the planner's guesses on jsonb keys lead it to
        // nested loops otherwise). A few changed rows: its own plan.
        if (everyone) return hashJoinedIds(client, everyRow, [accountId]);
        const changed = scope.changedRecords.get(model) ?? [];
        return changed.length === 0 ? [] : ids(client, changedRows, [accountId, changed]);
      },
    };
  });
}
