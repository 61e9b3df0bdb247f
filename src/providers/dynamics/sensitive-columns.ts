import type { ModelName } from '../../unified/models.js';
import { DATAVERSE_TABLES } from './dataverse/catalog.js';
import { FNO_ENTITIES } from './fno/catalog.js';

/** Raw Dataverse columns and F&O fields that carry sensitive data, per unified model, from both catalogs. */
export function dynamicsSensitiveColumns(): Partial<Record<ModelName, string[]>> {
  const columns: Partial<Record<ModelName, string[]>> = {};
  const sources = [
    ...DATAVERSE_TABLES.map((table) => ({
      target: table.target,
      sensitive: table.columns.filter((column) => column.sensitive).map((column) => column.name),
    })),
    ...FNO_ENTITIES,
  ];
  for (const source of sources) {
    if (source.target === 'auxiliary' || source.sensitive.length === 0) continue;
    columns[source.target] = [...new Set([...(columns[source.target] ?? []), ...source.sensitive])];
  }
  return columns;
}
