import { odataJsonContentType, type SandboxResponse } from '../http/types.js';
import {
  type FilterColumn,
  FilterPropertyError,
  FilterSyntaxError,
  FilterTypeError,
  type FilterValueKind,
  type Predicate,
  parseFilter,
} from '../odata/filter.js';
import { annotationRequested, type Preferences, type RawQuery } from '../odata/query-options.js';
import { handleApply } from './aggregate.js';
import { type ColumnDefinition, type ColumnKind, wireName } from './catalog.js';
import type { DataverseEnvironment, DataverseTable } from './environment.js';
import { dataverseErrors } from './errors.js';
import { handleFetchXml } from './fetchxml.js';
import {
  decodeSkipToken,
  encodeQueryValue,
  encodeSkipToken,
  encodeSkipTokenForLink,
  formatDeltaToken,
  type PagingCursor,
  parseDeltaToken,
} from './paging.js';
import { columnByWireName, etag, planProjection, projectRow } from './projection.js';
import { expandQueryFunctions, substituteAliases } from './query-functions.js';
import type { DataverseRow } from './table-store.js';

/** Entity-set GETs: query options, paging (docs/microsoft-wire.md, "Web API surface") and change tracking (docs/microsoft-wire.md, "Change tracking"). */

/** Default and maximum page size (docs/microsoft-wire.md, "Web API surface"). */
export const maxPageSize = 5000;
const supportedOptions = new Set([
  '$select',
  '$filter',
  '$orderby',
  '$top',
  '$count',
  '$expand',
  '$skiptoken',
  '$deltatoken',
]);

const filterKinds: Record<ColumnKind, FilterValueKind> = {
  Uniqueidentifier: 'guid',
  Lookup: 'guid',
  Owner: 'guid',
  String: 'string',
  Memo: 'string',
  Integer: 'number',
  Decimal: 'number',
  BigInt: 'number',
  Picklist: 'number',
  State: 'number',
  Status: 'number',
  DateTime: 'datetime',
  DateOnly: 'date',
};

export interface CollectionRequest {
  environment: DataverseEnvironment;
  table: DataverseTable;
  query: RawQuery;
  preferences: Preferences;
  now: Date;
}

/**
 * Where a filter is evaluated: the query's parameter aliases (`@p1`), the clock of date functions, and
 * the environment whose tables a lookup path (`cdm_WorkerId/cdm_lastname`) reads.
 */
export interface FilterContext {
  aliases?: ReadonlyMap<string, string>;
  now?: Date;
  environment?: DataverseEnvironment;
}

/** The `@name` options of a query string, the values of its parameter aliases. */
export function aliasesOf(query: RawQuery): Map<string, string> {
  return new Map([...query.options].filter(([name]) => name.startsWith('@')));
}

export function buildFilter(
  table: DataverseTable,
  text: string,
  context: FilterContext = {},
): Predicate<DataverseRow> {
  const paths = new Map<string, LookupPath>();
  const resolve = (name: string): FilterColumn | undefined => {
    if (name.includes('/')) {
      const path = context.environment ? lookupPath(context.environment, table, name) : undefined;
      if (!path) return undefined;
      paths.set(name, path);
      return { key: name, kind: filterKinds[path.column.kind] };
    }
    const column = columnByWireName(table.definition, name);
    return column ? { key: wireName(column), kind: filterKinds[column.kind] } : undefined;
  };
  const expanded = expandQueryFunctions(
    substituteAliases(text, context.aliases ?? new Map()),
    (name) => columnByWireName(table.definition, name),
    context.now ?? new Date(),
  );
  try {
    const predicate = parseFilter<DataverseRow>(expanded, resolve, {
      columnComparison: true,
      likeWildcards: true,
    });
    if (paths.size === 0) return predicate;
    // The row seen through its lookups: each path's value read from the related row.
    return (row) => {
      const extended: DataverseRow = { ...row };
      for (const [name, path] of paths) {
        const relatedId = row[path.lookupKey];
        const related = typeof relatedId === 'string' ? path.target.store.get(relatedId) : undefined;
        extended[name] = related?.[wireName(path.column)] ?? null;
      }
      return predicate(extended);
    };
  } catch (error) {
    if (error instanceof FilterPropertyError) {
      throw dataverseErrors.unknownProperty(error.property, table.definition.logicalName);
    }
    if (error instanceof FilterSyntaxError || error instanceof FilterTypeError)
      throw dataverseErrors.badQuery(error.message);
    throw error;
  }
}

/** `navigation/property`: one lookup of `table`, then a column of the table it points at. */
interface LookupPath {
  lookupKey: string;
  target: DataverseTable;
  column: ColumnDefinition;
}

function lookupPath(
  environment: DataverseEnvironment,
  table: DataverseTable,
  name: string,
): LookupPath | undefined {
  const [navigation, property, ...deeper] = name.split('/');
  // One hop, as Learn's first example; longer chains (primarycontactid/createdby/fullname) are not simulated.
  if (deeper.length > 0 || !property) return undefined;
  const lookup = table.definition.columns.find((column) => column.navigationProperty === navigation);
  const target = [...environment.tables.values()].find(
    (candidate) => candidate.present && candidate.definition.logicalName === lookup?.target,
  );
  const column = target ? columnByWireName(target.definition, property) : undefined;
  if (!lookup || !target || !column) return undefined;
  return { lookupKey: wireName(lookup), target, column };
}

function parseOrderBy(table: DataverseTable, text: string): Array<{ key: string; descending: boolean }> {
  return text.split(',').map((item) => {
    const [name = '', direction = 'asc'] = item.trim().split(/\s+/);
    const column = columnByWireName(table.definition, name);
    if (!column) throw dataverseErrors.unknownProperty(name, table.definition.logicalName);
    if (direction !== 'asc' && direction !== 'desc')
      throw dataverseErrors.badQuery(`Syntax error in '$orderby=${text}'.`);
    return { key: wireName(column), descending: direction === 'desc' };
  });
}

export function compareValues(a: unknown, b: unknown): number {
  // Dataverse sorts nulls first in ascending order.
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'string' && typeof b === 'string') {
    const left = a.toLowerCase();
    const right = b.toLowerCase();
    return left < right ? -1 : left > right ? 1 : 0;
  }
  return (a as number) < (b as number) ? -1 : 1;
}

function pageSizeFor(preferences: Preferences): number {
  return Math.min(maxPageSize, Math.max(1, preferences.maxPageSize ?? maxPageSize));
}

function preferenceApplied(preferences: Preferences, trackChanges: boolean): Record<string, string> {
  const applied: string[] = [];
  if (preferences.maxPageSize !== undefined) applied.push(`odata.maxpagesize=${pageSizeFor(preferences)}`);
  if (preferences.includeAnnotations !== undefined) {
    applied.push(`odata.include-annotations="${preferences.includeAnnotations}"`);
  }
  if (trackChanges) applied.push('odata.track-changes');
  return applied.length > 0 ? { 'preference-applied': applied.join(',') } : {};
}

function linkWithout(request: CollectionRequest, dropped: string[], extra: string): string {
  const kept = request.query.parts.filter((part) => !dropped.includes(part.name)).map((part) => part.raw);
  kept.push(extra);
  return `${request.environment.serviceRoot}${request.table.definition.entitySetName}?${kept.join('&')}`;
}

function skipTokenPart(request: CollectionRequest, cursor: PagingCursor, page: DataverseRow[]): string {
  const keyColumn = request.table.store.keyColumn;
  const first = page[0]?.[keyColumn];
  const token = encodeSkipToken({ ...cursor, keyColumn }, typeof first === 'string' ? first : '');
  return `$skiptoken=${encodeSkipTokenForLink(token)}`;
}

function odataResponse(body: Record<string, unknown>, headers: Record<string, string>): SandboxResponse {
  return {
    status: 200,
    headers: { 'content-type': odataJsonContentType, 'odata-version': '4.0', ...headers },
    body: JSON.stringify(body),
  };
}

export function handleCollectionGet(request: CollectionRequest): SandboxResponse {
  const { options } = request.query;
  const fetchXml = options.get('fetchXml');
  if (fetchXml !== undefined) return handleFetchXml(request, fetchXml);
  const apply = options.get('$apply');
  if (apply !== undefined) return handleApply(request, apply);
  if (options.has('$skip')) throw dataverseErrors.skipNotSupported();
  for (const name of options.keys()) {
    if (name.startsWith('$') && !supportedOptions.has(name)) {
      throw dataverseErrors.badQuery(`The query parameter ${name} is not supported`);
    }
  }
  const deltaToken = options.get('$deltatoken');
  if (deltaToken !== undefined) return handleDelta(request, deltaToken);
  if (request.preferences.trackChanges) return handleTrackedInitialLoad(request);
  return handlePagedQuery(request);
}

function handlePagedQuery(request: CollectionRequest): SandboxResponse {
  const { environment, table, query, preferences } = request;
  const { options } = query;
  const plan = planProjection(
    environment,
    table,
    options.get('$select'),
    options.get('$expand'),
    preferences.includeAnnotations,
  );
  const filterText = options.get('$filter');
  const predicate = filterText
    ? buildFilter(table, filterText, { aliases: aliasesOf(query), now: request.now, environment })
    : undefined;
  const orderBy = options.get('$orderby') ? parseOrderBy(table, options.get('$orderby') as string) : [];
  // "Page results using OData": with Prefer odata.maxpagesize, $top is ignored.
  const topText = preferences.maxPageSize === undefined ? options.get('$top') : undefined;
  const top = topText === undefined ? undefined : Number.parseInt(topText, 10);
  if (top !== undefined && (!Number.isFinite(top) || top < 0))
    throw dataverseErrors.badQuery(`Invalid value for $top: '${topText}'.`);
  const skipToken = options.get('$skiptoken');
  const cursor = skipToken ? decodeSkipToken(skipToken) : undefined;
  const pageSize = top !== undefined ? Math.min(top, maxPageSize) : pageSizeFor(preferences);
  const keyColumn = table.store.keyColumn;

  let page: DataverseRow[];
  let more: boolean;
  if (orderBy.length === 0) {
    // Primary-key order: binary search to the cursor, then scan only as far as one page needs.
    const rows = table.store.rows();
    page = [];
    let index = table.store.indexAfter(cursor?.lastKey);
    while (index < rows.length && page.length <= pageSize) {
      const row = rows[index++] as DataverseRow;
      if (!predicate || predicate(row)) page.push(row);
    }
    more = page.length > pageSize;
    if (more) page.pop();
  } else {
    const compare = (a: DataverseRow, b: DataverseRow): number => {
      for (const { key, descending } of orderBy) {
        const result = compareValues(a[key], b[key]);
        if (result !== 0) return descending ? -result : result;
      }
      return compareValues(a[keyColumn], b[keyColumn]);
    };
    const sorted = (predicate ? table.store.rows().filter(predicate) : [...table.store.rows()]).sort(compare);
    let start = 0;
    if (cursor) {
      const boundary: DataverseRow = { versionnumber: 0, [keyColumn]: cursor.lastKey };
      orderBy.forEach(({ key }, position) => {
        boundary[key] = cursor.lastValues?.[position] ?? null;
      });
      while (start < sorted.length && compare(sorted[start] as DataverseRow, boundary) <= 0) start++;
    }
    page = sorted.slice(start, start + pageSize);
    more = start + pageSize < sorted.length;
  }
  if (top !== undefined) more = false;

  const body: Record<string, unknown> = {
    '@odata.context': `${environment.serviceRoot}$metadata#${table.definition.entitySetName}${plan.contextSelect ? `(${plan.contextSelect})` : ''}`,
  };
  if (options.get('$count') === 'true') {
    const total = predicate ? countMatching(table.store.rows(), predicate) : table.store.size;
    // "Count rows using OData": the count is capped at 5,000; the two annotations only when asked for.
    body['@odata.count'] = Math.min(total, maxPageSize);
    const annotations = preferences.includeAnnotations;
    if (annotationRequested(annotations, 'Microsoft.Dynamics.CRM.totalrecordcount')) {
      body['@Microsoft.Dynamics.CRM.totalrecordcount'] = Math.min(total, maxPageSize);
    }
    if (annotationRequested(annotations, 'Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded')) {
      body['@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded'] = total > maxPageSize;
    }
  }
  body.value = page.map((row) => projectRow(environment, plan, row));
  const last = page[page.length - 1];
  if (more && last) {
    const nextCursor: PagingCursor = {
      page: (cursor?.page ?? 1) + 1,
      lastKey: last[keyColumn] as string,
      ...(orderBy.length > 0 ? { lastValues: orderBy.map(({ key }) => last[key] ?? null) } : {}),
    };
    body['@odata.nextLink'] = linkWithout(request, ['$skiptoken'], skipTokenPart(request, nextCursor, page));
  }
  return odataResponse(body, preferenceApplied(preferences, false));
}

function countMatching(rows: readonly DataverseRow[], predicate: Predicate<DataverseRow>): number {
  let count = 0;
  for (const row of rows) if (predicate(row)) count++;
  return count;
}

function rejectUnderChangeTracking(request: CollectionRequest): void {
  if (!request.table.changeTrackingEnabled)
    throw dataverseErrors.changeTrackingDisabled(request.table.definition.logicalName);
  for (const option of ['$filter', '$orderby', '$expand', '$top']) {
    if (request.query.options.has(option)) throw dataverseErrors.trackChangesOption(option);
  }
}

function deltaLink(request: CollectionRequest, version: number): string {
  const select = request.query.parts.find((part) => part.name === '$select');
  const token = `$deltatoken=${encodeQueryValue(formatDeltaToken(version, request.now))}`;
  const root = `${request.environment.serviceRoot}${request.table.definition.entitySetName}`;
  return select ? `${root}?${select.raw}&${token}` : `${root}?${token}`;
}

function handleTrackedInitialLoad(request: CollectionRequest): SandboxResponse {
  rejectUnderChangeTracking(request);
  const { environment, table, query, preferences } = request;
  const plan = planProjection(
    environment,
    table,
    query.options.get('$select'),
    undefined,
    preferences.includeAnnotations,
  );
  const skipToken = query.options.get('$skiptoken');
  const cursor = skipToken ? decodeSkipToken(skipToken) : undefined;
  const trackingVersion = cursor?.trackingVersion ?? environment.version.current;
  const pageSize = pageSizeFor(preferences);
  const rows = table.store.rows();
  const start = table.store.indexAfter(cursor?.lastKey);
  const page = rows.slice(start, start + pageSize);
  const body: Record<string, unknown> = {
    '@odata.context': `${environment.serviceRoot}$metadata#${table.definition.entitySetName}${plan.contextSelect ? `(${plan.contextSelect})` : ''}`,
    value: page.map((row) => projectRow(environment, plan, row)),
  };
  const last = page[page.length - 1];
  if (start + pageSize < rows.length && last) {
    const nextCursor: PagingCursor = {
      page: (cursor?.page ?? 1) + 1,
      lastKey: last[table.store.keyColumn] as string,
      trackingVersion,
    };
    body['@odata.nextLink'] = linkWithout(request, ['$skiptoken'], skipTokenPart(request, nextCursor, page));
  } else {
    // Reference §3: the deltaLink appears on the last page only.
    body['@odata.deltaLink'] = deltaLink(request, trackingVersion);
  }
  return odataResponse(body, preferenceApplied(preferences, true));
}

/**
 * A delta (docs/microsoft-wire.md, "Change tracking"): rows changed after the token's version (ordered by version), then deletions.
 * Large deltas are paged like any query; the paging cookie pins the upper version, so rows changed while
 * the client pages belong to the next delta, whose token is that upper version.
 */
function handleDelta(request: CollectionRequest, token: string): SandboxResponse {
  rejectUnderChangeTracking(request);
  const { environment, table, query, preferences, now } = request;
  const skipToken = query.options.get('$skiptoken');
  const cursor = skipToken ? decodeSkipToken(skipToken) : undefined;
  const { version, issuedAt } = parseDeltaToken(token);
  const retentionMs = environment.changeTrackingRetentionDays * 86_400_000;
  if (version < environment.deltaTokenFloor || now.getTime() - issuedAt.getTime() > retentionMs) {
    throw dataverseErrors.versionExpired();
  }
  const window = cursor?.delta ?? {
    from: version,
    upper: environment.version.current,
    afterVersion: version,
    deletedOffset: 0,
  };
  const plan = planProjection(
    environment,
    table,
    query.options.get('$select'),
    undefined,
    preferences.includeAnnotations,
  );
  const pageSize = pageSizeFor(preferences);
  const changed = table.store
    .rows()
    .filter((row) => row.versionnumber > window.afterVersion && row.versionnumber <= window.upper)
    .sort((a, b) => a.versionnumber - b.versionnumber);
  const changedPage = changed.slice(0, pageSize);
  const deletedContext = `${environment.serviceRoot}$metadata#${table.definition.entitySetName}/$deletedEntity`;
  const deletions = table.store.deletions.filter(
    (deletion) => deletion.version > window.from && deletion.version <= window.upper,
  );
  const deletedPage = deletions.slice(
    window.deletedOffset,
    window.deletedOffset + pageSize - changedPage.length,
  );
  const body: Record<string, unknown> = {
    '@odata.context': `${environment.serviceRoot}$metadata#${table.definition.entitySetName}${plan.contextSelect ? `(${plan.contextSelect})` : ''}/$delta`,
    value: [
      ...changedPage.map((row) => projectRow(environment, plan, row)),
      ...deletedPage.map((deletion) => ({
        '@odata.context': deletedContext,
        id: deletion.id,
        reason: 'deleted',
      })),
    ],
  };
  const moreChanged = changed.length > changedPage.length;
  const nextDeletedOffset = window.deletedOffset + deletedPage.length;
  if (moreChanged || nextDeletedOffset < deletions.length) {
    const lastChanged = changedPage[changedPage.length - 1];
    const nextCursor: PagingCursor = {
      page: (cursor?.page ?? 1) + 1,
      lastKey: '',
      delta: {
        ...window,
        afterVersion: moreChanged && lastChanged ? lastChanged.versionnumber : window.upper,
        deletedOffset: nextDeletedOffset,
      },
    };
    body['@odata.nextLink'] = linkWithout(
      request,
      ['$skiptoken'],
      skipTokenPart(request, nextCursor, changedPage),
    );
  } else {
    body['@odata.deltaLink'] = deltaLink(request, window.upper);
  }
  return odataResponse(body, preferenceApplied(preferences, true));
}

/**
 * `GET /{set}/$count`: the number of rows (with `$filter`) as plain text, capped at 5,000 like `$count=true`
 * ("Count rows using OData").
 */
export function handleCountSegment(request: CollectionRequest): SandboxResponse {
  for (const name of request.query.options.keys()) {
    if (name.startsWith('$') && name !== '$filter') {
      throw dataverseErrors.badQuery(`The query parameter ${name} is not supported with /$count`);
    }
  }
  const filterText = request.query.options.get('$filter');
  const rows = request.table.store.rows();
  const filterContext = {
    aliases: aliasesOf(request.query),
    now: request.now,
    environment: request.environment,
  };
  const total = filterText
    ? countMatching(rows, buildFilter(request.table, filterText, filterContext))
    : rows.length;
  return {
    status: 200,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'odata-version': '4.0' },
    body: String(Math.min(total, maxPageSize)),
  };
}

export function handleSingleGet(request: CollectionRequest, id: string): SandboxResponse {
  const { environment, table, query, preferences } = request;
  const plan = planProjection(
    environment,
    table,
    query.options.get('$select'),
    query.options.get('$expand'),
    preferences.includeAnnotations,
  );
  const row = table.store.get(id);
  if (!row) throw dataverseErrors.recordNotFound(table.definition.logicalName, id);
  return odataResponse(
    {
      '@odata.context': `${environment.serviceRoot}$metadata#${table.definition.entitySetName}${plan.contextSelect ? `(${plan.contextSelect})` : ''}/$entity`,
      ...projectRow(environment, plan, row),
    },
    { etag: etag(row), ...preferenceApplied(preferences, false) },
  );
}
