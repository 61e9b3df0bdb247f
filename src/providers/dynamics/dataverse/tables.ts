import { z } from 'zod';
import { CursorExpiredError, type SourceStream, type StoredCursor, type SyncPage } from '../../types.js';
import { type ODataClient, ODataError } from '../odata-client.js';
import type { DataverseColumn, DataverseTable } from './catalog.js';
import type { MapContext } from './mappers.js';

/**
 * Dataverse table discovery (EntityDefinitions) and paged, change-tracked reads
 * (https://learn.microsoft.com/power-apps/developer/data-platform/use-change-tracking-synchronize-data-external-systems).
 */

/**
 * The version stamp of a delta link is older than the org's change-tracking retention
 * (docs/microsoft-wire.md, "Errors, throttling and change tracking").
 */
const EXPIRED_VERSION_CODE = '0x80044352';
const EXPIRED_VERSION_TEXT = /version stamp associated with the client has expired/i;

/** An answer saying the stored link's token is expired, whatever status it came with. */
function isExpiredVersion(error: { code: string | undefined; message: string }): boolean {
  return error.code === EXPIRED_VERSION_CODE || EXPIRED_VERSION_TEXT.test(error.message);
}

/**
 * A stored delta link the service refuses. Besides the documented expiry code, a token the service
 * no longer accepts comes back as a 400/404/410/422 with other codes and words: any of these on a
 * delta link means "read everything again" (the engine resyncs once; a real fault then surfaces
 * from the full load). 401/403/429/5xx say nothing about the token and are handled as usual.
 */
function isRejectedDeltaLink(error: ODataError): boolean {
  return isExpiredVersion(error) || [400, 404, 410, 422].includes(error.status);
}

export interface TableDefinition {
  logicalName: string;
  entitySetName: string;
  changeTrackingEnabled: boolean;
  /**
   * The table's column logical names, as its EntityDefinitions' Attributes list them; null when the
   * environment did not return Attributes (every catalog column is then requested).
   */
  attributes: ReadonlySet<string> | null;
}

const entityDefinitionSchema = z.object({
  LogicalName: z.string(),
  EntitySetName: z.string(),
  ChangeTrackingEnabled: z.boolean().nullish(),
  Attributes: z.array(z.object({ LogicalName: z.string() })).nullish(),
});

/**
/**
 * A keyed EntityDefinitions request is answered by Dataverse as one entity; some environments (and
 * proxies in front of them) answer it as a collection `{"value": [...]}`, the shape of the `$filter` form
 * (docs/microsoft-wire.md, "Web API surface"). Both are read; an empty collection means no such table.
 */
const entityDefinitionAnswerSchema = z.union([
  z.object({ value: z.array(entityDefinitionSchema) }),
  entityDefinitionSchema,
]);

/**
 * The table's definition with its columns, or null when the environment has no such table. The
 * Attributes let a sync `$select` only columns the tenant has: Dataverse rejects a whole query that
 * names one unknown column, and several catalog columns are known only by display name
 * (docs/microsoft-wire.md, "Tables, entities and option sets").
 */
export async function describeTable(client: ODataClient, apiRoot: string, logicalName: string) {
  const url = `${apiRoot}EntityDefinitions(LogicalName='${logicalName}')?$select=LogicalName,EntitySetName,ChangeTrackingEnabled&$expand=Attributes($select=LogicalName)`;
  try {
    const { body } = await client.get(url);
    const answer = entityDefinitionAnswerSchema.parse(body);
    const definition =
      'value' in answer
        ? answer.value.find((entry) => entry.LogicalName.toLowerCase() === logicalName.toLowerCase())
        : answer;
    if (!definition) return null;
    return {
      logicalName: definition.LogicalName,
      entitySetName: definition.EntitySetName,
      changeTrackingEnabled: definition.ChangeTrackingEnabled ?? false,
      attributes: definition.Attributes
        ? new Set(definition.Attributes.map((attribute) => attribute.LogicalName))
        : null,
    } satisfies TableDefinition;
  } catch (error) {
    if (error instanceof ODataError && error.status === 404) return null;
    throw error;
  }
}

/** Whether a stored link `$select`s exactly these columns (links without a $select are kept). */
function sameColumns(link: string, select: readonly string[]): boolean {
  let selected: string | null;
  try {
    selected = new URL(link).searchParams.get('$select');
  } catch {
    return true;
  }
  if (selected === null) return true;
  const stored = new Set(selected.split(',').map((name) => name.trim()));
  return stored.size === select.length && select.every((name) => stored.has(name));
}

/** A wire name's column logical name (`_cdm_jobid_value` → `cdm_jobid`). */
export function attributeName(wireName: string): string {
  return /^_(.+)_value$/.exec(wireName)?.[1] ?? wireName;
}

/** The catalog columns this environment's table lacks (never the key, which every table has). */
export function missingColumns(table: DataverseTable, definition: TableDefinition): DataverseColumn[] {
  const { attributes } = definition;
  if (!attributes) return [];
  return table.columns.filter(
    (column) => column.name !== table.key && !attributes.has(attributeName(column.name)),
  );
}

/** Where a table's missing columns are said in words: "cdm_mobilephone (employees' mobile ...)". */
export function describeMissingColumns(table: DataverseTable, missing: readonly DataverseColumn[]): string {
  return missing
    .map((column) => `${table.logicalName}.${column.name} (${column.cost} stay empty)`)
    .join(', ');
}

const deletedRowSchema = z.object({ id: z.string() });

/** Deleted rows in a delta response: `{"@odata.context": "...$deletedEntity", "id": ..., "reason": "deleted"}`. */
function isDeletedEntity(row: Record<string, unknown>): boolean {
  const context = row['@odata.context'];
  return typeof context === 'string' && context.endsWith('/$deletedEntity');
}

export interface TableStreamOptions {
  client: ODataClient;
  apiRoot: string;
  table: DataverseTable;
  definition: TableDefinition;
  pageSize: number;
  context: MapContext;
}

export function dataverseTableStream(options: TableStreamOptions): SourceStream {
  const { client, apiRoot, table, definition, pageSize, context } = options;
  // Only the columns the environment has: a missing one leaves its field empty instead of failing the
  // stream (the plan says which, in sync status).
  const missing = new Set(missingColumns(table, definition).map((column) => column.name));
  const select = table.columns.map((column) => column.name).filter((name) => !missing.has(name));
  const prefer = [
    ...(definition.changeTrackingEnabled ? ['odata.track-changes'] : []),
    `odata.maxpagesize=${pageSize}`,
    'odata.include-annotations="OData.Community.Display.V1.FormattedValue"',
  ];
  return {
    sourceTable: `dataverse:${definition.entitySetName}`,
    target: table.target,
    async *pages(from: StoredCursor | null): AsyncGenerator<SyncPage> {
      // A stored link (next page of an interrupted full load, or the delta link) is followed
      // unmodified, with the same Prefer header, as Dataverse requires.
      let phase: SyncPage['phase'] = from?.cursor ? from.phase : 'full';
      let url = from?.cursor ?? `${apiRoot}${definition.entitySetName}?$select=${select.join(',')}`;
      let followingStoredLink = Boolean(from?.cursor);
      // A link made when the environment had other columns (one removed, or one added since) would
      // keep the old $select: start again with the columns there are now.
      if (from?.cursor && !sameColumns(from.cursor, select)) {
        throw new CursorExpiredError(
          `${definition.entitySetName}: the table's columns changed since the last sync`,
        );
      }
      for (;;) {
        let body: Record<string, unknown>;
        try {
          // An expired token is never retried, even when it comes back as a 5xx.
          ({ body } = await client.get(url, prefer, isExpiredVersion));
        } catch (error) {
          if (
            error instanceof ODataError &&
            (phase === 'delta' ? isRejectedDeltaLink(error) : isExpiredVersion(error))
          ) {
            throw new CursorExpiredError(`${definition.entitySetName}: ${error.message}`);
          }
          // A stored link carries the $select of the sync that made it: a column removed since then
          // makes Dataverse refuse the whole query. A full load asks for the columns there are now.
          if (followingStoredLink && error instanceof ODataError && error.status === 400) {
            throw new CursorExpiredError(
              `${definition.entitySetName}: the stored link was refused (${error.message})`,
            );
          }
          throw error;
        }
        if (typeof body['@odata.context'] === 'string' && body['@odata.context'].endsWith('/$delta'))
          phase = 'delta';
        const rows = Array.isArray(body.value) ? (body.value as Record<string, unknown>[]) : [];
        const page: SyncPage = {
          records: [],
          deletedRemoteIds: [],
          invalid: [],
          nextCursor: null,
          phase,
          last: false,
        };
        for (const row of rows) {
          if (isDeletedEntity(row)) {
            const deleted = deletedRowSchema.safeParse(row);
            if (deleted.success) page.deletedRemoteIds.push(deleted.data.id);
            else
              page.invalid.push({ key: '<deleted row without id>', reason: 'deleted entity without an id' });
            continue;
          }
          const mapped = table.map(row, context);
          if ('reason' in mapped) page.invalid.push(mapped);
          else page.records.push(mapped);
        }
        const nextLink = typeof body['@odata.nextLink'] === 'string' ? body['@odata.nextLink'] : null;
        const deltaLink = typeof body['@odata.deltaLink'] === 'string' ? body['@odata.deltaLink'] : null;
        // "No changes" may come as an empty object, without a new delta link: the link just read
        // stays valid (it still marks the same version), so it is kept, never lost.
        page.nextCursor = nextLink ?? deltaLink ?? (phase === 'delta' ? url : null);
        page.last = nextLink === null;
        yield page;
        if (!nextLink) return;
        url = nextLink;
        followingStoredLink = false;
      }
    },
  };
}
