/** Small pieces of SQL text shared by the bulk writers (bulk-upsert.ts, copy-rows.ts). */

export function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

/** A one-dimensional PostgreSQL array literal: {"A","B",NULL}. */
export function arrayLiteral(values: unknown[]): string {
  const items = values.map((item) =>
    item === null || item === undefined
      ? 'NULL'
      : `"${String(item).replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`,
  );
  return `{${items.join(',')}}`;
}
