import { odataJsonContentType, type SandboxResponse } from '../http/types.js';
import { annotationRequested } from '../odata/query-options.js';
import { type ColumnDefinition, wireName } from './catalog.js';
import { buildFilter, type CollectionRequest, compareValues, maxPageSize } from './collection.js';
import { dataverseErrors } from './errors.js';
import { encodeQueryValue } from './paging.js';
import { planProjection, projectRow } from './projection.js';
import type { DataverseRow } from './table-store.js';

/**
 * `GET /{set}?fetchXml=…` ("Use FetchXml to query data", "Page results using FetchXml";
 * docs/microsoft-wire.md): the sandbox reads a subset of FetchXML — one `entity` with `attribute` /
 * `all-attributes`, `order`, nested `filter`s of `condition`s (eq, ne, neq, gt, ge, lt, le, null,
 * not-null, like, not-like, begins-with, ends-with, in, not-in), and `fetch` `count`, `page`, `top`,
 * `paging-cookie`. Anything else (link-entity, aggregates) is refused by name rather than ignored.
 * Pages are found by page number (simple paging); the paging cookie has Microsoft's shape and is
 * returned, with `morerecords`, when requested through `Prefer: odata.include-annotations`.
 */
interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

function decodeEntities(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)))
    .replace(/&#x([0-9a-f]+);/gi, (_, code: string) => String.fromCodePoint(Number.parseInt(code, 16)))
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&apos;', "'")
    .replaceAll('&amp;', '&');
}

function parseXml(xml: string): XmlElement {
  const root: XmlElement = { name: '#root', attributes: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  const tag =
    /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+\s*=\s*(?:'[^']*'|"[^"]*"))*)\s*(\/?)>|<\?[^>]*\?>|<!--[\s\S]*?-->/g;
  let last = 0;
  for (let match = tag.exec(xml); match; match = tag.exec(xml)) {
    const parent = stack[stack.length - 1] as XmlElement;
    parent.text += xml.slice(last, match.index);
    last = tag.lastIndex;
    const [, closing, name, attributeText, selfClosing] = match;
    if (!name) continue;
    if (closing) {
      if (parent.name !== name) throw dataverseErrors.badQuery(`Invalid FetchXml: unexpected </${name}>.`);
      stack.pop();
      continue;
    }
    const attributes: Record<string, string> = {};
    for (const attribute of (attributeText ?? '').matchAll(/([\w:-]+)\s*=\s*(?:'([^']*)'|"([^"]*)")/g)) {
      attributes[(attribute[1] as string).toLowerCase()] = decodeEntities(attribute[2] ?? attribute[3] ?? '');
    }
    const element: XmlElement = { name: name.toLowerCase(), attributes, children: [], text: '' };
    parent.children.push(element);
    if (!selfClosing) stack.push(element);
  }
  if (stack.length !== 1) throw dataverseErrors.badQuery('Invalid FetchXml: an element is not closed.');
  const fetch = root.children[0];
  if (fetch?.name !== 'fetch')
    throw dataverseErrors.badQuery('Invalid FetchXml: the root element must be <fetch>.');
  return fetch;
}

function quote(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** A condition value as an OData literal of the column's type, so the $filter engine evaluates it. */
function literal(column: ColumnDefinition, value: string): string {
  switch (column.kind) {
    case 'String':
    case 'Memo':
      return quote(value);
    case 'Uniqueidentifier':
    case 'Lookup':
    case 'Owner':
      return value.replace(/[{}]/g, '');
    default:
      return value;
  }
}

function conditionFilter(request: CollectionRequest, condition: XmlElement): string {
  const { definition } = request.table;
  const name = condition.attributes.attribute ?? '';
  const column = definition.columns.find((candidate) => candidate.logicalName === name);
  if (!column) throw dataverseErrors.unknownProperty(name, definition.logicalName);
  const key = wireName(column);
  const operator = condition.attributes.operator ?? '';
  const value = condition.attributes.value ?? '';
  const values = condition.children
    .filter((child) => child.name === 'value')
    .map((child) => decodeEntities(child.text));
  const comparisons: Record<string, string> = {
    eq: 'eq',
    ne: 'ne',
    neq: 'ne',
    gt: 'gt',
    ge: 'ge',
    lt: 'lt',
    le: 'le',
  };
  if (comparisons[operator]) return `${key} ${comparisons[operator]} ${literal(column, value)}`;
  const like = (pattern: string): string => {
    const starts = pattern.startsWith('%');
    const ends = pattern.endsWith('%');
    const text = quote(pattern.replace(/^%|%$/g, ''));
    if (starts && ends) return `contains(${key},${text})`;
    if (ends) return `startswith(${key},${text})`;
    if (starts) return `endswith(${key},${text})`;
    return `${key} eq ${text}`;
  };
  switch (operator) {
    case 'null':
      return `${key} eq null`;
    case 'not-null':
      return `${key} ne null`;
    case 'like':
      return like(value);
    case 'not-like':
      return `not ${like(value)}`;
    case 'begins-with':
      return `startswith(${key},${quote(value)})`;
    case 'ends-with':
      return `endswith(${key},${quote(value)})`;
    case 'in':
    case 'not-in': {
      if (values.length === 0)
        throw dataverseErrors.badQuery(`The '${operator}' condition on '${name}' has no values.`);
      const any = `(${values.map((item) => `${key} eq ${literal(column, item)}`).join(' or ')})`;
      return operator === 'in' ? any : `not ${any}`;
    }
    default:
      throw dataverseErrors.badQuery(
        `The sandbox does not support the FetchXml condition operator '${operator}'.`,
      );
  }
}

/** The filter as an OData `$filter` expression (undefined when it holds no condition). */
function filterText(request: CollectionRequest, filter: XmlElement): string | undefined {
  const joiner = (filter.attributes.type ?? 'and') === 'or' ? ' or ' : ' and ';
  const parts = filter.children
    .map((child) => {
      if (child.name === 'condition') return conditionFilter(request, child);
      if (child.name === 'filter') return filterText(request, child);
      throw dataverseErrors.badQuery(
        `The sandbox does not support <${child.name}> inside a FetchXml filter.`,
      );
    })
    .filter((part): part is string => part !== undefined);
  return parts.length === 0 ? undefined : `(${parts.join(joiner)})`;
}

function positiveInt(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number.parseInt(text, 10);
  if (!Number.isFinite(value) || value < 1)
    throw dataverseErrors.badQuery(`The fetch attribute '${name}' must be a positive number.`);
  return value;
}

const braced = (value: unknown): string =>
  typeof value === 'string' ? `{${value.toUpperCase()}}` : String(value ?? '');
const xmlAttribute = (value: unknown): string =>
  String(value ?? '').replace(/[<>&"]/g, (char) => `&#${char.charCodeAt(0)};`);

export function handleFetchXml(request: CollectionRequest, xml: string): SandboxResponse {
  const fetch = parseXml(xml);
  const { table, environment, preferences } = request;
  const entity = fetch.children.find((child) => child.name === 'entity');
  if (!entity || entity.attributes.name !== table.definition.logicalName) {
    throw dataverseErrors.badQuery(
      `The FetchXml entity '${entity?.attributes.name ?? ''}' is not the table of '${table.definition.entitySetName}'.`,
    );
  }
  for (const child of entity.children) {
    if (!['attribute', 'all-attributes', 'order', 'filter'].includes(child.name)) {
      throw dataverseErrors.badQuery(`The sandbox does not support <${child.name}> in FetchXml.`);
    }
  }
  if (fetch.attributes.aggregate === 'true')
    throw dataverseErrors.badQuery('The sandbox does not support FetchXml aggregates.');
  const attributes = entity.children
    .filter((child) => child.name === 'attribute')
    .map((child) => child.attributes.name ?? '');
  const all = attributes.length === 0 || entity.children.some((child) => child.name === 'all-attributes');
  const columns = attributes.map((name) => {
    const column = table.definition.columns.find((candidate) => candidate.logicalName === name);
    if (!column) throw dataverseErrors.unknownProperty(name, table.definition.logicalName);
    return column;
  });
  const plan = planProjection(
    environment,
    table,
    all ? undefined : columns.map(wireName).join(','),
    undefined,
    preferences.includeAnnotations,
  );
  const filters = entity.children
    .filter((child) => child.name === 'filter')
    .map((filter) => filterText(request, filter))
    .filter((text): text is string => text !== undefined);
  const predicate = filters.length > 0 ? buildFilter(table, filters.join(' and ')) : undefined;
  const orders = entity.children
    .filter((child) => child.name === 'order')
    .map((order) => {
      const name = order.attributes.attribute ?? '';
      const column = table.definition.columns.find((candidate) => candidate.logicalName === name);
      if (!column) throw dataverseErrors.unknownProperty(name, table.definition.logicalName);
      return { key: wireName(column), descending: order.attributes.descending === 'true' };
    });
  const keyColumn = table.store.keyColumn;
  const compare = (a: DataverseRow, b: DataverseRow): number => {
    for (const { key, descending } of [...orders, { key: keyColumn, descending: false }]) {
      const result = compareValues(a[key], b[key]);
      if (result !== 0) return descending ? -result : result;
    }
    return 0;
  };
  let rows = (predicate ? table.store.rows().filter(predicate) : [...table.store.rows()]).sort(compare);
  const top = positiveInt(fetch.attributes.top, 'top');
  if (top !== undefined) rows = rows.slice(0, top);
  const count = Math.min(positiveInt(fetch.attributes.count, 'count') ?? maxPageSize, maxPageSize);
  const page = positiveInt(fetch.attributes.page, 'page') ?? 1;
  const pageRows = rows.slice((page - 1) * count, page * count);
  const more = page * count < rows.length;

  const body: Record<string, unknown> = {
    '@odata.context': `${environment.serviceRoot}$metadata#${table.definition.entitySetName}${plan.contextSelect ? `(${plan.contextSelect})` : ''}`,
  };
  const wantCookie = annotationRequested(
    preferences.includeAnnotations,
    'Microsoft.Dynamics.CRM.fetchxmlpagingcookie',
  );
  const wantMore = annotationRequested(preferences.includeAnnotations, 'Microsoft.Dynamics.CRM.morerecords');
  const first = pageRows[0];
  const last = pageRows[pageRows.length - 1];
  if (more && first && last) {
    // Microsoft's shape: the order columns' and the key's last/first values, the served page inside,
    // the next page outside, the inner cookie URL-encoded twice.
    const elements = [...orders.map(({ key }) => key), keyColumn]
      .map((key) => {
        const format = key === keyColumn ? braced : (value: unknown) => String(value ?? '');
        return `<${key} last="${xmlAttribute(format(last[key]))}" first="${xmlAttribute(format(first[key]))}" />`;
      })
      .join('');
    const inner = `<cookie page="${page}">${elements}</cookie>`;
    if (wantCookie) {
      body['@Microsoft.Dynamics.CRM.fetchxmlpagingcookie'] =
        `<cookie pagenumber="${page + 1}" pagingcookie="${encodeQueryValue(encodeQueryValue(inner))}" istracking="False" />`;
    }
    if (wantMore) body['@Microsoft.Dynamics.CRM.morerecords'] = true;
  }
  body.value = pageRows.map((row) => projectRow(environment, plan, row));
  const applied = preferences.includeAnnotations;
  return {
    status: 200,
    headers: {
      'content-type': odataJsonContentType,
      'odata-version': '4.0',
      ...(applied ? { 'preference-applied': `odata.include-annotations="${applied}"` } : {}),
    },
    body: JSON.stringify(body),
  };
}
