/**
 * OData $filter: a tokenizer and a recursive-descent parser producing a predicate over wire rows.
 * Grammar (the subset Dataverse and F&O clients use):
 *   expression := or ; or := and ('or' and)* ; and := unary ('and' unary)* ;
 *   unary := 'not' unary | primary ;
 *   primary := '(' expression ')' | function '(' property ',' literal ')' | operand comparator operand ;
 *   comparator := eq | ne | gt | ge | lt | le ; function := contains | startswith | endswith ;
 *   literal := 'string' ('' escapes a quote) | number | true | false | null | GUID | date | date-time
 *            | Namespace.EnumType'Member'.
 * String comparisons ignore case, as Dataverse's SQL collation does.
 */
export type FilterValueKind = 'string' | 'guid' | 'number' | 'boolean' | 'datetime' | 'date' | 'enum';

export interface FilterColumn {
  /** The row key the value is read from. */
  key: string;
  kind: FilterValueKind;
}

export type Predicate<Row> = (row: Row) => boolean;

export class FilterSyntaxError extends Error {}
export class FilterPropertyError extends Error {
  constructor(readonly property: string) {
    super(`Unknown property '${property}'`);
  }
}
export class FilterTypeError extends Error {}

type Token =
  | { type: 'identifier'; value: string; position: number }
  | { type: 'string'; value: string; position: number }
  | { type: 'number'; value: number; position: number }
  | { type: 'guid'; value: string; position: number }
  | { type: 'datetime'; value: string; position: number }
  | { type: 'date'; value: string; position: number }
  | { type: 'enum'; enumType: string; value: string; position: number }
  | { type: 'punctuation'; value: '(' | ')' | ','; position: number };

const guidPattern = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/;
const dateTimePattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})/;
const datePattern = /^\d{4}-\d{2}-\d{2}(?![\dT])/;
const numberPattern = /^-?\d+(\.\d+)?([eE][+-]?\d+)?[mMdDfFlL]?/;
/** A property, or a path through navigation properties (`primarycontactid/fullname`). */
const identifierPattern = /^[A-Za-z_][A-Za-z0-9_.]*(?:\/[A-Za-z_][A-Za-z0-9_.]*)*/;

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const char = text[i] as string;
    if (char === ' ' || char === '\t') {
      i++;
      continue;
    }
    const rest = text.slice(i);
    if (char === '(' || char === ')' || char === ',') {
      tokens.push({ type: 'punctuation', value: char, position: i });
      i++;
      continue;
    }
    if (char === "'") {
      const [value, end] = readQuoted(text, i);
      tokens.push({ type: 'string', value, position: i });
      i = end;
      continue;
    }
    const guid = guidPattern.exec(rest);
    if (guid && !/[0-9A-Za-z]/.test(rest[36] ?? '')) {
      tokens.push({ type: 'guid', value: guid[0].toLowerCase(), position: i });
      i += 36;
      continue;
    }
    const dateTime = dateTimePattern.exec(rest);
    if (dateTime) {
      tokens.push({ type: 'datetime', value: dateTime[0], position: i });
      i += dateTime[0].length;
      continue;
    }
    const date = datePattern.exec(rest);
    if (date) {
      tokens.push({ type: 'date', value: date[0], position: i });
      i += date[0].length;
      continue;
    }
    const number = numberPattern.exec(rest);
    if (number) {
      tokens.push({ type: 'number', value: Number.parseFloat(number[0]), position: i });
      i += number[0].length;
      continue;
    }
    const identifier = identifierPattern.exec(rest);
    if (identifier) {
      const name = identifier[0];
      if (text[i + name.length] === "'" && name.includes('.')) {
        const [value, end] = readQuoted(text, i + name.length);
        tokens.push({ type: 'enum', enumType: name, value, position: i });
        i = end;
        continue;
      }
      tokens.push({ type: 'identifier', value: name, position: i });
      i += name.length;
      continue;
    }
    throw new FilterSyntaxError(`Syntax error at position ${i} in '${text}'.`);
  }
  return tokens;
}

function readQuoted(text: string, start: number): [string, number] {
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    if (text[i] === "'") {
      if (text[i + 1] === "'") {
        value += "'";
        i += 2;
        continue;
      }
      return [value, i + 1];
    }
    value += text[i];
    i++;
  }
  throw new FilterSyntaxError(`There is an unterminated string literal at position ${start} in '${text}'.`);
}

type PropertyOperand = { type: 'property'; column: FilterColumn; name: string };
type LiteralOperand = {
  type: 'literal';
  kind: FilterValueKind | 'null';
  value: string | number | boolean | null;
};
type Operand = PropertyOperand | LiteralOperand;

const comparators = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
const functions = new Set(['contains', 'startswith', 'endswith']);

export interface FilterOptions {
  /** `firstname eq lastname`: Dataverse compares two columns of a row ("Column comparison"); F&O does not say it does. */
  columnComparison?: boolean;
  /**
   * Dataverse runs contains/startswith/endswith as SQL LIKE: `%`, `_`, `[abc]` and `[^abc]` in the value
   * are wildcards ("Use wildcard characters").
   */
  likeWildcards?: boolean;
}

export function parseFilter<Row extends Record<string, unknown>>(
  text: string,
  resolveColumn: (name: string) => FilterColumn | undefined,
  options: FilterOptions = {},
): Predicate<Row> {
  const tokens = tokenize(text);
  let index = 0;
  const peek = (): Token | undefined => tokens[index];
  const fail = (token?: Token): never => {
    throw new FilterSyntaxError(`Syntax error at position ${token?.position ?? text.length} in '${text}'.`);
  };
  const isKeyword = (token: Token | undefined, word: string): boolean =>
    token?.type === 'identifier' && token.value.toLowerCase() === word;
  const expectPunctuation = (value: '(' | ')' | ','): void => {
    const token = tokens[index];
    if (token?.type !== 'punctuation' || token.value !== value) fail(token);
    index++;
  };

  const parseOr = (): Predicate<Row> => {
    let left = parseAnd();
    while (isKeyword(peek(), 'or')) {
      index++;
      const right = parseAnd();
      const previous = left;
      left = (row) => previous(row) || right(row);
    }
    return left;
  };
  const parseAnd = (): Predicate<Row> => {
    let left = parseUnary();
    while (isKeyword(peek(), 'and')) {
      index++;
      const right = parseUnary();
      const previous = left;
      left = (row) => previous(row) && right(row);
    }
    return left;
  };
  const parseUnary = (): Predicate<Row> => {
    if (isKeyword(peek(), 'not')) {
      index++;
      const inner = parseUnary();
      return (row) => !inner(row);
    }
    return parsePrimary();
  };
  const parseOperand = (): Operand => {
    const token = tokens[index++];
    if (!token) return fail(token);
    switch (token.type) {
      case 'string':
        return { type: 'literal', kind: 'string', value: token.value };
      case 'number':
        return { type: 'literal', kind: 'number', value: token.value };
      case 'guid':
        return { type: 'literal', kind: 'guid', value: token.value };
      case 'datetime':
        return { type: 'literal', kind: 'datetime', value: normaliseDateTime(token.value) };
      case 'date':
        return { type: 'literal', kind: 'date', value: token.value };
      case 'enum':
        return { type: 'literal', kind: 'enum', value: token.value };
      case 'identifier': {
        const word = token.value.toLowerCase();
        if (word === 'null') return { type: 'literal', kind: 'null', value: null };
        if (word === 'true' || word === 'false')
          return { type: 'literal', kind: 'boolean', value: word === 'true' };
        const column = resolveColumn(token.value);
        if (!column) throw new FilterPropertyError(token.value);
        return { type: 'property', column, name: token.value };
      }
      default:
        return fail(token);
    }
  };
  const parsePrimary = (): Predicate<Row> => {
    const token = peek();
    if (token?.type === 'punctuation' && token.value === '(') {
      index++;
      const inner = parseOr();
      expectPunctuation(')');
      return inner;
    }
    const next = tokens[index + 1];
    if (
      token?.type === 'identifier' &&
      functions.has(token.value.toLowerCase()) &&
      next?.type === 'punctuation' &&
      next.value === '('
    ) {
      index++;
      expectPunctuation('(');
      const property = parseOperand();
      expectPunctuation(',');
      const literal = parseOperand();
      expectPunctuation(')');
      if (property.type !== 'property' || literal.type !== 'literal' || typeof literal.value !== 'string') {
        return fail(token);
      }
      return options.likeWildcards
        ? likeFunction(token.value.toLowerCase(), property, literal.value)
        : stringFunction(token.value.toLowerCase(), property, literal.value);
    }
    const left = parseOperand();
    const operator = tokens[index++];
    if (operator?.type !== 'identifier' || !comparators.has(operator.value.toLowerCase()))
      return fail(operator);
    const right = parseOperand();
    if (options.columnComparison && left.type === 'property' && right.type === 'property') {
      return columnComparison(left, operator.value.toLowerCase(), right);
    }
    return comparison(left, operator.value.toLowerCase(), right);
  };

  const predicate = parseOr();
  if (index < tokens.length) fail(tokens[index]);
  return predicate;
}

type LikeToken =
  | { type: 'any' }
  | { type: 'one' }
  | { type: 'set'; negated: boolean; test: (char: string) => boolean }
  | { type: 'char'; char: string };

/** A SQL LIKE pattern (`%`, `_`, `[a-c]`, `[^x]`), lower-cased, as tokens. */
function likeTokens(pattern: string): LikeToken[] {
  const tokens: LikeToken[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] as string;
    const set = char === '[' ? /^\[(\^?)([^\]]+)\]/.exec(pattern.slice(i)) : null;
    if (set) {
      const members = set[2] as string;
      const test = (candidate: string): boolean => {
        for (let j = 0; j < members.length; j++) {
          const low = members[j] as string;
          const high =
            members[j + 1] === '-' && j + 2 < members.length ? (members[j + 2] as string) : undefined;
          if (high !== undefined ? candidate >= low && candidate <= high : candidate === low) return true;
          if (high !== undefined) j += 2;
        }
        return false;
      };
      tokens.push({ type: 'set', negated: set[1] === '^', test });
      i += set[0].length - 1;
    } else if (char === '%') {
      if (tokens.at(-1)?.type !== 'any') tokens.push({ type: 'any' });
    } else if (char === '_') tokens.push({ type: 'one' });
    else tokens.push({ type: 'char', char });
  }
  return tokens;
}

/** Whether `text` matches the whole pattern: dynamic programming, linear in text × pattern (no backtracking). */
function likeMatches(tokens: LikeToken[], text: string): boolean {
  // reachable[j]: the first j tokens can match the text read so far.
  let reachable = new Array<boolean>(tokens.length + 1).fill(false);
  reachable[0] = true;
  for (let j = 0; j < tokens.length && tokens[j]?.type === 'any'; j++) reachable[j + 1] = true;
  for (const char of text) {
    const next = new Array<boolean>(tokens.length + 1).fill(false);
    for (let j = 0; j < tokens.length; j++) {
      const token = tokens[j] as LikeToken;
      if (token.type === 'any') {
        if (reachable[j] || reachable[j + 1]) next[j + 1] = true;
        continue;
      }
      if (!reachable[j]) continue;
      const matches =
        token.type === 'one' ||
        (token.type === 'char' && token.char === char) ||
        (token.type === 'set' && token.test(char) !== token.negated);
      if (matches) next[j + 1] = true;
    }
    // A trailing run of `%` matches the empty rest.
    for (let j = 0; j < tokens.length; j++) if (next[j] && tokens[j]?.type === 'any') next[j + 1] = true;
    reachable = next;
  }
  return reachable[tokens.length] === true;
}

/** contains/startswith/endswith as LIKE '%v%', 'v%', '%v', the value's own wildcards kept, ignoring case. */
function likeFunction<Row extends Record<string, unknown>>(
  name: string,
  property: PropertyOperand,
  needle: string,
): Predicate<Row> {
  const pattern = name === 'contains' ? `%${needle}%` : name === 'startswith' ? `${needle}%` : `%${needle}`;
  const tokens = likeTokens(pattern.toLowerCase());
  const key = property.column.key;
  return (row) => typeof row[key] === 'string' && likeMatches(tokens, (row[key] as string).toLowerCase());
}

function stringFunction<Row extends Record<string, unknown>>(
  name: string,
  property: PropertyOperand,
  needle: string,
): Predicate<Row> {
  const key = property.column.key;
  const lowered = needle.toLowerCase();
  const text = (row: Row): string | undefined =>
    typeof row[key] === 'string' ? (row[key] as string).toLowerCase() : undefined;
  if (name === 'contains') return (row) => text(row)?.includes(lowered) ?? false;
  if (name === 'startswith') return (row) => text(row)?.startsWith(lowered) ?? false;
  return (row) => text(row)?.endsWith(lowered) ?? false;
}

/** `2020-01-01T00:00Z` and offsets → `2020-01-01T00:00:00Z`, the form rows store, so strings compare. */
function normaliseDateTime(value: string): string {
  return `${new Date(value).toISOString().slice(0, 19)}Z`;
}

const edmName: Record<string, string> = {
  string: 'Edm.String',
  guid: 'Edm.Guid',
  number: 'Edm.Int32',
  boolean: 'Edm.Boolean',
  datetime: 'Edm.DateTimeOffset',
  date: 'Edm.Date',
  enum: 'Edm.Enum',
};
const operatorKind: Record<string, string> = {
  eq: 'Equal',
  ne: 'NotEqual',
  gt: 'GreaterThan',
  ge: 'GreaterThanOrEqual',
  lt: 'LessThan',
  le: 'LessThanOrEqual',
};

function compatible(column: FilterValueKind, literal: FilterValueKind | 'null'): boolean {
  if (literal === 'null' || column === literal) return true;
  if (column === 'guid' && literal === 'string') return true;
  if ((column === 'date' && literal === 'datetime') || (column === 'datetime' && literal === 'date'))
    return true;
  return column === 'enum' && literal === 'string';
}

const flippedOperator: Record<string, string> = {
  eq: 'eq',
  ne: 'ne',
  gt: 'lt',
  ge: 'le',
  lt: 'gt',
  le: 'ge',
};

/** Two columns of the same type; a null on either side matches nothing, as in SQL. */
function columnComparison<Row extends Record<string, unknown>>(
  left: PropertyOperand,
  operator: string,
  right: PropertyOperand,
): Predicate<Row> {
  if (left.column.kind !== right.column.kind) {
    throw new FilterTypeError(
      `A binary operator with incompatible types was detected. Found operand types '${edmName[left.column.kind]}' and '${edmName[right.column.kind]}' for operator kind '${operatorKind[operator]}'.`,
    );
  }
  const read = (row: Row, key: string): unknown => {
    const value = row[key];
    return typeof value === 'string' ? value.toLowerCase() : value;
  };
  const test: Record<string, (a: string | number, b: string | number) => boolean> = {
    eq: (a, b) => a === b,
    ne: (a, b) => a !== b,
    gt: (a, b) => a > b,
    ge: (a, b) => a >= b,
    lt: (a, b) => a < b,
    le: (a, b) => a <= b,
  };
  const compare = test[operator] as (a: string | number, b: string | number) => boolean;
  return (row) => {
    const a = read(row, left.column.key);
    const b = read(row, right.column.key);
    if (a === null || a === undefined || b === null || b === undefined) return false;
    return compare(a as string | number, b as string | number);
  };
}

function comparison<Row extends Record<string, unknown>>(
  left: Operand,
  operator: string,
  right: Operand,
): Predicate<Row> {
  // Normalise to "property op literal" (a literal on the left flips the operator).
  if (left.type === 'literal' && right.type === 'property') {
    return comparison(right, flippedOperator[operator] as string, left);
  }
  if (left.type !== 'property' || right.type !== 'literal') {
    throw new FilterTypeError('Comparisons between two properties or two literals are not supported.');
  }
  const { key, kind } = left.column;
  if (!compatible(kind, right.kind)) {
    throw new FilterTypeError(
      `A binary operator with incompatible types was detected. Found operand types '${edmName[kind]}' and '${edmName[right.kind]}' for operator kind '${operatorKind[operator]}'.`,
    );
  }
  if (right.value === null) {
    if (operator === 'eq') return (row) => row[key] === null || row[key] === undefined;
    if (operator === 'ne') return (row) => row[key] !== null && row[key] !== undefined;
    return () => false;
  }
  let value: string | number | boolean = right.value;
  let read = (row: Row): unknown => row[key];
  if (kind === 'string' || kind === 'guid' || kind === 'enum') {
    value = String(value).toLowerCase();
    read = (row) => (typeof row[key] === 'string' ? (row[key] as string).toLowerCase() : row[key]);
  } else if (kind === 'date' && right.kind === 'datetime') {
    value = String(value).slice(0, 10);
  } else if (kind === 'datetime' && right.kind === 'date') {
    value = `${value}T00:00:00Z`;
  }
  const literal = value;
  if (operator === 'eq') return (row) => read(row) === literal;
  if (operator === 'ne') return (row) => read(row) !== literal;
  const ordered = (
    test: (current: string | number, expected: string | number) => boolean,
  ): Predicate<Row> => {
    return (row) => {
      const current = read(row);
      return (
        current !== null &&
        current !== undefined &&
        test(current as string | number, literal as string | number)
      );
    };
  };
  if (operator === 'gt') return ordered((current, expected) => current > expected);
  if (operator === 'ge') return ordered((current, expected) => current >= expected);
  if (operator === 'lt') return ordered((current, expected) => current < expected);
  return ordered((current, expected) => current <= expected);
}
