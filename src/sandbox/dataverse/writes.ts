import { randomUUID } from 'node:crypto';
import { isoSeconds } from '../data/flat-strings.js';
import { wireName } from './catalog.js';
import type { DataverseEnvironment, DataverseTable } from './environment.js';
import { DataverseError, dataverseErrors } from './errors.js';
import type { DataverseRow } from './table-store.js';
import { columnValue } from './values.js';

/**
 * Create (POST), update (PATCH) and delete (DELETE) of rows ("Create a table row", "Update and delete
 * table rows using the Web API", "Perform conditional operations"; docs/microsoft-wire.md). Each write bumps the organisation's row version,
 * so it shows up in change tracking, and returns an undo: a $batch change set that fails rolls back the
 * writes it already made.
 */
export interface WriteResult {
  id: string;
  undo(): void;
}

/** Columns the platform sets itself: a client may not write them. */
const systemColumns = new Set(['createdon', 'modifiedon', 'versionnumber']);

function nextVersion(environment: DataverseEnvironment): number {
  environment.version.current += 1;
  return environment.version.current;
}

function parseBody(table: DataverseTable, body: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = body.trim() ? JSON.parse(body) : {};
  } catch {
    throw dataverseErrors.badQuery('The request body is not valid JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw dataverseErrors.badQuery('The request body must be a JSON object.');
  }
  const writable = new Map(
    table.definition.columns
      .filter((column) => column.kind !== 'Lookup' && column.kind !== 'Owner')
      .map((column) => [wireName(column), column]),
  );
  const changes: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (name.startsWith('@odata.')) continue;
    const bound = name.endsWith('@odata.bind')
      ? bindLookup(table, name, value)
      : value === null && table.definition.columns.some((column) => column.navigationProperty === name)
        ? bindLookup(table, `${name}@odata.bind`, null)
        : undefined;
    if (bound) {
      changes[bound.column] = bound.id;
      continue;
    }
    const column = writable.get(name);
    if (!column || systemColumns.has(name) || name === table.definition.primaryIdAttribute) {
      throw dataverseErrors.unknownProperty(name, table.definition.logicalName);
    }
    changes[name] = columnValue(column, value);
  }
  return changes;
}

/**
 * `"cdm_CompanyId@odata.bind": "/cdm_companies(<guid>)"` sets a lookup through its single-valued
 * navigation property ("Associate table rows on create"); `null` clears it, as does
 * `"cdm_CompanyId": null` ("Disassociate tables on update").
 */
function bindLookup(
  table: DataverseTable,
  name: string,
  value: unknown,
): { column: string; id: string | null } | undefined {
  const navigation = name.slice(0, -'@odata.bind'.length);
  const column = table.definition.columns.find((candidate) => candidate.navigationProperty === navigation);
  if (!column) throw dataverseErrors.unknownProperty(navigation, table.definition.logicalName);
  if (value === null) return { column: wireName(column), id: null };
  const id = /\(([0-9a-fA-F-]{36})\)$/.exec(String(value))?.[1];
  if (!id)
    throw dataverseErrors.badQuery(`The value of '${name}' is not an entity reference: '${String(value)}'.`);
  return { column: wireName(column), id: id.toLowerCase() };
}

export function createRow(
  environment: DataverseEnvironment,
  table: DataverseTable,
  body: string,
  now: Date,
  /** An upsert (PATCH of a missing row) creates the row under the id of its URL. */
  id: string = randomUUID(),
): WriteResult {
  const changes = parseBody(table, body);
  const stamp = isoSeconds(now.getTime());
  const versionnumber = nextVersion(environment);
  const row: DataverseRow = { versionnumber };
  for (const column of table.definition.columns) row[wireName(column)] = null;
  Object.assign(row, changes, {
    [table.definition.primaryIdAttribute]: id,
    versionnumber,
    createdon: stamp,
    modifiedon: stamp,
    statecode: changes.statecode ?? 0,
    statuscode: changes.statuscode ?? 1,
  });
  table.store.put(row);
  return {
    id,
    undo: () => {
      table.store.remove(id, nextVersion(environment));
      table.store.deletions.pop();
    },
  };
}

export function updateRow(
  environment: DataverseEnvironment,
  table: DataverseTable,
  id: string,
  body: string,
  now: Date,
): WriteResult {
  const previous = table.store.get(id);
  if (!previous) throw dataverseErrors.recordNotFound(table.definition.logicalName, id);
  const changes = parseBody(table, body);
  table.store.put({
    ...previous,
    ...changes,
    versionnumber: nextVersion(environment),
    modifiedon: isoSeconds(now.getTime()),
  });
  return { id, undo: () => table.store.put(previous) };
}

/**
 * The conditions of "Perform conditional operations using the Web API": `If-Match: *` forbids the create
 * of an upsert (404), `If-None-Match: *` its update (412), and an `If-Match` ETag that is not the row's
 * current one refuses the update or delete (412).
 */
export function checkWriteConditions(
  table: DataverseTable,
  method: string,
  id: string,
  ifMatch: string | undefined,
  ifNoneMatch: string | undefined,
): 'update' | 'create' {
  const row = table.store.get(id);
  if (method === 'PATCH' && ifNoneMatch?.trim() === '*' && row) {
    throw new DataverseError(412, '', 'A record with matching key values already exists.');
  }
  if (!row) {
    if (method === 'PATCH' && ifMatch?.trim() !== '*') return 'create';
    throw dataverseErrors.recordNotFound(table.definition.logicalName, id);
  }
  const wanted = ifMatch?.trim();
  if (wanted && wanted !== '*' && wanted !== `W/"${row.versionnumber}"`) {
    throw new DataverseError(
      412,
      '',
      "The version of the existing record doesn't match the RowVersion property provided.",
    );
  }
  return 'update';
}

export function deleteRow(environment: DataverseEnvironment, table: DataverseTable, id: string): WriteResult {
  const previous = table.store.get(id);
  if (!previous) throw dataverseErrors.recordNotFound(table.definition.logicalName, id);
  table.store.remove(id, nextVersion(environment));
  return {
    id,
    undo: () => {
      table.store.put(previous);
      table.store.deletions.pop();
    },
  };
}
