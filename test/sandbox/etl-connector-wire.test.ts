import { randomUUID } from 'node:crypto';
import type { Agent } from 'undici';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ColumnKind, dataverseCatalog, wireName } from '../../src/sandbox/dataverse/catalog.js';
import type { Sandbox, SandboxTenant } from '../../src/sandbox/index.js';
import { startTestSandbox } from './helpers.js';

/**
 * Airbyte's ETL connector `source-microsoft-dataverse` (Python; repository airbytehq/airbyte, folder
 * airbyte-integrations/connectors/source-microsoft-dataverse/source_microsoft_dataverse/) replayed against
 * the sandbox: the same URLs, headers and bodies, and its response parsing ported line by line. We cannot
 * install it (no PyPI here); docs/microsoft-wire.md ("Clients we did not write") lists every request it
 * makes. Paths below are relative to that folder; line numbers are those of the versions read:
 * dataverse.py with get_all_datetime_behaviors (the $batch of DateTimeAttributeMetadata casts), streams.py
 * with config_cursor_field, and discover as unit_tests/test_source.py pins it (the $select/$expand projection,
 * modifiedon as the cursor, DateOnly columns typed as dates).
 *
 * The one change: the connector posts to https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token
 * (dataverse.py:63); here the sandbox's authority host takes its place.
 */

type AirbyteType = Record<string, unknown>;

// dataverse.py:35-41 (class AirbyteType).
const airbyteTypes = {
  String: { type: ['null', 'string'] },
  Boolean: { type: ['null', 'boolean'] },
  Timestamp: { type: ['null', 'string'], format: 'date-time', airbyte_type: 'timestamp_with_timezone' },
  Date: { type: ['null', 'string'], format: 'date' },
  Integer: { type: ['null', 'integer'] },
  Number: { type: ['null', 'number'] },
} satisfies Record<string, AirbyteType>;

// dataverse.py:44-58 (class DataverseType): AttributeType → Airbyte type; Virtual columns are skipped.
const dataverseTypes: Record<string, AirbyteType | null> = {
  String: airbyteTypes.String,
  Uniqueidentifier: airbyteTypes.String,
  DateTime: airbyteTypes.Timestamp,
  Integer: airbyteTypes.Integer,
  BigInt: airbyteTypes.Integer,
  Money: airbyteTypes.Number,
  Boolean: airbyteTypes.Boolean,
  Double: airbyteTypes.Number,
  Decimal: airbyteTypes.Number,
  Status: airbyteTypes.Integer,
  State: airbyteTypes.Integer,
  Picklist: airbyteTypes.Integer,
  Lookup: airbyteTypes.String,
  Virtual: null,
};

// dataverse.py:81-90 (convert_dataverse_type): unknown types are strings, DateOnly date-times are dates.
function convertDataverseType(dataverseType: string, datetimeBehavior?: string): AirbyteType | null {
  if (dataverseType === 'DateTime' && datetimeBehavior === 'DateOnly') return airbyteTypes.Date;
  if (dataverseType in dataverseTypes) return dataverseTypes[dataverseType] ?? null;
  return airbyteTypes.String;
}

/** Python's urllib.parse.parse_qsl (what streams.py:49 and :136 apply to links): `+` is a space, blanks dropped. */
function parseQsl(query: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const pair of query.split('&')) {
    const equals = pair.indexOf('=');
    if (equals === -1 || equals === pair.length - 1) continue;
    const unquote = (text: string) => decodeURIComponent(text.replaceAll('+', ' '));
    result[unquote(pair.slice(0, equals))] = unquote(pair.slice(equals + 1));
  }
  return result;
}

/** requests' params encoding (urllib.parse.urlencode → quote_plus): only `A-Za-z0-9_.-~` stay, space is `+`. */
function urlencode(params: Record<string, string>): string {
  const quotePlus = (text: string) =>
    encodeURIComponent(text)
      .replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
      .replaceAll('%20', '+');
  return Object.entries(params)
    .map(([name, value]) => `${quotePlus(name)}=${quotePlus(value)}`)
    .join('&');
}

interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

let sandbox: Sandbox;
let agent: Agent;
let tenant: SandboxTenant;
const workers = 40;
const pageSize = 7;

beforeAll(async () => {
  ({ sandbox, agent } = await startTestSandbox({ workers, seed: 11 }));
  tenant = sandbox.defaultTenant;
});
afterAll(async () => {
  await sandbox.close();
  await agent.close();
});

/** requests' default headers: the connector never sets Accept on its GETs. */
const pythonRequestsHeaders = {
  'user-agent': 'python-requests/2.32.3',
  'accept-encoding': 'gzip, deflate',
  accept: '*/*',
};

async function send(
  method: 'GET' | 'POST',
  url: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Response> {
  const response = await request(url, {
    method,
    dispatcher: agent,
    headers: { ...pythonRequestsHeaders, ...headers },
    body,
  });
  return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
}

// dataverse.py:20-32 and the CDK's Oauth2Authenticator: a form-encoded client-credentials grant.
async function getAuthHeader(): Promise<Record<string, string>> {
  const response = await send(
    'POST',
    `${tenant.authorityHost}/${tenant.tenantId}/oauth2/v2.0/token`,
    { 'content-type': 'application/x-www-form-urlencoded' },
    urlencode({
      grant_type: 'client_credentials',
      client_id: tenant.clientId,
      client_secret: tenant.clientSecret,
      scope: `${tenant.dataverseUrl}/.default`,
    }),
  );
  expect(response.status).toBe(200);
  const token = JSON.parse(response.text) as { access_token: string; expires_in: number };
  expect(token.expires_in).toBeGreaterThan(0);
  return { authorization: `Bearer ${token.access_token}` };
}

// dataverse.py:71-78 (do_request): a GET on {url}/api/data/v9.2/{path} with the bearer header only.
async function doRequest(path: string): Promise<Response> {
  return send('GET', `${tenant.dataverseUrl}/api/data/v9.2/${path}`, await getAuthHeader());
}

// dataverse.py:113-148 (_execute_batch_datetime_request): one $batch GET per entity for its date-time columns.
async function executeBatchDatetimeRequest(
  entityNames: string[],
): Promise<Record<string, Record<string, string>>> {
  const headers = await getAuthHeader();
  const boundary = `batch_${randomUUID()}`;
  headers['content-type'] = `multipart/mixed; boundary="${boundary}"`;
  const parts = entityNames.map((entityName) => {
    const path =
      `EntityDefinitions(LogicalName='${entityName}')` +
      '/Attributes/Microsoft.Dynamics.CRM.DateTimeAttributeMetadata' +
      '?$select=LogicalName,DateTimeBehavior';
    return (
      `--${boundary}\r\n` +
      'Content-Type: application/http\r\n' +
      'Content-Transfer-Encoding: binary\r\n' +
      '\r\n' +
      `GET /api/data/v9.2/${path} HTTP/1.1\r\n` +
      'Accept: application/json\r\n' +
      '\r\n'
    );
  });
  const body = `${parts.join('')}--${boundary}--\r\n`;
  const response = await send('POST', `${tenant.dataverseUrl}/api/data/v9.2/$batch`, headers, body);
  expect(response.status).toBe(200); // response.raise_for_status()
  return parseBatchResponse(response, entityNames);
}

// dataverse.py:151-210 (_parse_batch_response): parts matched to entities by position, a non-200 part skipped.
function parseBatchResponse(
  response: Response,
  entityNames: string[],
): Record<string, Record<string, string>> {
  const contentType = String(response.headers['content-type'] ?? '');
  const boundaryMatch = /boundary=([^\s;]+)/.exec(contentType);
  if (!boundaryMatch) throw new Error(`the connector finds no boundary in '${contentType}'`);
  const boundary = (boundaryMatch[1] as string).replace(/^"+|"+$/g, '');
  const result: Record<string, Record<string, string>> = {};
  let entityIndex = 0;
  for (const part of response.text.split(`--${boundary}`)) {
    const stripped = part.trim();
    if (!stripped || stripped === '--') continue;
    if (entityIndex >= entityNames.length) break;
    // Python's re.split(maxsplit=2): the third section keeps the rest of the part.
    const sections: string[] = [];
    let rest = part;
    for (let split = 0; split < 2; split++) {
      const separator = /\r\n\r\n|\n\n/.exec(rest);
      if (!separator) break;
      sections.push(rest.slice(0, separator.index));
      rest = rest.slice(separator.index + separator[0].length);
    }
    sections.push(rest);
    const entityName = entityNames[entityIndex] as string;
    entityIndex++;
    if (sections.length < 3) continue;
    const jsonBody = (sections[2] as string).trim();
    if (!jsonBody.startsWith('{')) continue;
    const statusLine = (sections[1] as string).trim()
      ? ((sections[1] as string).trim().split('\r\n')[0] ?? '')
      : '';
    if (!statusLine.includes(' 200 ') && !statusLine.includes(' 200\r')) continue;
    const data = JSON.parse(jsonBody) as {
      value?: Array<{ LogicalName?: string; DateTimeBehavior?: { Value?: string } }>;
    };
    const behaviors: Record<string, string> = {};
    for (const attribute of data.value ?? []) {
      if (attribute.DateTimeBehavior && attribute.LogicalName) {
        behaviors[attribute.LogicalName] = attribute.DateTimeBehavior.Value ?? '';
      }
    }
    result[entityName] = behaviors;
  }
  return result;
}

interface DiscoveredStream {
  name: string;
  properties: Record<string, AirbyteType>;
  supportedSyncModes: string[];
  defaultCursorField: string[];
  primaryKey: string[][];
}

// source.py discover(), as unit_tests/test_source.py pins it: one EntityDefinitions query with a projection,
// lookups read as their _x_value columns, change-tracked tables incremental with modifiedon as the cursor,
// and DateTimeBehavior from the $batch for the entities that have date-time columns.
async function discover(): Promise<DiscoveredStream[]> {
  const response = await doRequest(
    'EntityDefinitions?$select=LogicalName,EntitySetName,PrimaryIdAttribute,CanChangeTrackingBeEnabled,ChangeTrackingEnabled' +
      '&$expand=Attributes($select=LogicalName,AttributeType)',
  );
  expect(response.status).toBe(200);
  const entities = (
    JSON.parse(response.text) as {
      value: Array<{
        LogicalName: string;
        PrimaryIdAttribute: string;
        ChangeTrackingEnabled: boolean;
        CanChangeTrackingBeEnabled: { Value: boolean };
        Attributes: Array<{ LogicalName: string; AttributeType: string }>;
      }>;
    }
  ).value;
  const withDates = entities
    .filter((entity) => entity.Attributes.some((attribute) => attribute.AttributeType === 'DateTime'))
    .map((entity) => entity.LogicalName);
  const behaviors = await executeBatchDatetimeRequest(withDates);
  return entities.map((entity) => {
    const properties: Record<string, AirbyteType> = {};
    for (const attribute of entity.Attributes) {
      const dataverseType = attribute.AttributeType;
      let name = attribute.LogicalName;
      if (dataverseType === 'Lookup' || dataverseType === 'Customer' || dataverseType === 'Owner') {
        name = `_${name}_value`;
      }
      const attributeType = convertDataverseType(
        dataverseType,
        behaviors[entity.LogicalName]?.[attribute.LogicalName],
      );
      if (!attributeType) continue;
      properties[name] = attributeType;
    }
    const incremental = entity.CanChangeTrackingBeEnabled.Value && entity.ChangeTrackingEnabled;
    if (incremental) {
      properties._ab_cdc_updated_at = { type: 'string' };
      properties._ab_cdc_deleted_at = { type: ['null', 'string'] };
    }
    return {
      name: entity.LogicalName,
      properties,
      supportedSyncModes: incremental ? ['full_refresh', 'incremental'] : ['full_refresh'],
      defaultCursorField: incremental && 'modifiedon' in properties ? ['modifiedon'] : [],
      primaryKey: [[entity.PrimaryIdAttribute]],
    };
  });
}

type Row = Record<string, unknown>;

interface ReadResult {
  records: Row[];
  pages: number;
  pageSizes: number[];
  state?: { $deltatoken: string };
}

// source.py streams() then the CDK's HttpStream loop over streams.py: the entity set from
// EntityDefinitions(LogicalName='x'), then pages by @odata.nextLink's query parameters re-encoded.
async function readStream(
  stream: DiscoveredStream,
  mode: 'full_refresh' | 'incremental',
  state: { $deltatoken: string } | undefined,
): Promise<ReadResult> {
  const definition = await doRequest(`EntityDefinitions(LogicalName='${stream.name}')`);
  expect(definition.status).toBe(200);
  const streamPath = (JSON.parse(definition.text) as { EntitySetName: string }).EntitySetName;
  const urlBase = `${tenant.dataverseUrl}/api/data/v9.2/`; // streams.py:23
  // streams.py:80-85, and :126-129 puts odata.track-changes first for incremental streams.
  const headers: Record<string, string> = {
    'cache-control': 'no-cache',
    'odata-version': '4.0',
    'content-type': 'application/json',
    prefer: `${mode === 'incremental' ? 'odata.track-changes,' : ''}odata.maxpagesize=${pageSize}`,
  };
  const primaryKey = stream.primaryKey[0]?.[0] as string;
  const cursorField = stream.defaultCursorField[0] as string;
  const result: ReadResult = { records: [], pages: 0, pageSizes: [] };
  let cursorValue: string | undefined = state?.$deltatoken;
  let nextPageToken: Record<string, string> | undefined;
  for (;;) {
    // streams.py:60-68 (request_params): the next page's parameters, else the stream state.
    const params =
      nextPageToken ?? (mode === 'incremental' && state ? { $deltatoken: state.$deltatoken } : {});
    const query = urlencode(params);
    const response = await send('GET', `${urlBase}${streamPath}${query ? `?${query}` : ''}`, {
      ...headers,
      ...(await getAuthHeader()),
    });
    expect(response.status, response.text).toBe(200);
    const json = JSON.parse(response.text) as Record<string, unknown> & { value: Row[] };
    result.pages++;
    result.pageSizes.push(json.value.length);
    if (mode === 'incremental') {
      // streams.py:132-149 (parse_response): the delta token from @odata.deltaLink, deletions by reason.
      const deltaLink = json['@odata.deltaLink'];
      if (typeof deltaLink === 'string') {
        cursorValue = parseQsl(new URL(deltaLink).search.slice(1)).$deltatoken;
      }
      for (const row of json.value) {
        if ('@odata.context' in row && row.reason === 'deleted') {
          const now = new Date().toISOString();
          const deleted: Row = { ...row, [primaryKey]: row.id };
          delete deleted['@odata.context'];
          delete deleted.id;
          delete deleted.reason;
          deleted[cursorField] = now;
          deleted._ab_cdc_deleted_at = now;
          result.records.push(deleted);
        } else {
          result.records.push({ ...row, _ab_cdc_updated_at: row[cursorField] });
        }
      }
    } else {
      result.records.push(...json.value); // streams.py:74-75
    }
    // streams.py:45-52 (next_page_token).
    const nextLink = json['@odata.nextLink'];
    if (typeof nextLink !== 'string') break;
    nextPageToken = parseQsl(new URL(nextLink).search.slice(1));
  }
  // streams.py:107-109: the state is the last delta token seen (str(None) when the service sent none).
  if (mode === 'incremental') result.state = { $deltatoken: String(cursorValue ?? 'None') };
  return result;
}

const expectedTypeByKind: Record<ColumnKind, AirbyteType> = {
  Uniqueidentifier: airbyteTypes.String,
  String: airbyteTypes.String,
  Memo: airbyteTypes.String,
  Integer: airbyteTypes.Integer,
  BigInt: airbyteTypes.Integer,
  Decimal: airbyteTypes.Number,
  DateTime: airbyteTypes.Timestamp,
  DateOnly: airbyteTypes.Date,
  Picklist: airbyteTypes.Integer,
  State: airbyteTypes.Integer,
  Status: airbyteTypes.Integer,
  Lookup: airbyteTypes.String,
  Owner: airbyteTypes.String,
};

/** Whether a value is what the connector's schema promises (what an Airbyte destination would check). */
function conforms(value: unknown, schema: AirbyteType): boolean {
  if (value === null || value === undefined) return true;
  const types = schema.type as string[];
  if (schema.format === 'date') return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value);
  if (schema.format === 'date-time')
    return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(value);
  if (types.includes('integer')) return Number.isInteger(value);
  if (types.includes('number')) return typeof value === 'number';
  if (types.includes('boolean')) return typeof value === 'boolean';
  return typeof value === 'string';
}

const nativeTables = dataverseCatalog.filter((table) => !table.logicalName.startsWith('mshr_'));

describe("Airbyte's source-microsoft-dataverse against the sandbox", () => {
  let streams: DiscoveredStream[];

  it('checks the connection with a GET of the service root (source.py check_connection)', async () => {
    const response = await doRequest('');
    expect(response.status).toBe(200);
    expect(JSON.parse(response.text).value.map((set: { name: string }) => set.name)).toEqual(
      expect.arrayContaining(nativeTables.map((table) => table.entitySetName)),
    );
  });

  it('discovers every cdm_ table with the type of each column, DateOnly columns as dates', async () => {
    streams = await discover();
    expect(streams.map((stream) => stream.name).sort()).toEqual(
      nativeTables.map((table) => table.logicalName).sort(),
    );
    for (const table of nativeTables) {
      const stream = streams.find((candidate) => candidate.name === table.logicalName) as DiscoveredStream;
      const expected: Record<string, AirbyteType> = Object.fromEntries(
        table.columns.map((column) => [wireName(column), expectedTypeByKind[column.kind]]),
      );
      expected._ab_cdc_updated_at = { type: 'string' };
      expected._ab_cdc_deleted_at = { type: ['null', 'string'] };
      expect(stream.properties, table.logicalName).toEqual(expected);
      expect(stream.supportedSyncModes).toEqual(['full_refresh', 'incremental']);
      expect(stream.defaultCursorField).toEqual(['modifiedon']);
      expect(stream.primaryKey).toEqual([[table.primaryIdAttribute]]);
    }
    // The published DateOnly column (a birth date) is typed as a date, not a timestamp.
    expect(streams.find((stream) => stream.name === 'cdm_worker')?.properties.cdm_birthdate).toEqual(
      airbyteTypes.Date,
    );
  });

  it('reads every table in full, page by page, with rows that match the discovered schema', async () => {
    for (const stream of streams) {
      const table = nativeTables.find((candidate) => candidate.logicalName === stream.name);
      if (!table) throw new Error(`no catalog table ${stream.name}`);
      const { records, pages, pageSizes } = await readStream(stream, 'full_refresh', undefined);
      const truth = tenant.truth.dataverse(table.entitySetName) as unknown as Row[];
      expect(records.map((row) => row[table.primaryIdAttribute]).sort(), stream.name).toEqual(
        truth.map((row) => row[table.primaryIdAttribute]).sort(),
      );
      expect(pages).toBe(Math.max(1, Math.ceil(truth.length / pageSize)));
      expect(pageSizes.every((size) => size <= pageSize)).toBe(true);
      for (const record of records) {
        for (const [name, value] of Object.entries(record)) {
          if (name.startsWith('@')) continue;
          const schema = stream.properties[name];
          expect(schema, `${stream.name}.${name} is not in the discovered schema`).toBeDefined();
          expect(
            conforms(value, schema as AirbyteType),
            `${stream.name}.${name} = ${JSON.stringify(value)}`,
          ).toBe(true);
        }
      }
    }
  }, 60_000);

  it('syncs incrementally: the first sync pages to a delta token, the next one sees an update and a deletion', async () => {
    const stream = streams.find((candidate) => candidate.name === 'cdm_worker') as DiscoveredStream;
    const first = await readStream(stream, 'incremental', undefined);
    expect(first.records).toHaveLength(workers);
    expect(first.pages).toBe(Math.ceil(workers / pageSize));
    expect(first.state?.$deltatoken).toMatch(/^\d+!\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2}$/);
    expect(first.records.every((row) => typeof row._ab_cdc_updated_at === 'string')).toBe(true);

    const [updated] = tenant.controls.updateRecords(
      'cdm_workers',
      { count: 1 },
      { cdm_firstname: 'Airbyte' },
    );
    const [deleted] = tenant.controls.deleteRecords('cdm_workers', { count: 1 });
    const second = await readStream(stream, 'incremental', first.state);
    const update = second.records.find((row) => row.cdm_workerid === updated);
    expect(update).toMatchObject({ cdm_firstname: 'Airbyte' });
    expect(update?._ab_cdc_updated_at).toBe(update?.modifiedon);
    const deletion = second.records.find((row) => row.cdm_workerid === deleted);
    expect(deletion).toMatchObject({ _ab_cdc_deleted_at: expect.any(String) });
    expect(deletion).not.toHaveProperty('reason');
    expect(second.records).toHaveLength(2);
    expect(second.state?.$deltatoken).not.toBe('None');
    expect(second.state?.$deltatoken).not.toBe(first.state?.$deltatoken);

    // Nothing changed since: the third sync is empty and keeps a token.
    const third = await readStream(stream, 'incremental', second.state);
    expect(third.records).toHaveLength(0);
    expect(third.state?.$deltatoken).toMatch(/^\d+!/);
  });
});
