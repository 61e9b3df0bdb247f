import { checkAccessToken, type TokenSigningKey } from '../entra/directory.js';
import {
  jsonResponse,
  odataJsonContentType,
  type SandboxRequest,
  type SandboxResponse,
} from '../http/types.js';
import { parsePrefer, parseRawQuery } from '../odata/query-options.js';
import { handleCollectionGet, handleSingleGet } from './collection.js';
import { handleEntityDefinitions } from './entity-definitions.js';
import { type DataverseEnvironment, findTableBySetName } from './environment.js';
import { DataverseError, dataverseErrors } from './errors.js';

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
    const response = route(request, environment, user.systemUserId, user.hasRole, now);
    return { ...response, onSent: admission };
  } catch (error) {
    admission();
    if (error instanceof DataverseError) return error.toResponse();
    throw error;
  }
}

function headerString(request: SandboxRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function route(
  request: SandboxRequest,
  environment: DataverseEnvironment,
  systemUserId: string,
  hasRole: boolean,
  now: Date,
): SandboxResponse {
  // segments: ['api', 'data', 'v9.2', resource, sub?]
  const [api, data, version, resource, subSegment] = request.segments;
  if (api !== 'api' || data !== 'data' || version !== 'v9.2') {
    throw dataverseErrors.resourceNotFound(request.segments.join('/'));
  }
  if (resource === undefined) {
    return jsonResponse(200, { '@odata.context': `${environment.serviceRoot}$metadata`, value: [] });
  }
  if (request.method !== 'GET') throw dataverseErrors.methodNotAllowed();
  const query = parseRawQuery(request.url.search);
  if (resource === 'WhoAmI' || resource === 'WhoAmI()') {
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
  if (resource.startsWith('EntityDefinitions')) {
    return handleEntityDefinitions(environment, resource, subSegment, query);
  }
  const keyed = /^([A-Za-z0-9_]+)\(([0-9a-fA-F-]{36})\)$/.exec(resource);
  const setName = keyed?.[1] ?? resource;
  const table = findTableBySetName(environment, setName);
  if (!table || subSegment !== undefined) throw dataverseErrors.resourceNotFound(subSegment ?? resource);
  if (!hasRole) {
    throw dataverseErrors.privilegeDenied(
      systemUserId,
      table.privilegeId,
      table.definition.objectTypeCode,
      table.definition.logicalName,
    );
  }
  const collectionRequest = {
    environment,
    table,
    query,
    preferences: parsePrefer(headerString(request, 'prefer')),
    now,
  };
  return keyed
    ? handleSingleGet(collectionRequest, (keyed[2] as string).toLowerCase())
    : handleCollectionGet(collectionRequest);
}
