import type { ColumnDefinition } from './catalog.js';
import { DataverseError } from './errors.js';
import { edmTypes } from './service-documents.js';

/**
 * A value a client sends for a column (a write's body, a query function's parameter), checked against
 * the column's EDM type and put in the form rows keep: whole-second UTC instants, `YYYY-MM-DD` dates,
 * lower-case GUIDs. Anything else is refused with OData's conversion error naming the value and type
 * [infer: the wording of Microsoft.OData.Core's "Cannot convert the literal" message; code 0x0 as for
 * other OData-level errors the sandbox answers].
 */
const guid = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const dateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$/;
const date = /^\d{4}-\d{2}-\d{2}$/;

function cannotConvert(value: unknown, column: ColumnDefinition): DataverseError {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return new DataverseError(
    400,
    '0x0',
    `Cannot convert the literal '${text}' to the expected type '${edmTypes[column.kind]}' of '${column.logicalName}'.`,
  );
}

export function columnValue(column: ColumnDefinition, value: unknown): unknown {
  if (value === null) return null;
  switch (column.kind) {
    case 'String':
    case 'Memo':
      if (typeof value === 'string') return value;
      break;
    case 'Integer':
    case 'BigInt':
    case 'Picklist':
    case 'State':
    case 'Status': {
      const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof number === 'number' && Number.isInteger(number)) return number;
      break;
    }
    case 'Decimal': {
      const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof number === 'number' && Number.isFinite(number)) return number;
      break;
    }
    case 'DateTime':
      if (typeof value === 'string' && dateTime.test(value) && !Number.isNaN(Date.parse(value))) {
        return `${new Date(value).toISOString().slice(0, 19)}Z`;
      }
      if (typeof value === 'string' && date.test(value) && !Number.isNaN(Date.parse(value))) {
        return `${value}T00:00:00Z`;
      }
      break;
    case 'DateOnly':
      if (
        typeof value === 'string' &&
        date.test(value.slice(0, 10)) &&
        !Number.isNaN(Date.parse(value.slice(0, 10)))
      ) {
        return value.slice(0, 10);
      }
      break;
    case 'Uniqueidentifier':
    case 'Lookup':
    case 'Owner':
      if (typeof value === 'string' && guid.test(value)) return value.toLowerCase();
      break;
  }
  throw cannotConvert(value, column);
}
