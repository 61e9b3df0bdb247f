import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { checkAccessToken, type TokenSigningKey } from '../entra/directory.js';
import {
  jsonResponse,
  odataJsonContentType,
  type SandboxRequest,
  type SandboxResponse,
} from '../http/types.js';
import {
  type FilterColumn,
  FilterPropertyError,
  FilterSyntaxError,
  FilterTypeError,
  type FilterValueKind,
  parseFilter,
} from '../odata/filter.js';
import { parsePrefer, parseRawQuery, type RawQuery } from '../odata/query-options.js';
import { type FnoEntityDefinition, type FnoField, findFnoEntity, fnoCatalog } from './catalog.js';
import type { DefinitionGroup, DmfExecution, FnoEnvironment } from './environment.js';
import { packageStream, rowsForExport } from './package.js';

/**
 * Finance & Operations at `{environment URL}/data/` (the environment URL, an origin of its own, is the
 * token audience): OData entities with cross-company and paging, and the DMF package API (docs/microsoft-wire.md, "DMF package API").
 */
export interface FnoRouteContext {
  baseUrl: string;
  signingKey: TokenSigningKey;
  now(): Date;
}

/** F&O's OData page size. */
const fnoMaxPageSize = 10_000;
const actionPrefix = 'Microsoft.Dynamics.DataEntities.';

function fnoError(status: number, message: string, inner?: string): SandboxResponse {
  return jsonResponse(status, {
    error: {
      code: '',
      message,
      ...(inner
        ? { innererror: { message: inner, type: 'Microsoft.OData.ODataException', stacktrace: '' } }
        : {}),
    },
  });
}

export function handleFnoRequest(
  request: SandboxRequest,
  fno: FnoEnvironment,
  context: FnoRouteContext,
): SandboxResponse {
  const authorization = request.headers.authorization;
  const check = checkAccessToken(authorization, context.signingKey, fno.url, context.now());
  if (!check.ok || check.claims.tid !== fno.tenantId) {
    return { status: 401, headers: { 'www-authenticate': 'Bearer', 'content-length': '0' }, body: '' };
  }
  const [data, resource, action] = request.segments;
  if (data !== 'data')
    return fnoError(
      404,
      `No HTTP resource was found that matches the request URI '${fno.url}${request.url.pathname}'.`,
    );
  if (resource === '$metadata') {
    return { status: 200, headers: { 'content-type': 'application/xml' }, body: metadataXml(fno) };
  }
  if (resource === undefined && request.method === 'GET') {
    // The OData service document: the entity sets this environment serves.
    return jsonResponse(200, {
      '@odata.context': `${fno.url}/data/$metadata`,
      value: fnoCatalog.map((entity) => ({
        name: entity.entitySetName,
        kind: 'EntitySet',
        url: entity.entitySetName,
      })),
    });
  }
  if (
    resource === 'DataManagementDefinitionGroups' &&
    action?.startsWith(actionPrefix) &&
    request.method === 'POST'
  ) {
    return handleDmfAction(action.slice(actionPrefix.length), request, fno, context);
  }
  const entity = resource ? findFnoEntity(resource) : undefined;
  const countOnly = action === '$count';
  if (!entity || (action !== undefined && !countOnly) || request.method !== 'GET') {
    return fnoError(
      404,
      `No HTTP resource was found that matches the request URI '${fno.url}${request.url.pathname}'.`,
    );
  }
  return handleEntityQuery(request, fno, entity, parseRawQuery(request.url.search), countOnly);
}

const edmKinds: Record<FnoField['edmType'], FilterValueKind> = {
  'Edm.String': 'string',
  'Edm.DateTimeOffset': 'datetime',
  'Edm.Int64': 'number',
  'Edm.Decimal': 'number',
  Enum: 'enum',
};

function handleEntityQuery(
  request: SandboxRequest,
  fno: FnoEnvironment,
  entity: FnoEntityDefinition,
  query: RawQuery,
  countOnly = false,
): SandboxResponse {
  const { options } = query;
  let rows = fno.data[entity.entitySetName] as unknown as readonly Record<string, unknown>[];
  if (entity.companySpecific && options.get('cross-company') !== 'true') {
    rows = rows.filter((row) => row.dataAreaId === fno.defaultCompany);
  }
  const filterText = options.get('$filter');
  if (filterText) {
    const resolve = (name: string): FilterColumn | undefined => {
      const field = presentFields(fno, entity).find((candidate) => candidate.name === name);
      return field ? { key: field.name, kind: edmKinds[field.edmType] } : undefined;
    };
    try {
      const predicate = parseFilter<Record<string, unknown>>(filterText, resolve);
      rows = rows.filter(predicate);
    } catch (error) {
      if (error instanceof FilterPropertyError) {
        return fnoError(
          400,
          'An error has occurred.',
          `Could not find a property named '${error.property}' on type 'Microsoft.Dynamics.DataEntities.${entity.entityTypeName}'.`,
        );
      }
      if (error instanceof FilterSyntaxError || error instanceof FilterTypeError) {
        return fnoError(400, 'An error has occurred.', error.message);
      }
      throw error;
    }
  }
  if (countOnly) {
    // `/{set}/$count`: the number of matching rows as plain text (OData 4.0, "Requesting the number of items").
    return {
      status: 200,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: String(rows.length),
    };
  }
  const select = options
    .get('$select')
    ?.split(',')
    .map((name) => name.trim());
  for (const name of select ?? []) {
    if (!presentFields(fno, entity).some((field) => field.name === name)) {
      return fnoError(
        400,
        'An error has occurred.',
        `Could not find a property named '${name}' on type 'Microsoft.Dynamics.DataEntities.${entity.entityTypeName}'.`,
      );
    }
  }
  const skip = Number.parseInt(options.get('$skip') ?? '0', 10) || 0;
  const top = options.has('$top') ? Number.parseInt(options.get('$top') as string, 10) : undefined;
  const preferences = parsePrefer(
    typeof request.headers.prefer === 'string' ? request.headers.prefer : undefined,
  );
  const pageSize = Math.min(fnoMaxPageSize, preferences.maxPageSize ?? fnoMaxPageSize, top ?? fnoMaxPageSize);
  const page = rows.slice(skip, skip + pageSize);
  const keys = select ?? presentFields(fno, entity).map((field) => field.name);
  const value = page.map((row) => {
    const out: Record<string, unknown> = {
      '@odata.etag': `W/"${Buffer.from(`1,${keyOf(entity, row)}`).toString('base64')}"`,
    };
    for (const key of keys) out[key] = row[key];
    return out;
  });
  const body: Record<string, unknown> = {
    '@odata.context': `${fno.url}/data/$metadata#${entity.entitySetName}`,
  };
  if (options.get('$count') === 'true') body['@odata.count'] = rows.length;
  body.value = value;
  const consumed = skip + page.length;
  if (consumed < rows.length && (top === undefined || top > pageSize)) {
    const kept = query.parts
      .filter((part) => part.name !== '$skip' && part.name !== '$top')
      .map((part) => part.raw);
    if (top !== undefined) kept.push(`$top=${top - pageSize}`);
    kept.push(`$skip=${consumed}`);
    body['@odata.nextLink'] = `${fno.url}/data/${entity.entitySetName}?${kept.join('&')}`;
  }
  const headers: Record<string, string> = { 'content-type': odataJsonContentType, 'odata-version': '4.0' };
  if (preferences.maxPageSize !== undefined) headers['preference-applied'] = `odata.maxpagesize=${pageSize}`;
  return { status: 200, headers, body: JSON.stringify(body) };
}

function keyOf(entity: FnoEntityDefinition, row: Record<string, unknown>): string {
  return entity.keys.map((key) => String(row[key])).join(',');
}

/** The entity's fields in this environment (a tenant may lack some: controls.removeFnoField). */
function presentFields(fno: FnoEnvironment, entity: FnoEntityDefinition): FnoEntityDefinition['fields'] {
  const removed = fno.removedFields.get(entity.entitySetName);
  return removed ? entity.fields.filter((field) => !removed.has(field.name)) : entity.fields;
}

function metadataXml(fno: FnoEnvironment): string {
  const types = fnoCatalog
    .map((entity) => {
      const keys = entity.keys.map((key) => `<PropertyRef Name="${key}" />`).join('');
      const properties = presentFields(fno, entity)
        .map((field) => {
          const type = field.edmType === 'Enum' ? field.enumType : field.edmType;
          const nullable = entity.keys.includes(field.name) ? ' Nullable="false"' : '';
          return `<Property Name="${field.name}" Type="${type}"${nullable} />`;
        })
        .join('');
      return `<EntityType Name="${entity.entityTypeName}"><Key>${keys}</Key>${properties}</EntityType>`;
    })
    .join('');
  const enumTypes = [
    ['Gender', ['None', 'Male', 'Female', 'NonSpecific']],
    ['NoYes', ['No', 'Yes']],
    ['HcmWorkerType', ['Employee', 'Contractor']],
  ] as const;
  const enums = enumTypes
    .map(
      ([name, members]) =>
        `<EnumType Name="${name}">${members.map((member, index) => `<Member Name="${member}" Value="${index}" />`).join('')}</EnumType>`,
    )
    .join('');
  const sets = fnoCatalog
    .map(
      (entity) =>
        `<EntitySet Name="${entity.entitySetName}" EntityType="Microsoft.Dynamics.DataEntities.${entity.entityTypeName}" />`,
    )
    .join('');
  return `<?xml version="1.0" encoding="utf-8"?><edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices><Schema Namespace="Microsoft.Dynamics.DataEntities" xmlns="http://docs.oasis-open.org/odata/ns/edm">${types}${enums}<EntityContainer Name="Resources"><EntitySet Name="DataManagementDefinitionGroups" EntityType="Microsoft.Dynamics.DataEntities.DataManagementDefinitionGroup" />${sets}</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>`;
}

const exportSchema = z.object({
  definitionGroupId: z.string(),
  packageName: z.string().default('package.zip'),
  executionId: z.string().default(''),
  reExecute: z.boolean().default(false),
  legalEntityId: z.string().default(''),
});
const executionSchema = z.object({ executionId: z.string() });

function stringValue(fno: FnoEnvironment, value: string): SandboxResponse {
  return jsonResponse(200, { '@odata.context': `${fno.url}/data/$metadata#Edm.String`, value });
}

export function executionStatus(execution: DmfExecution | undefined, nowMs: number): string {
  if (!execution) return 'Unknown';
  return nowMs < execution.startedAt + execution.durationMs ? 'Executing' : execution.outcome;
}

function handleDmfAction(
  action: string,
  request: SandboxRequest,
  fno: FnoEnvironment,
  context: FnoRouteContext,
): SandboxResponse {
  let body: unknown;
  try {
    body = JSON.parse(request.body || '{}');
  } catch {
    return fnoError(400, 'An error has occurred.', 'The request body is not valid JSON.');
  }
  const nowMs = context.now().getTime();
  if (action === 'ExportToPackage') {
    const parsed = exportSchema.safeParse(body);
    if (!parsed.success) return fnoError(400, 'An error has occurred.', parsed.error.message);
    const group = fno.definitionGroups.get(parsed.data.definitionGroupId);
    if (!group) {
      return fnoError(
        400,
        'An error has occurred.',
        `Data project '${parsed.data.definitionGroupId}' was not found.`,
      );
    }
    const executionId =
      parsed.data.executionId ||
      `${group.name}-${new Date(nowMs).toISOString().slice(0, 19)}-${randomUUID().slice(0, 8).toUpperCase()}`;
    // A lost execution: F&O hands out the id but never creates the job (status Unknown for good).
    if (fno.loseExecutions) return stringValue(fno, executionId);
    fno.executions.set(executionId, {
      executionId,
      group,
      packageName: parsed.data.packageName,
      legalEntityId: parsed.data.legalEntityId,
      startedAt: nowMs,
      durationMs: fno.exportDurationMs,
      outcome: fno.exportOutcome,
      visibleAt: nowMs + fno.executionNotFoundMs,
      snapshot: exportSnapshot(fno, group),
    });
    return stringValue(fno, executionId);
  }
  const parsed = executionSchema.safeParse(body);
  if (!parsed.success) return fnoError(400, 'An error has occurred.', parsed.error.message);
  const execution = fno.executions.get(parsed.data.executionId);
  if (execution && nowMs < execution.visibleAt) {
    // Publicly reported (microsoft/Recurring-Integrations-Scheduler#71): right after ExportToPackage the
    // status actions may not find the execution yet.
    return fnoError(
      400,
      'An error has occurred.',
      `Exception occurred while executing action ${action} on Entity DataManagementDefinitionGroup: Execution details were not found for execution id: ${execution.executionId}`,
    );
  }
  const status = executionStatus(execution, nowMs);
  if (action === 'GetExecutionSummaryStatus') return stringValue(fno, status);
  if (action === 'GetExportedPackageUrl') {
    if (!execution || (status !== 'Succeeded' && status !== 'PartiallySucceeded'))
      return stringValue(fno, '');
    return stringValue(fno, signedPackageUrl(context.baseUrl, fno, execution, nowMs));
  }
  if (action === 'GetExecutionErrors') {
    if (!execution || status === 'Executing' || status === 'Succeeded') return stringValue(fno, '[]');
    return stringValue(fno, JSON.stringify(executionErrors(execution, status)));
  }
  return fnoError(404, `No HTTP resource was found for action '${action}'.`);
}

/**
 * The rows an export holds, for the data project's entities only (a copy of each row list, not of the
 * rows). With change tracking, only rows created or updated since the project's last export (rows are
 * immutable objects: a row not seen by that export is new or changed); deletions are never exported.
 */
function exportSnapshot(fno: FnoEnvironment, group: DefinitionGroup): DmfExecution['snapshot'] {
  const snapshot = Object.fromEntries(
    group.entitySets.map((name) => [name, [...fno.data[name]]]),
  ) as unknown as DmfExecution['snapshot'];
  if (!group.changeTracking || fno.exportOutcome === 'Failed') return snapshot;
  const previous = group.exportedRows;
  const seen = new Map<string, Set<object>>();
  for (const name of Object.keys(snapshot) as Array<keyof DmfExecution['snapshot']>) {
    const rows = snapshot[name] as unknown as object[];
    seen.set(name, new Set(rows));
    const before = previous?.get(name);
    if (before) (snapshot[name] as unknown as object[]) = rows.filter((row) => !before.has(row));
  }
  group.exportedRows = seen;
  return snapshot;
}

function executionErrors(execution: DmfExecution, status: string): Array<Record<string, string>> {
  if (status === 'Failed') {
    return [
      {
        RecordId: '',
        Field: '',
        ErrorMessage: `Export of data project '${execution.group.name}' failed: the staging table could not be populated.`,
      },
    ];
  }
  // PartiallySucceeded: a few rows of the first entity are reported as skipped.
  const entity = findFnoEntity(execution.group.entitySets[0] ?? 'Workers');
  const rows = entity ? rowsForExport(execution, entity).slice(0, 3) : [];
  return rows.map((row, index) => ({
    RecordId: String(5637144576 + index),
    Field: entity?.keys[entity.keys.length - 1] ?? '',
    ErrorMessage: `Record '${String(row[entity?.keys[0] ?? ''] ?? '')}' was skipped: field value is not valid.`,
  }));
}

function signature(fno: FnoEnvironment, path: string, expiry: string): string {
  return createHmac('sha256', fno.packageSigningKey).update(`${path}\n${expiry}`).digest('base64url');
}

/** A blob-SAS-looking URL (`sv`, `se`, `sr`, `sp`, `sig`) that stops working after `se`. */
function signedPackageUrl(
  baseUrl: string,
  fno: FnoEnvironment,
  execution: DmfExecution,
  nowMs: number,
): string {
  const tenantName = fno.envName.replace(/-fno$/, '');
  const path = `/_blob/dmf/${tenantName}/${encodeURIComponent(execution.executionId)}/${encodeURIComponent(execution.packageName)}`;
  const expiry = new Date(nowMs + fno.packageUrlLifetimeSeconds * 1000)
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z');
  return `${baseUrl}${path}?sv=2020-08-04&se=${encodeURIComponent(expiry)}&sr=b&sp=r&sig=${signature(fno, path, expiry)}`;
}

function blobError(status: number, code: string, message: string): SandboxResponse {
  return {
    status,
    headers: { 'content-type': 'application/xml' },
    body: `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`,
  };
}

/** GET /_blob/dmf/{tenant}/{executionId}/{packageName}?...&sig=...: the exported zip, streamed. */
export function handlePackageDownload(
  request: SandboxRequest,
  fno: FnoEnvironment | undefined,
  now: Date,
): SandboxResponse {
  const [, , , executionId = '', packageName = ''] = request.segments;
  const execution = fno?.executions.get(executionId);
  if (!fno || !execution) return blobError(404, 'BlobNotFound', 'The specified blob does not exist.');
  const path = `/_blob/dmf/${fno.envName.replace(/-fno$/, '')}/${encodeURIComponent(executionId)}/${encodeURIComponent(packageName)}`;
  const expiry = request.url.searchParams.get('se') ?? '';
  const presented = Buffer.from(request.url.searchParams.get('sig') ?? '');
  const expected = Buffer.from(signature(fno, path, expiry));
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
    return blobError(
      403,
      'AuthenticationFailed',
      'Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.',
    );
  }
  if (Date.parse(expiry) <= now.getTime()) {
    return blobError(
      403,
      'AuthenticationFailed',
      'Signed expiry time has to be after signed start time. The SAS has expired.',
    );
  }
  return {
    status: 200,
    headers: { 'content-type': 'application/zip', 'x-ms-blob-type': 'BlockBlob' },
    stream: packageStream(execution),
  };
}
