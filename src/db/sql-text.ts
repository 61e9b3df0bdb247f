/** Small pieces of SQL text shared by the bulk writers (bulk-upsert.ts, copy-rows.ts). */

export function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

/**
 * A SQL string literal (quotes doubled; backslashes are plain characters under
 * standard_conforming_strings, PostgreSQL's default since 9.1). For names and values a checked
 * definition puts in generated SQL; values from the source stay parameters.
 */
export function stringLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
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
