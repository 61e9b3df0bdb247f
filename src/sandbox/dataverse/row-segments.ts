import { odataJsonContentType, type SandboxRequest, type SandboxResponse } from '../http/types.js';
import { parsePrefer, parseRawQuery } from '../odata/query-options.js';
import { type ColumnDefinition, wireName } from './catalog.js';
import { handleSingleGet } from './collection.js';
import { type DataverseEnvironment, type DataverseTable, findTableBySetName } from './environment.js';
import { dataverseErrors } from './errors.js';
import { updateRow, type WriteResult } from './writes.js';

/**
 * Paths below one row, `{set}({id})/…` (docs/microsoft-wire.md, "Single properties and references"):
 * - `GET …/{column}` one property as `{"@odata.context": "…#{set}({id})/{column}", "value": …}`;
 *   `PUT …/{column}` with `{"value": …}` updates it and `DELETE …/{column}` empties it (204);
 * - `GET …/{navigation}` the related row of a lookup, as a row of its own table;
 * - `PUT …/{navigation}/$ref` with `{"@odata.id": "{set}({id})"}` sets a lookup and
 *   `DELETE …/{navigation}/$ref` clears it (204).
 * ("Retrieve a table row", "Update and delete table rows", "Associate and disassociate table rows".)
 */
export interface RowSegmentRequest {
  request: SandboxRequest;
  environment: DataverseEnvironment;
  table: DataverseTable;
  id: string;
  segments: string[];
  now: Date;
  /** The write's undo step, for a $batch change set. */
  onWrite(result: WriteResult): void;
}

const noContent: SandboxResponse = { status: 204, headers: { 'odata-version': '4.0' }, body: '' };

function lookupByNavigation(table: DataverseTable, name: string): ColumnDefinition | undefined {
  return table.definition.columns.find((column) => column.navigationProperty === name);
}

function propertyColumn(table: DataverseTable, name: string): ColumnDefinition | undefined {
  return table.definition.columns.find((column) => wireName(column) === name);
}

function jsonBody(request: SandboxRequest): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(request.body || '{}');
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw dataverseErrors.badQuery('The request body must be a JSON object.');
}

export function handleRowSegment(input: RowSegmentRequest): SandboxResponse {
  const { request, environment, table, id, segments } = input;
  const [name = '', next, ...beyond] = segments;
  const logicalName = table.definition.logicalName;
  const navigation = lookupByNavigation(table, name);
  if (beyond.length > 0 || (next !== undefined && (next !== '$ref' || !navigation))) {
    throw dataverseErrors.resourceNotFound(segments.at(-1) ?? name);
  }
  if (!table.store.get(id)) throw dataverseErrors.recordNotFound(logicalName, id);
  const write = (changes: Record<string, unknown>): SandboxResponse => {
    input.onWrite(updateRow(environment, table, id, JSON.stringify(changes), input.now));
    return noContent;
  };

  if (navigation) {
    const binding = `${navigation.navigationProperty}@odata.bind`;
    if (next === '$ref') {
      if (request.method === 'DELETE') return write({ [binding]: null });
      if (request.method !== 'PUT') throw dataverseErrors.methodNotAllowed();
      const reference = jsonBody(request)['@odata.id'];
      if (typeof reference !== 'string') {
        throw dataverseErrors.badQuery("The request body must carry the related row's '@odata.id'.");
      }
      return write({ [binding]: reference });
    }
    if (request.method !== 'GET') throw dataverseErrors.methodNotAllowed();
    return relatedRow(input, navigation);
  }

  const column = propertyColumn(table, name);
  if (!column) throw dataverseErrors.resourceNotFound(name);
  if (request.method === 'PUT') {
    const body = jsonBody(request);
    if (!('value' in body)) throw dataverseErrors.badQuery("The request body must carry 'value'.");
    return write({ [name]: body.value });
  }
  if (request.method === 'DELETE') return write({ [name]: null });
  if (request.method !== 'GET') throw dataverseErrors.methodNotAllowed();
  const value = table.store.get(id)?.[wireName(column)];
  // A null property has no value to return [infer: OData answers 204 No Content].
  if (value === null || value === undefined) return noContent;
  return {
    status: 200,
    headers: { 'content-type': odataJsonContentType, 'odata-version': '4.0' },
    body: JSON.stringify({
      '@odata.context': `${environment.serviceRoot}$metadata#${table.definition.entitySetName}(${id})/${name}`,
      value,
    }),
  };
}

/** `GET {set}({id})/{navigation}`: the row the lookup points at, in its own table's shape. */
function relatedRow(input: RowSegmentRequest, navigation: ColumnDefinition): SandboxResponse {
  const { environment, table, id, request } = input;
  const relatedId = table.store.get(id)?.[wireName(navigation)];
  const target = [...environment.tables.values()].find(
    (candidate) => candidate.definition.logicalName === navigation.target,
  );
  const targetTable = target ? findTableBySetName(environment, target.definition.entitySetName) : undefined;
  if (typeof relatedId !== 'string' || !targetTable) return noContent;
  return handleSingleGet(
    {
      environment,
      table: targetTable,
      query: parseRawQuery(request.url.search),
      preferences: parsePrefer(
        Array.isArray(request.headers.prefer) ? request.headers.prefer[0] : request.headers.prefer,
      ),
      now: input.now,
    },
    relatedId,
  );
}
