import { checkAccessToken, type TokenSigningKey } from '../entra/directory.js';
import { odataJsonContentType, type SandboxRequest, type SandboxResponse } from '../http/types.js';
import { parsePrefer, parseRawQuery } from '../odata/query-options.js';
import { executeBatch, parseBatch } from './batch.js';
import { handleCollectionGet, handleCountSegment, handleSingleGet } from './collection.js';
import { handleEntityDefinitions } from './entity-definitions.js';
import { type DataverseEnvironment, type DataverseTable, findTableBySetName } from './environment.js';
import { DataverseError, dataverseErrors } from './errors.js';
import { handleRowSegment } from './row-segments.js';
import { metadataDocument, serviceDocument } from './service-documents.js';
import { checkWriteConditions, createRow, deleteRow, updateRow } from './writes.js';

/**
 * Dataverse Web API at `{environment URL}/api/data/v9.2/`; the environment URL (an origin of its own,
 * `https://host:port`) is also the token audience. Order of checks follows Dataverse:
 * token (401), application user (403), service protection (429), then the resource.
 */
export interface DataverseRouteContext {
  baseUrl: string;
  signingKey: TokenSigningKey;
  now(): Date;
}

export async function handleDataverseRequest(
  request: SandboxRequest,
  environment: DataverseEnvironment,
  context: DataverseRouteContext,
): Promise<SandboxResponse> {
  const now = context.now();
  const check = checkAccessToken(
    headerString(request, 'authorization'),
    context.signingKey,
    environment.url,
    now,
  );
  if (!check.ok || check.claims.tid !== environment.tenantId) {
    return {
      status: 401,
      headers: {
        'www-authenticate': `Bearer authorization_uri=${context.baseUrl}/${environment.tenantId}/oauth2/authorize, resource_id=${environment.url}/`,
        'content-length': '0',
      },
      body: '',
    };
  }
  const user = environment.applicationUsers.get(check.claims.appid);
  if (!user?.present) return dataverseErrors.notMember().toResponse();
  const admission = environment.protection.admit(check.claims.oid, now.getTime());
  if (admission instanceof DataverseError) return admission.toResponse();
  try {
    const response = route(request, {
      environment,
      systemUserId: user.systemUserId,
      hasRole: user.hasRole,
      now,
    });
    return { ...inRequestedVersion(response, environment, request.segments[2]), onSent: admission };
  } catch (error) {
    admission();
    if (error instanceof DataverseError) return error.toResponse();
    throw error;
  }
}

/** Web API versions an environment answers on; v9.0 and v9.1 serve the same data as v9.2. */
const apiVersions = new Set(['v9.0', 'v9.1', 'v9.2']);

/**
 * A request on v9.0 or v9.1 gets links and contexts on the same version, as Dataverse answers them
 * (Microsoft's own examples use all three).
 */
function inRequestedVersion(
  response: SandboxResponse,
  environment: DataverseEnvironment,
  version: string | undefined,
): SandboxResponse {
  if (version === 'v9.2' || version === undefined || typeof response.body !== 'string') return response;
  const root = `${environment.url}/api/data/${version}/`;
  const headers = Object.fromEntries(
    Object.entries(response.headers).map(([name, value]) => [
      name,
      value.replaceAll(environment.serviceRoot, root),
    ]),
  );
  return { ...response, headers, body: response.body.replaceAll(environment.serviceRoot, root) };
}

function headerString(request: SandboxRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Entity-set resources: `set`, `set(<guid>)`, `set/$count`. */
const keyedResource = /^([A-Za-z0-9_]+)\(([0-9a-fA-F-]{36})\)$/;

interface RouteContext {
  environment: DataverseEnvironment;
  systemUserId: string;
  hasRole: boolean;
  now: Date;
  /** Inside a $batch change set: where writes leave their undo step. */
  undo?: Array<() => void>;
}

function route(request: SandboxRequest, context: RouteContext): SandboxResponse {
  // segments: ['api', 'data', 'v9.2', resource, ...rest]
  const [api, data, version, resource, ...rest] = request.segments;
  if (api !== 'api' || data !== 'data' || !apiVersions.has(version ?? '')) {
    throw dataverseErrors.resourceNotFound(request.segments.join('/'));
  }
  const { environment } = context;
  if (resource === undefined) {
    if (request.method !== 'GET') throw dataverseErrors.methodNotAllowed();
    return serviceDocument(environment);
  }
  if (resource === '$batch') {
    if (request.method !== 'POST') throw dataverseErrors.methodNotAllowed();
    return runBatch(request, context);
  }
  const query = parseRawQuery(request.url.search);
  if (request.method === 'GET') {
    if (resource === '$metadata') return metadataDocument(environment);
    if (resource === 'WhoAmI' || resource === 'WhoAmI()') return whoAmI(context);
    if (resource.startsWith('EntityDefinitions'))
      return handleEntityDefinitions(environment, resource, rest, query);
  }
  const keyed = keyedResource.exec(resource);
  const setName = keyed?.[1] ?? resource;
  const table = findTableBySetName(environment, setName);
  const isCount = !keyed && rest.length === 1 && rest[0] === '$count';
  const belowRow = keyed !== null && rest.length > 0;
  if (!table || (rest.length > 0 && !isCount && !belowRow)) {
    throw dataverseErrors.resourceNotFound(rest[0] ?? resource);
  }
  const id = keyed ? (keyed[2] as string).toLowerCase() : undefined;
  if (belowRow) {
    // One property or one lookup's reference of a row: reading needs Read, changing it Write.
    const privilege = { GET: 'Read', PUT: 'Write', DELETE: 'Write' }[request.method];
    if (!privilege) throw dataverseErrors.methodNotAllowed();
    requireRole(context, table, privilege);
    return handleRowSegment({
      request,
      environment,
      table,
      id: id as string,
      segments: rest,
      now: context.now,
      onWrite: (result) => context.undo?.push(result.undo),
    });
  }
  const privilege = { GET: 'Read', POST: 'Create', PATCH: 'Write', DELETE: 'Delete' }[request.method];
  if (
    !privilege ||
    (request.method === 'POST' ? id !== undefined || isCount : id === undefined && request.method !== 'GET')
  ) {
    throw dataverseErrors.methodNotAllowed();
  }
  requireRole(context, table, privilege);
  if (request.method === 'POST' || request.method === 'PATCH' || request.method === 'DELETE') {
    return write(request, context, table, id);
  }
  const collectionRequest = {
    environment,
    table,
    query,
    preferences: parsePrefer(headerString(request, 'prefer')),
    now: context.now,
  };
  if (isCount) return handleCountSegment(collectionRequest);
  if (!id) return handleCollectionGet(collectionRequest);
  const single = handleSingleGet(collectionRequest, id);
  // Conditional retrieval: 304 when the ETag still matches, never with $expand or annotations
  // ("Perform conditional operations using the Web API").
  const ifNoneMatch = headerString(request, 'if-none-match');
  if (
    ifNoneMatch !== undefined &&
    ifNoneMatch === single.headers.etag &&
    !query.options.has('$expand') &&
    collectionRequest.preferences.includeAnnotations === undefined
  ) {
    return { status: 304, headers: { 'odata-version': '4.0', etag: ifNoneMatch }, body: '' };
  }
  return single;
}

function requireRole(context: RouteContext, table: DataverseTable, privilege: string): void {
  if (context.hasRole) return;
  throw dataverseErrors.privilegeDenied(
    context.systemUserId,
    table.privilegeId,
    table.definition.objectTypeCode,
    table.definition.logicalName,
    privilege,
  );
}

function whoAmI({ environment, systemUserId }: RouteContext): SandboxResponse {
  return {
    status: 200,
    headers: { 'content-type': odataJsonContentType, 'odata-version': '4.0' },
    body: JSON.stringify({
      '@odata.context': `${environment.serviceRoot}$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse`,
      BusinessUnitId: environment.businessUnitId,
      UserId: systemUserId,
      OrganizationId: environment.organizationId,
    }),
  };
}

function write(
  request: SandboxRequest,
  context: RouteContext,
  table: DataverseTable,
  id: string | undefined,
): SandboxResponse {
  const { environment, now } = context;
  const action =
    request.method === 'POST'
      ? 'create'
      : checkWriteConditions(
          table,
          request.method,
          id as string,
          headerString(request, 'if-match'),
          headerString(request, 'if-none-match'),
        );
  const result =
    request.method === 'DELETE'
      ? deleteRow(environment, table, id as string)
      : action === 'create'
        ? createRow(environment, table, request.body, now, id)
        : updateRow(environment, table, id as string, request.body, now);
  context.undo?.push(result.undo);
  const entityId = `${environment.serviceRoot}${table.definition.entitySetName}(${result.id})`;
  const preferences = headerString(request, 'prefer') ?? '';
  if (request.method !== 'DELETE' && /return=representation/i.test(preferences)) {
    // "Create with data returned" / "Update with data returned": the row, 201 on create, 200 on update.
    const collectionRequest = {
      environment,
      table,
      query: parseRawQuery(request.url.search),
      preferences: parsePrefer(preferences),
      now,
    };
    const single = handleSingleGet(collectionRequest, result.id);
    return {
      ...single,
      status: action === 'create' ? 201 : 200,
      headers: {
        ...single.headers,
        'odata-entityid': entityId,
        'preference-applied': 'return=representation',
      },
    };
  }
  return {
    status: 204,
    headers:
      request.method === 'DELETE'
        ? { 'odata-version': '4.0' }
        : { 'odata-version': '4.0', location: entityId, 'odata-entityid': entityId },
    body: '',
  };
}

function runBatch(request: SandboxRequest, context: RouteContext): SandboxResponse {
  const parts = parseBatch(request.body, headerString(request, 'content-type'));
  const continueOnError = /odata\.continue-on-error/i.test(headerString(request, 'prefer') ?? '');
  // Relative part URLs resolve against the root the batch was posted to (v9.0, v9.1 or v9.2).
  const serviceRoot = new URL(`${context.environment.url}/api/data/${request.segments[2] ?? 'v9.2'}/`);
  return executeBatch(
    parts,
    {
      run(operation, undo) {
        // Absolute, /api/data/v9.2/... or relative to the service root, as the Learn examples use.
        const url = new URL(operation.target, serviceRoot);
        const inner: SandboxRequest = {
          method: operation.method,
          url,
          segments: url.pathname
            .split('/')
            .filter((segment) => segment.length > 0)
            .map((segment) => decodeURIComponent(segment)),
          headers: { ...request.headers, ...operation.headers },
          body: operation.body,
        };
        try {
          if (url.origin !== serviceRoot.origin) throw dataverseErrors.resourceNotFound(url.href);
          return route(inner, { ...context, undo });
        } catch (error) {
          if (error instanceof DataverseError) return error.toResponse();
          throw error;
        }
      },
    },
    continueOnError,
  );
}
