import { odataJsonContentType, type SandboxResponse } from '../http/types.js';
import type { Predicate } from '../odata/filter.js';
import { splitTopLevel } from '../odata/query-options.js';
import { type ColumnDefinition, wireName } from './catalog.js';
import { aliasesOf, buildFilter, type CollectionRequest, compareValues } from './collection.js';
import { DataverseError, dataverseErrors } from './errors.js';
import { columnByWireName } from './projection.js';
import type { DataverseRow } from './table-store.js';

/**
 * `$apply` on an entity set, the subset Dataverse documents (docs/microsoft-wire.md, "Aggregation"):
 * `filter(...)` steps, then `groupby((a,b))` with an optional `aggregate(...)`, or `aggregate(...)` alone;
 * aggregate methods `sum`, `average`, `min`, `max`, `countdistinct` and `$count as alias`. At most
 * 50,000 rows are aggregated (0x8004e023 beyond); groupby on date-time columns and $orderby on an
 * aggregate alias are refused as Microsoft says. Groups whose value is null leave the property out, as
 * the "Distinct column values" example shows.
 */
export const aggregateRecordLimit = 50_000;

type Method = 'sum' | 'average' | 'min' | 'max' | 'countdistinct';
const methods = new Set<Method>(['sum', 'average', 'min', 'max', 'countdistinct']);

interface Aggregation {
  alias: string;
  /** Undefined for `$count`. */
  column?: ColumnDefinition;
  method?: Method;
}

interface ApplyPlan {
  filters: Array<Predicate<DataverseRow>>;
  groupBy: ColumnDefinition[];
  aggregations: Aggregation[];
}

const errors = {
  /** The message Microsoft documents ("Aggregate data using OData"); the status and code are [infer]. */
  orderByAggregate: () =>
    new DataverseError(400, '0x80060888', 'The query node SingleValueOpenPropertyAccess is not supported.'),
  /** Code and message as the FetchXml aggregation page lists them ("AggregateQueryRecordLimit"). */
  recordLimit: () =>
    new DataverseError(
      400,
      '0x8004e023',
      'AggregateQueryRecordLimit exceeded. Cannot perform this operation.',
    ),
};

function columnOf(request: CollectionRequest, name: string): ColumnDefinition {
  const column = columnByWireName(request.table.definition, name);
  if (column) return column;
  if (name.includes('/')) {
    // Navigation paths (primarycontactid/fullname) are documented but not simulated.
    throw dataverseErrors.badQuery(`The sandbox does not aggregate over the navigation path '${name}'.`);
  }
  throw dataverseErrors.unknownProperty(name, request.table.definition.logicalName);
}

/** `(inner)` of `name(inner)`, or undefined when `step` is not that call. */
function callArguments(step: string, name: string): string | undefined {
  const match = new RegExp(`^${name}\\((.*)\\)$`, 's').exec(step.trim());
  return match?.[1];
}

function parseAggregations(request: CollectionRequest, text: string): Aggregation[] {
  const items = splitTopLevel(text);
  if (items.length === 0) throw dataverseErrors.badQuery('aggregate names no aggregation.');
  return items.map((item) => {
    const count = /^\$count\s+as\s+([A-Za-z_][A-Za-z0-9_]*)$/.exec(item);
    if (count) return { alias: count[1] as string };
    const match = /^([A-Za-z0-9_]+)\s+with\s+([a-z]+)\s+as\s+([A-Za-z_][A-Za-z0-9_]*)$/.exec(item);
    if (!match || !methods.has(match[2] as Method)) {
      throw dataverseErrors.badQuery(`Invalid aggregate expression '${item}' in $apply.`);
    }
    return {
      column: columnOf(request, match[1] as string),
      method: match[2] as Method,
      alias: match[3] as string,
    };
  });
}

function parseApply(request: CollectionRequest, text: string): ApplyPlan {
  const plan: ApplyPlan = { filters: [], groupBy: [], aggregations: [] };
  const steps = splitTopLevel(text, '/');
  if (steps.length === 0) throw dataverseErrors.badQuery('The $apply query option is empty.');
  steps.forEach((step, position) => {
    const last = position === steps.length - 1;
    const filter = callArguments(step, 'filter');
    if (filter !== undefined && !last) {
      plan.filters.push(
        buildFilter(request.table, filter, {
          aliases: aliasesOf(request.query),
          now: request.now,
          environment: request.environment,
        }),
      );
      return;
    }
    const aggregate = callArguments(step, 'aggregate');
    if (aggregate !== undefined && last) {
      plan.aggregations = parseAggregations(request, aggregate);
      return;
    }
    const groupby = callArguments(step, 'groupby');
    if (groupby !== undefined && last) {
      const [properties = '', ...rest] = splitTopLevel(groupby);
      const names = callArguments(properties, '');
      if (names === undefined || rest.length > 1)
        throw dataverseErrors.badQuery(`Invalid groupby in $apply: '${step}'.`);
      plan.groupBy = splitTopLevel(names).map((name) => columnOf(request, name));
      if (plan.groupBy.length === 0) throw dataverseErrors.badQuery(`groupby names no property: '${step}'.`);
      for (const column of plan.groupBy) {
        if (column.kind === 'DateTime' || column.kind === 'DateOnly') {
          throw dataverseErrors.badQuery(
            `groupby with datetime values is not supported: '${wireName(column)}'.`,
          );
        }
      }
      const inner = rest[0] === undefined ? undefined : callArguments(rest[0], 'aggregate');
      if (rest[0] !== undefined && inner === undefined) {
        throw dataverseErrors.badQuery(`Only aggregate is supported inside groupby: '${rest[0]}'.`);
      }
      if (inner !== undefined) plan.aggregations = parseAggregations(request, inner);
      return;
    }
    if (!last && (callArguments(step, 'groupby') ?? callArguments(step, 'aggregate')) !== undefined) {
      throw dataverseErrors.badQuery(
        `'${step}' must be the last transformation of $apply, after filter steps.`,
      );
    }
    throw dataverseErrors.badQuery(`The $apply transformation '${step}' is not supported.`);
  });
  return plan;
}

function aggregateValue(rows: DataverseRow[], aggregation: Aggregation): unknown {
  const { column, method } = aggregation;
  if (!column || !method) return rows.length;
  const key = wireName(column);
  const values = rows.map((row) => row[key]).filter((value) => value !== null && value !== undefined);
  switch (method) {
    case 'countdistinct':
      return new Set(values.map((value) => (typeof value === 'string' ? value.toLowerCase() : value))).size;
    case 'min':
    case 'max': {
      if (values.length === 0) return null;
      const sorted = [...values].sort(compareValues);
      return method === 'min' ? sorted[0] : sorted[sorted.length - 1];
    }
    case 'sum':
    case 'average': {
      if (values.length === 0) return null;
      const numbers = values.map(Number);
      if (numbers.some((value) => !Number.isFinite(value))) {
        throw dataverseErrors.badQuery(`'${key}' is not numeric: ${method} needs a number column.`);
      }
      const sum = numbers.reduce((total, value) => total + value, 0);
      return method === 'sum' ? sum : sum / numbers.length;
    }
  }
}

export function handleApply(request: CollectionRequest, applyText: string): SandboxResponse {
  const { environment, table, query } = request;
  for (const name of query.options.keys()) {
    if (name.startsWith('$') && name !== '$apply' && name !== '$orderby') {
      throw dataverseErrors.badQuery(`The query parameter ${name} is not supported with $apply.`);
    }
  }
  const plan = parseApply(request, applyText);
  const rows = table.store.rows().filter((row) => plan.filters.every((predicate) => predicate(row)));
  if (rows.length > aggregateRecordLimit) throw errors.recordLimit();

  const groups = new Map<string, DataverseRow[]>();
  for (const row of rows) {
    const key = JSON.stringify(plan.groupBy.map((column) => row[wireName(column)] ?? null));
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  if (plan.groupBy.length === 0) groups.set('[]', rows);

  const results = [...groups.values()].map((members) => {
    const result: Record<string, unknown> = {};
    const first = members[0];
    for (const column of plan.groupBy) {
      const value = first?.[wireName(column)];
      if (value !== null && value !== undefined) result[wireName(column)] = value;
    }
    for (const aggregation of plan.aggregations)
      result[aggregation.alias] = aggregateValue(members, aggregation);
    return result;
  });

  const orderText = query.options.get('$orderby');
  const groupKeys = plan.groupBy.map(wireName);
  const order = (orderText ? splitTopLevel(orderText) : groupKeys).map((item) => {
    const [key = '', direction = 'asc', ...extra] = item.trim().split(/\s+/);
    if ((direction !== 'asc' && direction !== 'desc') || extra.length > 0) {
      throw dataverseErrors.badQuery(`Syntax error in '$orderby=${orderText}'.`);
    }
    if (plan.aggregations.some((aggregation) => aggregation.alias === key)) throw errors.orderByAggregate();
    if (!groupKeys.includes(key)) throw dataverseErrors.unknownProperty(key, table.definition.logicalName);
    return { key, descending: direction === 'desc' };
  });
  results.sort((a, b) => {
    for (const { key, descending } of order) {
      const result = compareValues(a[key], b[key]);
      if (result !== 0) return descending ? -result : result;
    }
    return 0;
  });
  return {
    status: 200,
    headers: { 'content-type': odataJsonContentType, 'odata-version': '4.0' },
    body: JSON.stringify({
      '@odata.context': `${environment.serviceRoot}$metadata#${table.definition.entitySetName}`,
      value: results,
    }),
  };
}
