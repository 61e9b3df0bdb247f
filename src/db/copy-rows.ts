import { once } from 'node:events';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { PgType } from '../unified/models.js';
import { arrayLiteral, quote } from './sql-text.js';

/**
 * Bulk insert of rows known to be new through `COPY ... FROM STDIN` (text format). For the seeder's
 * million rows this beats the unnest INSERT of db/bulk-upsert.ts: no per-column parameter arrays to
 * build and serialise, no array literal parsing on the server, and one streamed statement per table
 * per chunk instead of several round trips.
 */
export async function copyRows(
  client: pg.PoolClient,
  table: string,
  columns: Record<string, PgType>,
  rows: Record<string, unknown>[],
): Promise<number> {
  const read = Object.keys(columns).map((name) => (row: Record<string, unknown>) => row[name]);
  return copyRowsBy(client, table, columns, rows, read);
}

/**
 * The same, reading each column's value with its own accessor (`read[column](row, index)`), so a
 * caller holding rows of another shape (a sync page's mapped records) builds no row objects: in an
 * initial load the garbage they made was a third of the worker's time (docs/PERFORMANCE.md).
 */
export async function copyRowsBy<Row>(
  client: pg.PoolClient,
  table: string,
  columns: Record<string, PgType>,
  rows: readonly Row[],
  read: readonly ((row: Row, index: number) => unknown)[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const names = Object.keys(columns);
  const types = names.map((name) => columns[name] as PgType);
  // The text goes into buffers of ~32k characters as it is built, never into one string of the
  // whole chunk: a sync page's was megabytes, allocated straight in V8's old generation, and with
  // two pages in flight per stream that churn brought a worker's capped heap to frequent full GCs.
  const buffers: Buffer[] = [];
  let text = '';
  for (let index = 0; index < rows.length; index++) {
    const row = rows[index] as Row;
    for (let column = 0; column < names.length; column++) {
      if (column > 0) text += '\t';
      text += copyField(
        (read[column] as (row: Row, index: number) => unknown)(row, index),
        types[column] as PgType,
      );
    }
    text += '\n';
    if (text.length >= BUFFERED_CHARS) {
      buffers.push(Buffer.from(text));
      text = '';
    }
  }
  if (text.length > 0) buffers.push(Buffer.from(text));
  const stream = client.query(
    copyFrom(`COPY ${quote(table)} (${names.map(quote).join(', ')}) FROM STDIN WITH (FORMAT text)`),
  );
  // Written only once every row is formatted (a value that cannot be written sends nothing); the
  // stream frames the buffers into CopyData messages itself.
  for (const buffer of buffers) stream.write(buffer);
  stream.end();
  await once(stream, 'finish');
  return rows.length;
}

const BUFFERED_CHARS = 32 * 1024;

/** One field of COPY's text format: \N for NULL, and backslash escapes for the separators. */
export function copyField(value: unknown, type: PgType): string {
  if (value === undefined || value === null) return '\\N';
  let text: string;
  if (type === 'jsonb') text = JSON.stringify(value);
  else if (type.endsWith('[]')) {
    if (!Array.isArray(value)) throw new TypeError(`expected an array for a ${type} column`);
    text = arrayLiteral(value);
  } else if (value instanceof Date) {
    // A date column keeps the UTC calendar day; timestamps go as ISO 8601 with their zone.
    text = type === 'date' ? value.toISOString().slice(0, 10) : value.toISOString();
  } else if (typeof value === 'boolean') text = value ? 't' : 'f';
  else text = String(value);
  return ESCAPED.test(text) ? text.replace(ESCAPED_GLOBAL, escapeChar) : text;
}

const ESCAPED = /[\\\t\n\r]/;
const ESCAPED_GLOBAL = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const escapeChar = (char: string) => ESCAPES[char]!;
