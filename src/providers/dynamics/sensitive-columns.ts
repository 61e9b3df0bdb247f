import type { ModelName } from '../../unified/models.js';
import { DATAVERSE_TABLES } from './dataverse/catalog.js';
import { FNO_ENTITIES } from './fno/catalog.js';

/** Raw Dataverse columns and F&O fields that carry sensitive data, per unified model, from both catalogs. */
export function dynamicsSensitiveColumns(): Partial<Record<ModelName, string[]>> {
  const columns: Partial<Record<ModelName, string[]>> = {};
  for (const source of [...DATAVERSE_TABLES, ...FNO_ENTITIES]) {
    if (source.target === 'auxiliary' || source.sensitive.length === 0) continue;
    columns[source.target] = [...new Set([...(columns[source.target] ?? []), ...source.sensitive])];
  }
  return columns;
}
