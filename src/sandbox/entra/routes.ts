import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { jsonResponse, type SandboxRequest, type SandboxResponse } from '../http/types.js';
import {
  type AppRegistration,
  type DirectoryTenant,
  issueAccessToken,
  type TokenSigningKey,
  trimSlash,
} from './directory.js';
import { type EntraErrorSpec, entraErrorResponse, entraErrors } from './errors.js';
import { decodeJwt, verifyJwtSignature } from './jwt.js';

/**
 * Entra ID endpoints (docs/microsoft-wire.md, "Entra ID"): OpenID discovery documents, the JWKS and the v2.0 token endpoint for
 * the client-credentials grant with a client secret or a certificate client assertion.
 */
export interface EntraContext {
  baseUrl: string;
  signingKey: TokenSigningKey;
  tokenLifetimeSeconds: number;
  findTenant(idOrDomain: string): DirectoryTenant | undefined;
  now(): Date;
}

const clientAssertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Entra tolerates five minutes of clock skew on client assertions. */
const allowedClockSkewSeconds = 300;

const tokenRequestSchema = z.object({
  grant_type: z.string().optional(),
  client_id: z.string().optional(),
  scope: z.string().optional(),
  client_secret: z.string().optional(),
  client_assertion_type: z.string().optional(),
  client_assertion: z.string().optional(),
});

export function isEntraPath(segments: string[]): boolean {
  const rest = segments.slice(1).join('/');
  return (
    rest === 'v2.0/.well-known/openid-configuration' ||
    rest === '.well-known/openid-configuration' ||
    rest === 'discovery/v2.0/keys' ||
    rest === 'discovery/keys' ||
    rest === 'discovery/instance' ||
    rest === 'oauth2/v2.0/token'
  );
}

export async function handleEntraRequest(
  request: SandboxRequest,
  context: EntraContext,
): Promise<SandboxResponse> {
  const [tenantSegment = '', ...restSegments] = request.segments;
  const rest = restSegments.join('/');
  const correlationId = request.headers['client-request-id'];
  const fail = (spec: EntraErrorSpec): SandboxResponse =>
    entraErrorResponse(spec, {
      correlationId: typeof correlationId === 'string' ? correlationId : undefined,
      errorUriBase: context.baseUrl,
      now: context.now(),
    });

  if (rest === 'discovery/v2.0/keys' || rest === 'discovery/keys') {
    return jsonResponse(200, { keys: [context.signingKey.jwk] });
  }
  if (rest === 'discovery/instance') return instanceDiscovery(request, context, fail);
  // Multi-tenant aliases: the documents carry a {tenantid} placeholder, as Entra's do.
  if (['common', 'organizations'].includes(tenantSegment) && rest.endsWith('openid-configuration')) {
    const document = rest.startsWith('v2.0/')
      ? openIdConfiguration(context.baseUrl, tenantSegment)
      : openIdConfigurationV1(context.baseUrl, tenantSegment);
    return jsonResponse(200, {
      ...document,
      issuer: rest.startsWith('v2.0/')
        ? `${context.baseUrl}/{tenantid}/v2.0`
        : 'https://sts.windows.net/{tenantid}/',
    });
  }
  const tenant = context.findTenant(tenantSegment);
  if (!tenant) {
    const spec = entraErrors.tenantNotFound(tenantSegment);
    return fail(rest.endsWith('openid-configuration') ? { ...spec, error: 'invalid_tenant' } : spec);
  }
  if (rest.endsWith('openid-configuration')) {
    if (request.method !== 'GET') return jsonResponse(405, { error: 'method_not_allowed' });
    return jsonResponse(
      200,
      rest.startsWith('v2.0/')
        ? openIdConfiguration(context.baseUrl, tenant.tenantId)
        : openIdConfigurationV1(context.baseUrl, tenant.tenantId),
    );
  }
  if (request.method !== 'POST') return jsonResponse(405, { error: 'method_not_allowed' });
  return issueToken(request, context, tenant, tenantSegment, fail);
}

/**
 * Instance discovery (`/common/discovery/instance?api-version=1.1&authorization_endpoint=...`), which MSAL
 * calls for an authority host it does not know: the cloud's aliases and its tenant discovery endpoint. An
 * authorization endpoint on another host is an unknown instance (AADSTS50049), as on Entra. See
 * docs/microsoft-wire.md, "Entra ID".
 */
function instanceDiscovery(
  request: SandboxRequest,
  context: EntraContext,
  fail: (spec: EntraErrorSpec) => SandboxResponse,
): SandboxResponse {
  const host = new URL(context.baseUrl).host;
  const endpoint = request.url.searchParams.get('authorization_endpoint');
  let endpointHost: string | undefined;
  try {
    endpointHost = endpoint ? new URL(endpoint).host : undefined;
  } catch {
    endpointHost = undefined;
  }
  if (endpointHost !== host) return fail(entraErrors.invalidInstance());
  // The tenant of the authorization endpoint asked about (`common` in MSAL's own request).
  const tenant = new URL(endpoint as string).pathname.split('/').filter(Boolean)[0] ?? 'common';
  return jsonResponse(200, {
    tenant_discovery_endpoint: `${context.baseUrl}/${tenant}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
  });
}

/**
 * `/{tenant}/v2.0/.well-known/openid-configuration`: the v2.0 endpoints. MSAL (default AAD protocol mode)
 * fetches `{authority}/v2.0/.well-known/openid-configuration` for the authority `{host}/{tenant}`, once
 * the host is listed in `knownAuthorities` (src/providers/dynamics/auth.ts does so for non-Microsoft hosts).
 */
function openIdConfiguration(baseUrl: string, tenantId: string): Record<string, unknown> {
  const root = `${baseUrl}/${tenantId}`;
  return {
    token_endpoint: `${root}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${root}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${root}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${baseUrl}/oidc/userinfo`,
    authorization_endpoint: `${root}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${root}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${root}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'tid', 'ver', 'oid'],
    kerberos_endpoint: `${root}/kerberos`,
    tenant_region_scope: 'NA',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
  };
}

/**
 * `/{tenant}/.well-known/openid-configuration` without `v2.0`: like Entra, the v1 document (v1
 * endpoints, sts.windows.net issuer). The sandbox serves only the v2.0 token endpoint.
 */
function openIdConfigurationV1(baseUrl: string, tenantId: string): Record<string, unknown> {
  const root = `${baseUrl}/${tenantId}`;
  return {
    token_endpoint: `${root}/oauth2/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${root}/discovery/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'token id_token', 'token'],
    scopes_supported: ['openid'],
    issuer: `https://sts.windows.net/${tenantId}/`,
    microsoft_multi_refresh_token: true,
    authorization_endpoint: `${root}/oauth2/authorize`,
    device_authorization_endpoint: `${root}/oauth2/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${root}/oauth2/logout`,
    claims_supported: [
      'sub',
      'iss',
      'aud',
      'exp',
      'iat',
      'auth_time',
      'acr',
      'amr',
      'nonce',
      'email',
      'tid',
      'ver',
    ],
    check_session_iframe: `${root}/oauth2/checksession`,
    userinfo_endpoint: `${root}/openid/userinfo`,
    kerberos_endpoint: `${root}/kerberos`,
    tenant_region_scope: 'NA',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
  };
}

function secretsEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function issueToken(
  request: SandboxRequest,
  context: EntraContext,
  tenant: DirectoryTenant,
  tenantSegment: string,
  fail: (spec: EntraErrorSpec) => SandboxResponse,
): SandboxResponse {
  const form = tokenRequestSchema.parse(Object.fromEntries(new URLSearchParams(request.body)));
  if (form.grant_type !== 'client_credentials') return fail(entraErrors.unsupportedGrantType());
  if (!form.client_id) return fail(entraErrors.missingClientId());
  const app = tenant.apps.get(form.client_id.toLowerCase());
  if (!app) return fail(entraErrors.applicationNotFound(form.client_id, tenant.tenantId));

  // MSAL may add OIDC scopes; the resource is the one `/.default` scope (client credentials require it).
  const scopes = (form.scope ?? '').split(' ').filter((scope) => scope.length > 0);
  const resourceScope = scopes.find(
    (scope) => !['openid', 'profile', 'offline_access', 'email'].includes(scope),
  );
  if (!resourceScope?.endsWith('/.default')) {
    return fail(entraErrors.invalidScope(resourceScope ?? form.scope ?? ''));
  }
  const resource = resourceScope.slice(0, -'/.default'.length);

  const now = context.now();
  let usedCertificate = false;
  if (form.client_secret !== undefined) {
    const secretFailure = checkClientSecret(app, form.client_secret, now);
    if (secretFailure) return fail(secretFailure);
  } else if (form.client_assertion !== undefined && form.client_assertion_type === clientAssertionType) {
    const tokenEndpoints = [tenantSegment, tenant.tenantId, tenant.domain].map(
      (segment) => `${context.baseUrl}/${segment}/oauth2/v2.0/token`,
    );
    const assertionFailure = checkClientAssertion(app, form.client_assertion, tokenEndpoints, now);
    if (assertionFailure) return fail(assertionFailure);
    usedCertificate = true;
  } else {
    return fail(entraErrors.missingCredential());
  }

  const knownResource = tenant.resources().find((candidate) => trimSlash(candidate) === trimSlash(resource));
  if (!knownResource) return fail(entraErrors.resourceNotFound(resource, tenant.tenantId));
  if (!app.consentGranted) return fail(entraErrors.consentRequired(app.clientId, app.displayName));

  const accessToken = issueAccessToken({
    signingKey: context.signingKey,
    // v1.0 access tokens (what Dataverse and F&O accept) carry the sts.windows.net issuer.
    issuer: `https://sts.windows.net/${tenant.tenantId}/`,
    tenantId: tenant.tenantId,
    app,
    resource: trimSlash(resource),
    lifetimeSeconds: context.tokenLifetimeSeconds,
    usedCertificate,
    now,
  });
  return jsonResponse(
    200,
    {
      token_type: 'Bearer',
      expires_in: context.tokenLifetimeSeconds,
      ext_expires_in: context.tokenLifetimeSeconds,
      access_token: accessToken,
    },
    { 'cache-control': 'no-store, no-cache', pragma: 'no-cache' },
  );
}

function checkClientSecret(app: AppRegistration, presented: string, now: Date): EntraErrorSpec | undefined {
  const secret = app.secrets.find((candidate) => secretsEqual(candidate.value, presented));
  if (!secret) return entraErrors.invalidClientSecret(app.clientId);
  if (secret.expiresAt.getTime() <= now.getTime()) return entraErrors.clientSecretExpired(app.clientId);
  return undefined;
}

function checkClientAssertion(
  app: AppRegistration,
  assertion: string,
  tokenEndpoints: string[],
  now: Date,
): EntraErrorSpec | undefined {
  const jwt = decodeJwt(assertion);
  if (!jwt) return entraErrors.assertionInvalid('The client assertion is not a well-formed JWT.');
  const x5tS256 = typeof jwt.header['x5t#S256'] === 'string' ? jwt.header['x5t#S256'] : undefined;
  const x5t = typeof jwt.header.x5t === 'string' ? jwt.header.x5t : undefined;
  if (!x5tS256 && !x5t)
    return entraErrors.assertionInvalid('The client assertion has no x5t#S256 or x5t header.');
  const certificate = app.certificates.find((candidate) =>
    x5tS256 ? candidate.thumbprints.x5tS256 === x5tS256 : candidate.thumbprints.x5t === x5t,
  );
  if (!certificate) return entraErrors.certificateNotRegistered(app.clientId, String(x5tS256 ?? x5t));
  if (!verifyJwtSignature(jwt, certificate.publicKey)) return entraErrors.assertionSignatureInvalid();
  const { aud, exp, nbf, iss, sub } = jwt.payload;
  if (iss !== app.clientId || sub !== app.clientId) {
    return entraErrors.assertionInvalid("The 'iss' and 'sub' claims must be the client id.");
  }
  const audience = String(aud);
  if (!tokenEndpoints.some((endpoint) => trimSlash(endpoint) === trimSlash(audience))) {
    return entraErrors.assertionAudienceInvalid(audience, tokenEndpoints[1] ?? '');
  }
  const nowSeconds = Math.floor(now.getTime() / 1000);
  if (typeof exp !== 'number' || exp + allowedClockSkewSeconds < nowSeconds)
    return entraErrors.assertionOutsideValidity();
  if (typeof nbf === 'number' && nbf - allowedClockSkewSeconds > nowSeconds)
    return entraErrors.assertionOutsideValidity();
  return undefined;
}
