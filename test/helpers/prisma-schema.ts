import { readFileSync } from 'node:fs';

/**
 * A small parser for prisma/schema.prisma in this project's style, producing what the database
 * should contain: tables with columns (PostgreSQL type as format_type() prints it, nullability),
 * primary keys, unique and plain indexes under Prisma's default names, and enums.
 * It covers the attributes the schema uses (@id @unique @default @map @db.X @updatedAt @relation,
 * @@map @@id @@unique @@index with map:) and fails loudly on anything else.
 */
export interface ExpectedColumn {
  name: string;
  type: string;
  nullable: boolean;
}
export interface ExpectedIndex {
  name: string;
  columns: string[];
  unique: boolean;
  primary: boolean;
}
export interface ExpectedTable {
  model: string;
  name: string;
  columns: ExpectedColumn[];
  indexes: ExpectedIndex[];
}
export interface ExpectedSchema {
  tables: ExpectedTable[];
  /** Database enum name → values in order. */
  enums: Map<string, string[]>;
}

interface Block {
  kind: 'model' | 'enum';
  name: string;
  lines: string[];
}

const SCALARS: Record<string, string> = {
  String: 'text',
  Boolean: 'boolean',
  Int: 'integer',
  BigInt: 'bigint',
  Float: 'double precision',
  Decimal: 'numeric(65,30)',
  DateTime: 'timestamp(3) without time zone',
  Json: 'jsonb',
  Bytes: 'bytea',
};

/** @db.X attributes → format_type() spelling. */
function nativeType(attribute: string): string {
  const match = /^@db\.(\w+)(?:\(([^)]*)\))?$/.exec(attribute);
  if (!match) throw new Error(`unparsed native type ${attribute}`);
  const [, name, args] = match;
  const params = args?.replace(/\s+/g, '');
  switch (name) {
    case 'Uuid':
      return 'uuid';
    case 'Text':
      return 'text';
    case 'Date':
      return 'date';
    case 'Timestamptz':
      return `timestamp(${params ?? '6'}) with time zone`;
    case 'Timestamp':
      return `timestamp(${params ?? '6'}) without time zone`;
    case 'Decimal':
      return `numeric(${params})`;
    case 'VarChar':
      return params ? `character varying(${params})` : 'character varying';
    case 'Integer':
      return 'integer';
    case 'SmallInt':
      return 'smallint';
    case 'BigInt':
      return 'bigint';
    case 'JsonB':
      return 'jsonb';
    case 'Json':
      return 'json';
    default:
      throw new Error(`unsupported native type ${attribute}`);
  }
}

function blocks(source: string): Block[] {
  const result: Block[] = [];
  let current: Block | null = null;
  for (const raw of source.split('\n')) {
    const line = raw.replace(/\/\/.*$/, '').trim();
    if (!line) continue;
    const open = /^(model|enum|generator|datasource)\s+(\w+)\s*\{$/.exec(line);
    if (open) {
      current = { kind: open[1] as Block['kind'], name: open[2]!, lines: [] };
      if (open[1] === 'model' || open[1] === 'enum') result.push(current);
      continue;
    }
    if (line === '}') {
      current = null;
      continue;
    }
    current?.lines.push(line);
  }
  return result;
}

/** Splits attributes at top level: `@default(now()) @map("x")` → ['@default(now())', '@map("x")']. */
function attributes(text: string): string[] {
  const result: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of text) {
    if (char === '(') depth++;
    if (char === ')') depth--;
    if (char === '@' && depth === 0 && current.trim() && !current.endsWith('@')) {
      result.push(current.trim());
      current = '';
    }
    current += char;
  }
  if (current.trim()) result.push(current.trim());
  return result;
}

function stringArg(attribute: string): string {
  const match = /"([^"]+)"/.exec(attribute);
  if (!match) throw new Error(`no string argument in ${attribute}`);
  return match[1]!;
}

function fieldList(attribute: string): string[] {
  const match = /\[([^\]]*)\]/.exec(attribute);
  if (!match) throw new Error(`no field list in ${attribute}`);
  return match[1]!.split(',').map((field) => field.trim().replace(/\(.*\)$/, ''));
}

export function parsePrismaSchema(path: string): ExpectedSchema {
  const all = blocks(readFileSync(path, 'utf8'));
  const enums = new Map<string, { dbName: string; values: string[] }>();
  for (const block of all.filter((entry) => entry.kind === 'enum')) {
    const map = block.lines.find((line) => line.startsWith('@@map'));
    const values = block.lines.filter((line) => !line.startsWith('@@')).map((line) => line.split(/\s+/)[0]!);
    enums.set(block.name, { dbName: map ? stringArg(map) : block.name, values });
  }
  const models = all.filter((entry) => entry.kind === 'model');
  const modelNames = new Set(models.map((model) => model.name));
  const tables: ExpectedTable[] = [];

  for (const model of models) {
    const tableMap = model.lines.find((line) => line.startsWith('@@map'));
    const table = tableMap ? stringArg(tableMap) : model.name;
    const columns: ExpectedColumn[] = [];
    const columnOf = new Map<string, string>();
    const indexes: ExpectedIndex[] = [];
    for (const line of model.lines.filter((entry) => !entry.startsWith('@@'))) {
      const match = /^(\w+)\s+(\w+)(\[\])?(\?)?\s*(.*)$/.exec(line);
      if (!match) throw new Error(`unparsed field in ${model.name}: ${line}`);
      const [, field, type, list, optional, rest] = match;
      if (modelNames.has(type!)) continue; // a relation: no column of its own
      const attrs = attributes(rest ?? '');
      for (const attr of attrs) {
        if (!/^@(id|unique|default|map|db\.\w+|updatedAt|relation)\b/.test(attr)) {
          throw new Error(`unsupported attribute ${attr} on ${model.name}.${field}`);
        }
      }
      const mapAttr = attrs.find((attr) => attr.startsWith('@map('));
      const name = mapAttr ? stringArg(mapAttr) : field!;
      columnOf.set(field!, name);
      const native = attrs.find((attr) => attr.startsWith('@db.'));
      const enumType = enums.get(type!);
      let pgType = native ? nativeType(native) : enumType ? enumType.dbName : SCALARS[type!];
      if (!pgType) throw new Error(`unknown type ${type} on ${model.name}.${field}`);
      if (list) pgType = `${pgType}[]`;
      // Prisma leaves scalar lists nullable in its DDL.
      columns.push({ name, type: pgType, nullable: !!optional || !!list });
      if (attrs.includes('@id'))
        indexes.push({ name: `${table}_pkey`, columns: [name], unique: true, primary: true });
      if (attrs.includes('@unique')) {
        indexes.push({ name: `${table}_${name}_key`, columns: [name], unique: true, primary: false });
      }
    }
    for (const line of model.lines.filter((entry) => entry.startsWith('@@'))) {
      const kind = /^@@(\w+)/.exec(line)![1];
      if (kind === 'map') continue;
      if (kind !== 'id' && kind !== 'unique' && kind !== 'index') {
        throw new Error(`unsupported block attribute ${line} in ${model.name}`);
      }
      const fields = fieldList(line).map((field) => {
        const column = columnOf.get(field);
        if (!column) throw new Error(`${model.name}: ${line} names unknown field ${field}`);
        return column;
      });
      const mapped = /map:\s*"([^"]+)"/.exec(line)?.[1];
      const suffix = kind === 'id' ? 'pkey' : kind === 'unique' ? 'key' : 'idx';
      const name = mapped ?? (kind === 'id' ? `${table}_pkey` : `${table}_${fields.join('_')}_${suffix}`);
      indexes.push({ name, columns: fields, unique: kind !== 'index', primary: kind === 'id' });
    }
    tables.push({ model: model.name, name: table, columns, indexes });
  }
  return {
    tables,
    enums: new Map([...enums.values()].map((entry) => [entry.dbName, entry.values])),
  };
}

interface Queryable {
  query<R extends object>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

/** What the database has, in the same shape (public schema, without Prisma's bookkeeping table). */
export async function readDatabaseSchema(db: Queryable): Promise<ExpectedSchema> {
  const columns = await db.query<{ table: string; name: string; type: string; nullable: boolean }>(`
    SELECT c.relname AS table, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
           NOT a.attnotnull AS nullable
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
      AND c.relname <> '_prisma_migrations'
    ORDER BY c.relname, a.attnum`);
  const indexes = await db.query<{
    table: string;
    name: string;
    columns: string[];
    unique: boolean;
    primary: boolean;
  }>(`
    SELECT t.relname AS table, i.relname AS name, x.indisunique AS unique, x.indisprimary AS primary,
           array(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(attnum, position)
                 JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.position)::text[] AS columns
    FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE n.nspname = 'public' AND t.relname <> '_prisma_migrations'`);
  const enums = await db.query<{ name: string; values: string[] }>(`
    SELECT t.typname AS name, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text[] AS values
    FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = 'public' GROUP BY t.typname`);
  const tables = new Map<string, ExpectedTable>();
  const tableOf = (name: string) => {
    let table = tables.get(name);
    if (!table) {
      table = { model: name, name, columns: [], indexes: [] };
      tables.set(name, table);
    }
    return table;
  };
  for (const column of columns.rows) tableOf(column.table).columns.push(column);
  for (const index of indexes.rows) tableOf(index.table).indexes.push(index);
  return { tables: [...tables.values()], enums: new Map(enums.rows.map((row) => [row.name, row.values])) };
}

/** Every difference between schema.prisma and the database, one sentence each (empty when equal). */
export function compareSchemas(expected: ExpectedSchema, actual: ExpectedSchema): string[] {
  const problems: string[] = [];
  const actualTables = new Map(actual.tables.map((table) => [table.name, table]));
  const expectedNames = new Set(expected.tables.map((table) => table.name));
  for (const table of actual.tables) {
    if (!expectedNames.has(table.name))
      problems.push(`table ${table.name} is in the database but not in schema.prisma`);
  }
  for (const table of expected.tables) {
    const found = actualTables.get(table.name);
    if (!found) {
      problems.push(`table ${table.name} (model ${table.model}) is missing from the database`);
      continue;
    }
    const columns = new Map(found.columns.map((column) => [column.name, column]));
    for (const column of table.columns) {
      const other = columns.get(column.name);
      if (!other) {
        problems.push(`${table.name}.${column.name} is missing from the database`);
        continue;
      }
      if (other.type !== column.type) {
        problems.push(
          `${table.name}.${column.name} is ${other.type} in the database, ${column.type} in schema.prisma`,
        );
      }
      if (other.nullable !== column.nullable) {
        problems.push(
          `${table.name}.${column.name} is ${other.nullable ? 'nullable' : 'NOT NULL'} in the database, ` +
            `${column.nullable ? 'nullable' : 'NOT NULL'} in schema.prisma`,
        );
      }
    }
    const declared = new Set(table.columns.map((column) => column.name));
    for (const column of found.columns) {
      if (!declared.has(column.name))
        problems.push(`${table.name}.${column.name} is in the database but not in schema.prisma`);
    }
    const indexes = new Map(found.indexes.map((index) => [index.name, index]));
    const describe = (index: ExpectedIndex) =>
      `${index.primary ? 'primary key' : index.unique ? 'unique index' : 'index'} (${index.columns.join(', ')})`;
    for (const index of table.indexes) {
      const other = indexes.get(index.name);
      if (!other) {
        problems.push(`${table.name}: ${describe(index)} named ${index.name} is missing from the database`);
      } else if (describe(other) !== describe(index)) {
        problems.push(
          `${table.name}: ${index.name} is ${describe(other)} in the database, ${describe(index)} in schema.prisma`,
        );
      }
    }
    const declaredIndexes = new Set(table.indexes.map((index) => index.name));
    for (const index of found.indexes) {
      if (!declaredIndexes.has(index.name)) {
        problems.push(
          `${table.name}: ${describe(index)} named ${index.name} is in the database but not in schema.prisma`,
        );
      }
    }
  }
  for (const [name, values] of expected.enums) {
    const other = actual.enums.get(name);
    if (!other) problems.push(`enum ${name} is missing from the database`);
    else if (other.join(',') !== values.join(',')) {
      problems.push(
        `enum ${name} has (${other.join(', ')}) in the database, (${values.join(', ')}) in schema.prisma`,
      );
    }
  }
  for (const name of actual.enums.keys()) {
    if (!expected.enums.has(name)) problems.push(`enum ${name} is in the database but not in schema.prisma`);
  }
  return problems;
}
