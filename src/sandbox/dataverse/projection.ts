import { annotationRequested, splitTopLevel } from '../odata/query-options.js';
import { type ColumnDefinition, type TableDefinition, wireName } from './catalog.js';
import type { DataverseEnvironment, DataverseTable } from './environment.js';
import { dataverseErrors } from './errors.js';
import type { DataverseRow } from './table-store.js';

/**
 * Turns stored rows into wire rows: column projection ($select), $expand of single-valued navigation
 * properties, and the annotations of docs/microsoft-wire.md, "Web API surface", only when Prefer odata.include-annotations asks.
 */
const formattedValue = 'OData.Community.Display.V1.FormattedValue';
const lookupLogicalName = 'Microsoft.Dynamics.CRM.lookuplogicalname';
const associatedNavigationProperty = 'Microsoft.Dynamics.CRM.associatednavigationproperty';

export interface ProjectionPlan {
  table: DataverseTable;
  columns: ColumnDefinition[];
  keys: string[];
  formatted: boolean;
  lookupNames: boolean;
  navigationNames: boolean;
  /** `reference`: `nav/$ref`, the related row's `@odata.id` instead of the row. */
  expands: Array<{
    column: ColumnDefinition;
    target: DataverseTable;
    plan: ProjectionPlan;
    reference: boolean;
  }>;
  /** The part of @odata.context in parentheses, e.g. `cdm_firstname,cdm_ManagerWorkerId(cdm_fullname)`. */
  contextSelect: string;
}

export function columnByWireName(definition: TableDefinition, name: string): ColumnDefinition | undefined {
  return definition.columns.find((column) => wireName(column) === name);
}

export function planProjection(
  environment: DataverseEnvironment,
  table: DataverseTable,
  select: string | undefined,
  expand: string | undefined,
  includeAnnotations: string | undefined,
): ProjectionPlan {
  const { definition } = table;
  const selected = select
    ? select
        .split(',')
        .map((name) => name.trim())
        .filter((name) => name.length > 0)
    : undefined;
  const columns = selected
    ? selected.map((name) => {
        const column = columnByWireName(definition, name);
        if (!column) throw dataverseErrors.unknownProperty(name, definition.logicalName);
        return column;
      })
    : definition.columns;
  // Dataverse always returns the primary key, selected or not.
  const primary = definition.columns[0] as ColumnDefinition;
  const withKey = columns.includes(primary) ? columns : [...columns, primary];

  const expands: ProjectionPlan['expands'] = [];
  const contextParts = selected ? [...selected] : [];
  for (const item of expand ? splitTopLevel(expand) : []) {
    const match = /^([A-Za-z0-9_]+)(\/\$ref)?(?:\((.*)\))?$/.exec(item);
    const navigation = match?.[1] ?? item;
    const column = definition.columns.find((candidate) => candidate.navigationProperty === navigation);
    const target = column?.target ? environment.tables.get(column.target) : undefined;
    if (!column || !target?.present)
      throw dataverseErrors.unknownProperty(navigation, definition.logicalName);
    const reference = match?.[2] !== undefined;
    const nested = expandOptions(match?.[3] ?? '', navigation);
    const plan = planProjection(environment, target, nested.$select, nested.$expand, includeAnnotations);
    expands.push({ column, target, plan, reference });
    contextParts.push(reference ? navigation : `${navigation}(${plan.contextSelect})`);
  }
  return {
    table,
    columns: withKey,
    keys: withKey.map(wireName),
    formatted: annotationRequested(includeAnnotations, formattedValue),
    lookupNames: annotationRequested(includeAnnotations, lookupLogicalName),
    navigationNames: annotationRequested(includeAnnotations, associatedNavigationProperty),
    expands,
    contextSelect: contextParts.join(','),
  };
}

/**
 * The options inside `nav(…)`: `$select` and a nested `$expand`, separated by `;` ("Retrieve related
 * table records with a query", "Filter using lookup column property values"). A single-valued navigation
 * property takes nothing else (`$filter`, `$orderby` and `$top` are for collections).
 */
function expandOptions(text: string, navigation: string): { $select?: string; $expand?: string } {
  const options: { $select?: string; $expand?: string } = {};
  for (const part of splitTopLevel(text, ';')) {
    const equals = part.indexOf('=');
    const name = part.slice(0, equals).trim();
    const value = part.slice(equals + 1).trim();
    if (equals > 0 && (name === '$select' || name === '$expand')) options[name] = value;
    else
      throw dataverseErrors.badQuery(
        `The option '${part}' is not supported inside $expand of '${navigation}'.`,
      );
  }
  return options;
}

export function etag(row: DataverseRow): string {
  return `W/"${row.versionnumber}"`;
}

export function projectRow(
  environment: DataverseEnvironment,
  plan: ProjectionPlan,
  row: DataverseRow,
): Record<string, unknown> {
  const out: Record<string, unknown> = { '@odata.etag': etag(row) };
  const annotated = plan.formatted || plan.lookupNames || plan.navigationNames;
  if (!annotated) {
    // The hot path: no per-column branching beyond the copy.
    for (const key of plan.keys) out[key] = row[key] ?? null;
  } else {
    for (const column of plan.columns) writeAnnotatedColumn(environment, plan, column, row, out);
  }
  for (const { column, target, plan: nested, reference } of plan.expands) {
    const id = row[wireName(column)];
    const related = typeof id === 'string' ? target.store.get(id) : undefined;
    if (reference) {
      // As Learn's `$expand=primarycontactid/$ref` answer: the lookup value, then the related row's id.
      out[wireName(column)] = id ?? null;
      out[column.navigationProperty as string] = related
        ? { '@odata.id': `${environment.serviceRoot}${target.definition.entitySetName}(${id})` }
        : null;
      continue;
    }
    out[column.navigationProperty as string] = related ? projectRow(environment, nested, related) : null;
  }
  return out;
}

function writeAnnotatedColumn(
  environment: DataverseEnvironment,
  plan: ProjectionPlan,
  column: ColumnDefinition,
  row: DataverseRow,
  out: Record<string, unknown>,
): void {
  const key = wireName(column);
  const value = row[key] ?? null;
  if (value !== null && plan.formatted) {
    const label = formatValue(environment, column, value);
    if (label !== undefined) out[`${key}@${formattedValue}`] = label;
  }
  if (value !== null && (column.kind === 'Lookup' || column.kind === 'Owner')) {
    if (plan.navigationNames) out[`${key}@${associatedNavigationProperty}`] = column.navigationProperty;
    if (plan.lookupNames) out[`${key}@${lookupLogicalName}`] = column.target;
  }
  out[key] = value;
}

function formatValue(
  environment: DataverseEnvironment,
  column: ColumnDefinition,
  value: unknown,
): string | undefined {
  switch (column.kind) {
    case 'Picklist':
    case 'State':
    case 'Status':
      return column.optionSet?.[value as number];
    case 'Owner':
      return environment.ownerName;
    case 'Lookup': {
      const target = column.target ? environment.tables.get(column.target) : undefined;
      const related = target?.store.get(String(value));
      const name = related?.[target?.definition.primaryNameAttribute ?? ''];
      return typeof name === 'string' ? name : undefined;
    }
    case 'DateTime':
      return formatDateTime(String(value));
    case 'DateOnly': {
      const [year, month, day] = String(value).split('-');
      return `${Number(month)}/${Number(day)}/${year}`;
    }
    case 'Decimal':
      return (value as number).toFixed(2);
    case 'Integer':
      return (value as number).toLocaleString('en-US');
    default:
      return undefined;
  }
}

/** Dataverse formats DateTimeOffset values in the user's locale; the sandbox user is en-US, UTC. */
function formatDateTime(iso: string): string {
  const date = new Date(iso);
  const hours = date.getUTCHours();
  const minutes = String(date.getUTCMinutes()).padStart(2, '0');
  const suffix = hours < 12 ? 'AM' : 'PM';
  const hour12 = hours % 12 === 0 ? 12 : hours % 12;
  return `${date.getUTCMonth() + 1}/${date.getUTCDate()}/${date.getUTCFullYear()} ${hour12}:${minutes} ${suffix}`;
}
