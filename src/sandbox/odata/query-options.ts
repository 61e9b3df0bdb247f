/**
 * Query-string and Prefer-header parsing shared by the Dataverse and F&O handlers. Both run on ASP.NET,
 * which reads `+` in a query string as a space (clients that form-encode send `$filter=name+eq+'x'`);
 * a literal plus sign arrives as `%2B`.
 */
export interface RawQuery {
  /** Options in request order; names keep their case (`$select`). */
  options: Map<string, string>;
  /** The raw `name=value` parts, to rebuild nextLinks without re-encoding what the client sent. */
  parts: Array<{ name: string; raw: string }>;
}

export function parseRawQuery(search: string): RawQuery {
  const options = new Map<string, string>();
  const parts: RawQuery['parts'] = [];
  const text = search.startsWith('?') ? search.slice(1) : search;
  for (const part of text.split('&')) {
    if (part.length === 0) continue;
    const equals = part.indexOf('=');
    const rawName = equals === -1 ? part : part.slice(0, equals);
    const rawValue = equals === -1 ? '' : part.slice(equals + 1);
    const name = safeDecode(rawName.replaceAll('+', ' '));
    options.set(name, safeDecode(rawValue.replaceAll('+', ' ')));
    parts.push({ name, raw: part });
  }
  return { options, parts };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Splits on commas that are not inside parentheses or quotes: `a,b($select=c,d),e`. */
export function splitTopLevel(text: string, separator = ','): string[] {
  const items: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = '';
  for (const char of text) {
    if (char === "'" || char === '"') quoted = !quoted;
    if (!quoted && char === '(') depth++;
    if (!quoted && char === ')') depth--;
    if (!quoted && depth === 0 && char === separator) {
      items.push(current.trim());
      current = '';
      continue;
    }
    current += char;
  }
  if (current.trim().length > 0) items.push(current.trim());
  return items;
}

export interface Preferences {
  maxPageSize?: number;
  /** Raw annotation list of odata.include-annotations (without quotes), e.g. `*` or `a,b`. */
  includeAnnotations?: string;
  trackChanges: boolean;
}

/** Parses `Prefer: odata.track-changes,odata.maxpagesize=5000,odata.include-annotations="*"`. */
export function parsePrefer(header: string | undefined): Preferences {
  const preferences: Preferences = { trackChanges: false };
  if (!header) return preferences;
  for (const item of splitTopLevel(header)) {
    const [name = '', ...rest] = item.split('=');
    const value = rest
      .join('=')
      .trim()
      .replace(/^"(.*)"$/, '$1');
    switch (name.trim().toLowerCase()) {
      case 'odata.maxpagesize': {
        const size = Number.parseInt(value, 10);
        if (Number.isFinite(size) && size > 0) preferences.maxPageSize = size;
        break;
      }
      case 'odata.include-annotations':
        preferences.includeAnnotations = value;
        break;
      case 'odata.track-changes':
        preferences.trackChanges = true;
        break;
    }
  }
  return preferences;
}

/** Whether an annotation (e.g. `OData.Community.Display.V1.FormattedValue`) is in the requested list. */
export function annotationRequested(requested: string | undefined, annotation: string): boolean {
  if (!requested) return false;
  return requested.split(',').some((pattern) => {
    const trimmed = pattern.trim();
    if (trimmed === '*') return true;
    if (trimmed.endsWith('.*')) return annotation.startsWith(trimmed.slice(0, -1));
    return trimmed === annotation;
  });
}
