import type { InvalidRow, MappedRecord, SourceStream, SyncPage } from '../../types.js';
import type { FnoEntity } from './catalog.js';
import { csvRows } from './csv.js';
import type { SharedDmfExport } from './dmf.js';
import type { FnoHttp } from './fno-http.js';
import { normaliser } from './mappers.js';

/**
 * F&O sources as snapshot streams (except a DMF export of a change-tracked data project, which is a
 * delta: see dmfEntityStream). F&O OData gives no change tracking for these entities (docs/microsoft-wire.md, "F&O data entities"),
 * so every sync reads the whole entity: all pages are phase "full" and the last has no cursor, which
 * makes the engine diff the snapshot against what is stored (only real changes bump modified_at)
 * and mark rows missing from it deleted. A failure (HTTP, a DMF export that is not Succeeded, a
 * missing data file, a CSV error) throws before the last page, so nothing is deleted.
 *
 * Intermediate pages carry no cursor either: an interrupted snapshot is not resumed but restarted
 * on the next sync (with a fresh seen-set), because neither a DMF package (a new export each time)
 * nor `$skip` paging over a table that changed meanwhile could be resumed without missing rows,
 * and a missed row would be wrongly deleted by the reconciliation.
 */

class PageBuilder {
  records: MappedRecord[] = [];
  invalid: InvalidRow[] = [];

  constructor(private readonly entity: FnoEntity) {}

  add(row: Record<string, unknown>): void {
    const mapped = this.entity.map(row);
    if (mapped === null) return;
    if ('remoteId' in mapped) this.records.push(mapped);
    else this.invalid.push(mapped);
  }

  get size(): number {
    return this.records.length + this.invalid.length;
  }

  take(last: boolean, phase: SyncPage['phase'] = 'full'): SyncPage {
    const page: SyncPage = {
      records: this.records,
      deletedRemoteIds: [],
      invalid: this.invalid,
      nextCursor: null,
      phase,
      last,
    };
    this.records = [];
    this.invalid = [];
    return page;
  }
}

export function odataEntityStream(options: {
  http: FnoHttp;
  entity: FnoEntity;
  entitySetName: string;
  pageSize: number;
  /** The entity's fields this environment's $metadata lists (all of them when not given). */
  fields?: readonly string[];
}): SourceStream {
  const { http, entity, entitySetName, pageSize } = options;
  const select = (options.fields ?? entity.fields).join(',');
  const normalise = normaliser(entity.fields, entity.numericFields);
  return {
    sourceTable: `fno-odata:${entitySetName}`,
    target: entity.target,
    async *pages(): AsyncGenerator<SyncPage> {
      // cross-company=true: every legal entity, not only the app user's default company.
      // $select: only the fields the entity has here (docs/microsoft-wire.md, F&O data entities).
      let url: string | undefined =
        `${http.dataRoot}${entitySetName}?cross-company=true&$select=${encodeURIComponent(select)}`;
      const builder = new PageBuilder(entity);
      while (url) {
        const body = await http.getJson(url, [`odata.maxpagesize=${pageSize}`]);
        const rows = Array.isArray(body.value) ? (body.value as Record<string, unknown>[]) : [];
        for (const row of rows) builder.add(normalise.fromOData(row));
        const next = body['@odata.nextLink'];
        url = typeof next === 'string' ? next : undefined;
        if (url) yield builder.take(false);
      }
      yield builder.take(true);
    },
  };
}

export function dmfEntityStream(options: {
  shared: SharedDmfExport;
  entity: FnoEntity;
  pageSize: number;
}): SourceStream {
  const { shared, entity, pageSize } = options;
  const normalise = normaliser(entity.fields, entity.numericFields);
  return {
    sourceTable: `dmf:${shared.settings.definitionGroup}/${entity.dmfEntityName}`,
    target: entity.target,
    async *pages(): AsyncGenerator<SyncPage> {
      try {
        const dmfPackage = await shared.package();
        const { stream, incremental } = await dmfPackage.openEntity(entity.dmfEntityName);
        // A change-tracked data project exports only rows created or updated since its last run
        // ("Data management package REST API", ExportToPackage): a delta, so nothing missing from it
        // is deleted. Deletions then need a full export of a project without change tracking.
        const phase: SyncPage['phase'] = incremental ? 'delta' : 'full';
        const builder = new PageBuilder(entity);
        let toRow: ((values: string[]) => Record<string, unknown>) | undefined;
        // The encoding comes from the byte-order mark (CSV-Unicode = UTF-16LE with BOM; else UTF-8).
        for await (const rows of csvRows(stream)) {
          for (const values of rows) {
            if (!toRow) {
              toRow = normalise.fromHeaders(values);
              continue;
            }
            builder.add(toRow(values));
            if (builder.size >= pageSize) yield builder.take(false, phase);
          }
        }
        if (!toRow)
          throw new Error(`The DMF data file of '${entity.dmfEntityName}' is empty (no header row).`);
        yield builder.take(true, phase);
      } finally {
        await shared.release();
      }
    },
  };
}
