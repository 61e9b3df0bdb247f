import type { ColumnDefinition } from './catalog.js';
import { dataverseErrors } from './errors.js';
import { columnValue } from './values.js';

/**
 * What Dataverse adds to OData's `$filter` grammar (docs/microsoft-wire.md, "Filter functions and
 * aliases"), rewritten into plain comparisons the shared parser evaluates:
 * - parameter aliases: `$filter=Microsoft.Dynamics.CRM.In(PropertyName=@p1,PropertyValues=@p2)&@p1='lastname'&@p2=["a","b"]`;
 * - the query functions `In`, `NotIn`, `Between`, `NotBetween`, `On`, `OnOrAfter`, `OnOrBefore`, `Today`,
 *   `Yesterday`, `Tomorrow`, `LastXDays`/`Hours`, `NextXDays`/`Hours`, `OlderThanXDays`/`Hours`/`Minutes`
 *   (`PropertyName='col'`, `PropertyValue=…` or `PropertyValues=[…]`). Other Dataverse functions (fiscal
 *   periods, user and hierarchy functions) are refused by name.
 * Dates are UTC days [infer: Dataverse evaluates them in the caller's time zone].
 */
const prefix = 'Microsoft.Dynamics.CRM.';
const dayMs = 86_400_000;
const hourMs = 3_600_000;

/** Replaces `@name` outside quoted strings by the alias's value from the query string. */
export function substituteAliases(text: string, aliases: ReadonlyMap<string, string>): string {
  let result = '';
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (quote) {
      result += char;
      if (char === quote) quote = undefined;
      continue;
    }
    if (char === "'" || char === '"') {
      quote = char;
      result += char;
      continue;
    }
    const alias = char === '@' ? /^@[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))?.[0] : undefined;
    if (alias) {
      const value = aliases.get(alias);
      if (value === undefined) throw dataverseErrors.badQuery(`The parameter alias '${alias}' has no value.`);
      result += value;
      i += alias.length - 1;
      continue;
    }
    result += char;
  }
  return result;
}

interface FunctionCall {
  name: string;
  /** PropertyName, PropertyValue, PropertyValues: strings, numbers or arrays of them, as written. */
  parameters: Map<string, unknown>;
  start: number;
  end: number;
}

/** Reads `Name(key=value,…)` starting at `start` (just after the prefix). */
function readCall(text: string, start: number): FunctionCall {
  const name = /^[A-Za-z0-9]+/.exec(text.slice(start))?.[0] ?? '';
  let i = start + name.length;
  if (text[i] !== '(') throw dataverseErrors.badQuery(`Expected '(' after ${prefix}${name} in '${text}'.`);
  i++;
  const parameters = new Map<string, unknown>();
  const fail = (): never => {
    throw dataverseErrors.badQuery(`Invalid parameters of ${prefix}${name} in '${text}'.`);
  };
  while (text[i] !== ')') {
    const key = /^\s*([A-Za-z0-9]+)\s*=\s*/.exec(text.slice(i));
    if (!key) return fail();
    i += key[0].length;
    const [value, next] = readValue(text, i, fail);
    parameters.set(key[1] as string, value);
    i = next;
    while (text[i] === ' ') i++;
    if (text[i] === ',') i++;
    else if (text[i] !== ')') return fail();
  }
  return { name, parameters, start: start - prefix.length, end: i + 1 };
}

/** A quoted string ('…' with '' escapes, or "…"), a JSON-like array of them, or a bare number. */
function readValue(text: string, start: number, fail: () => never): [unknown, number] {
  const char = text[start];
  if (char === "'" || char === '"') {
    let value = '';
    let i = start + 1;
    for (;;) {
      if (i >= text.length) return fail();
      if (text[i] === char) {
        if (char === "'" && text[i + 1] === "'") {
          value += "'";
          i += 2;
          continue;
        }
        return [value, i + 1];
      }
      value += text[i];
      i++;
    }
  }
  if (char === '[') {
    const values: unknown[] = [];
    let i = start + 1;
    while (text[i] !== ']') {
      while (text[i] === ' ') i++;
      const [value, next] = readValue(text, i, fail);
      values.push(value);
      i = next;
      while (text[i] === ' ') i++;
      if (text[i] === ',') i++;
      else if (text[i] !== ']') return fail();
    }
    return [values, i + 1];
  }
  const bare = /^[^,)\]\s]+/.exec(text.slice(start))?.[0];
  if (!bare) return fail();
  return [bare, start + bare.length];
}

/** A value written as a literal of the column's type in the rewritten expression. */
function literal(column: ColumnDefinition, value: unknown): string {
  const checked = columnValue(column, value);
  if (checked === null) return 'null';
  if (column.kind === 'String' || column.kind === 'Memo') return `'${String(checked).replaceAll("'", "''")}'`;
  return String(checked);
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function isoInstant(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/** `[from, to)` on the column, as a date or an instant depending on its kind. */
function range(
  property: string,
  column: ColumnDefinition,
  from: number | undefined,
  to: number | undefined,
): string {
  const dateOnly = column.kind === 'DateOnly';
  const format = (ms: number) => (dateOnly ? isoDay(ms) : isoInstant(ms));
  const parts: string[] = [];
  if (from !== undefined) parts.push(`${property} ge ${format(from)}`);
  // Rows hold whole seconds: an end inside a second takes that whole second in.
  if (to !== undefined) {
    const end = dateOnly ? `le ${isoDay(to - 1)}` : `lt ${isoInstant(Math.ceil(to / 1000) * 1000)}`;
    parts.push(`${property} ${end}`);
  }
  return `(${parts.join(' and ')})`;
}

function rewrite(
  call: FunctionCall,
  resolve: (name: string) => ColumnDefinition | undefined,
  now: Date,
): string {
  const property = call.parameters.get('PropertyName');
  if (typeof property !== 'string') {
    throw dataverseErrors.badQuery(`${prefix}${call.name} needs a PropertyName.`);
  }
  const column = resolve(property);
  if (!column) throw dataverseErrors.badQuery(`Could not find a property named '${property}'.`);
  const values = call.parameters.get('PropertyValues');
  const value = call.parameters.get('PropertyValue');
  const list = (): unknown[] => {
    if (!Array.isArray(values) || values.length === 0) {
      throw dataverseErrors.badQuery(`${prefix}${call.name} needs PropertyValues.`);
    }
    return values;
  };
  const count = (): number => {
    const number = Number(value);
    if (!Number.isInteger(number) || number < 0) {
      throw dataverseErrors.badQuery(`${prefix}${call.name} needs a whole PropertyValue.`);
    }
    return number;
  };
  const day = (): number => {
    const parsed = Date.parse(String(value).slice(0, 10));
    if (Number.isNaN(parsed))
      throw dataverseErrors.badQuery(`${prefix}${call.name} needs a date PropertyValue.`);
    return parsed;
  };
  const today = Math.floor(now.getTime() / dayMs) * dayMs;
  const instant = now.getTime();
  switch (call.name) {
    case 'In':
      return `(${list()
        .map((item) => `${property} eq ${literal(column, item)}`)
        .join(' or ')})`;
    case 'NotIn':
      return `not (${list()
        .map((item) => `${property} eq ${literal(column, item)}`)
        .join(' or ')})`;
    case 'Between':
    case 'NotBetween': {
      const [low, high] = list();
      if (low === undefined || high === undefined) {
        throw dataverseErrors.badQuery(`${prefix}${call.name} needs two PropertyValues.`);
      }
      const inside = `(${property} ge ${literal(column, low)} and ${property} le ${literal(column, high)})`;
      return call.name === 'Between' ? inside : `not ${inside}`;
    }
    case 'On':
      return range(property, column, day(), day() + dayMs);
    case 'OnOrAfter':
      return range(property, column, day(), undefined);
    case 'OnOrBefore':
      return range(property, column, undefined, day() + dayMs);
    case 'Today':
      return range(property, column, today, today + dayMs);
    case 'Yesterday':
      return range(property, column, today - dayMs, today);
    case 'Tomorrow':
      return range(property, column, today + dayMs, today + 2 * dayMs);
    case 'LastXDays':
      return range(property, column, today - count() * dayMs, instant + 1);
    case 'NextXDays':
      return range(property, column, instant, today + (count() + 1) * dayMs);
    case 'LastXHours':
      return range(property, column, instant - count() * hourMs, instant + 1);
    case 'NextXHours':
      return range(property, column, instant, instant + count() * hourMs);
    case 'OlderThanXDays':
      return range(property, column, undefined, instant - count() * dayMs);
    case 'OlderThanXHours':
      return range(property, column, undefined, instant - count() * hourMs);
    case 'OlderThanXMinutes':
      return range(property, column, undefined, instant - count() * 60_000);
    default:
      throw dataverseErrors.badQuery(
        `The sandbox does not evaluate the query function ${prefix}${call.name}.`,
      );
  }
}

/** The filter with every `Microsoft.Dynamics.CRM.*(…)` call replaced by its plain-OData equivalent. */
export function expandQueryFunctions(
  text: string,
  resolve: (name: string) => ColumnDefinition | undefined,
  now: Date,
): string {
  let result = '';
  let i = 0;
  let quote: string | undefined;
  while (i < text.length) {
    const char = text[i] as string;
    if (quote) {
      if (char === quote) quote = undefined;
      result += char;
      i++;
      continue;
    }
    if (char === "'") {
      quote = char;
      result += char;
      i++;
      continue;
    }
    if (text.startsWith(prefix, i)) {
      const call = readCall(text, i + prefix.length);
      result += rewrite(call, resolve, now);
      i = call.end;
      continue;
    }
    result += char;
    i++;
  }
  return result;
}
