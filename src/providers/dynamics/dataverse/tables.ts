import { z } from 'zod';
import {
  CursorExpiredError,
  type MappedRecord,
  type SourceStream,
  type StoredCursor,
  type SyncPage,
} from '../../types.js';
import { type ODataClient, ODataError } from '../odata-client.js';
import { type DataverseTable, selectedColumns } from './catalog.js';
import type { MapContext } from './mappers.js';

/**
 * Dataverse table discovery (EntityDefinitions) and paged, change-tracked reads
 * (https://learn.microsoft.com/power-apps/developer/data-platform/use-change-tracking-synchronize-data-external-systems).
 */

/** The version stamp of a delta link is older than the org's change-tracking retention (reference §3). */
const EXPIRED_VERSION_CODE = '0x80044352';

export interface TableDefinition {
  logicalName: string;
  entitySetName: string;
  changeTrackingEnabled: boolean;
}

const entityDefinitionSchema = z.object({
  LogicalName: z.string(),
  EntitySetName: z.string(),
  ChangeTrackingEnabled: z.boolean().nullish(),
});

/** The table's definition, or null when the environment has no such table. */
export async function describeTable(client: ODataClient, apiRoot: string, logicalName: string) {
  const url = `${apiRoot}EntityDefinitions(LogicalName='${logicalName}')?$select=LogicalName,EntitySetName,ChangeTrackingEnabled`;
  try {
    const { body } = await client.get(url);
    const definition = entityDefinitionSchema.parse(body);
    return {
      logicalName: definition.LogicalName,
      entitySetName: definition.EntitySetName,
      changeTrackingEnabled: definition.ChangeTrackingEnabled ?? false,
    } satisfies TableDefinition;
  } catch (error) {
    if (error instanceof ODataError && error.status === 404) return null;
    throw error;
  }
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
      let url =
        from?.cursor ?? `${apiRoot}${definition.entitySetName}?$select=${selectedColumns(table).join(',')}`;
      for (;;) {
        let body: Record<string, unknown>;
        try {
          ({ body } = await client.get(url, prefer));
        } catch (error) {
          if (error instanceof ODataError && error.code === EXPIRED_VERSION_CODE) {
            throw new CursorExpiredError(`${definition.entitySetName}: ${error.message}`);
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
          else page.records.push(mapped as MappedRecord);
        }
        const nextLink = typeof body['@odata.nextLink'] === 'string' ? body['@odata.nextLink'] : null;
        const deltaLink = typeof body['@odata.deltaLink'] === 'string' ? body['@odata.deltaLink'] : null;
        page.nextCursor = nextLink ?? deltaLink;
        page.last = nextLink === null;
        yield page;
        if (!nextLink) return;
        url = nextLink;
      }
    },
  };
}
