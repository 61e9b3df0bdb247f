import { randomUUID } from 'node:crypto';
import { jsonResponse, type SandboxResponse } from '../http/types.js';

/**
 * Entra ID error bodies, shaped as docs/microsoft-wire.md, "Entra ID" shows them: the AADSTS code leads error_description,
 * followed by "\r\nTrace ID", "\r\nCorrelation ID" and "\r\nTimestamp" lines; the same facts repeat as fields.
 */
export interface EntraErrorSpec {
  status: number;
  error: string;
  code: number;
  message: string;
  /** e.g. consent_required beside AADSTS65001 (docs/microsoft-wire.md): MSAL reads it. */
  suberror?: string;
}

/** Entra prints timestamps as "2019-01-30 23:53:15Z" (space, no milliseconds). */
function entraTimestamp(now: Date): string {
  return `${now.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

export function entraErrorResponse(
  spec: EntraErrorSpec,
  context: { correlationId?: string; errorUriBase: string; now?: Date },
): SandboxResponse {
  const traceId = randomUUID();
  const correlationId = context.correlationId ?? randomUUID();
  const timestamp = entraTimestamp(context.now ?? new Date());
  return jsonResponse(spec.status, {
    error: spec.error,
    error_description: `AADSTS${spec.code}: ${spec.message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
    error_codes: [spec.code],
    ...(spec.suberror ? { suberror: spec.suberror } : {}),
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `${context.errorUriBase}/error?code=${spec.code}`,
  });
}

/** The diagnosable failures of docs/microsoft-wire.md, "Entra ID", with Entra's wording. */
export const entraErrors = {
  /** Instance discovery for a host that is not this cloud (MSAL's "custom authority aliases" page shows it). */
  invalidInstance: (): EntraErrorSpec => ({
    status: 400,
    error: 'invalid_instance',
    code: 50049,
    message: 'Unknown or invalid instance.',
  }),
  tenantNotFound: (tenant: string): EntraErrorSpec => ({
    status: 400,
    error: 'invalid_request',
    code: 90002,
    message: `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
  }),
  applicationNotFound: (clientId: string, tenantId: string): EntraErrorSpec => ({
    status: 400,
    error: 'unauthorized_client',
    code: 700016,
    message: `Application with identifier '${clientId}' was not found in the directory '${tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
  }),
  invalidClientSecret: (clientId: string): EntraErrorSpec => ({
    status: 401,
    error: 'invalid_client',
    code: 7000215,
    message: `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
  }),
  clientSecretExpired: (clientId: string): EntraErrorSpec => ({
    status: 401,
    error: 'invalid_client',
    code: 7000222,
    message: `The provided client secret keys for app '${clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
  }),
  missingCredential: (): EntraErrorSpec => ({
    status: 401,
    error: 'invalid_client',
    code: 7000218,
    message: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
  }),
  certificateNotRegistered: (clientId: string, thumbprint: string): EntraErrorSpec => ({
    status: 401,
    error: 'invalid_client',
    code: 700027,
    message: `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${thumbprint}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${clientId}'.]`,
  }),
  assertionSignatureInvalid: (): EntraErrorSpec => ({
    status: 401,
    error: 'invalid_client',
    code: 700027,
    message: 'Client assertion failed signature validation.',
  }),
  assertionInvalid: (reason: string): EntraErrorSpec => ({
    status: 401,
    error: 'invalid_client',
    code: 700027,
    message: `Client assertion contains an invalid signature. [Reason - ${reason}]`,
  }),
  assertionOutsideValidity: (): EntraErrorSpec => ({
    status: 400,
    error: 'invalid_client',
    code: 700024,
    message: 'Client assertion is not within its valid time range.',
  }),
  assertionAudienceInvalid: (audience: string, expected: string): EntraErrorSpec => ({
    status: 400,
    error: 'invalid_client',
    code: 50027,
    message: `The audience claim value '${audience}' is invalid; the token endpoint '${expected}' was expected.`,
  }),
  resourceNotFound: (resource: string, tenantId: string): EntraErrorSpec => ({
    status: 400,
    error: 'invalid_resource',
    code: 500011,
    message: `The resource principal named ${resource} was not found in the tenant named ${tenantId}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
  }),
  consentRequired: (clientId: string, appName: string): EntraErrorSpec => ({
    status: 400,
    error: 'invalid_grant',
    code: 65001,
    suberror: 'consent_required',
    message: `The user or administrator has not consented to use the application with ID '${clientId}' named '${appName}'. Send an interactive authorization request for this user and resource.`,
  }),
  invalidScope: (scope: string): EntraErrorSpec => ({
    status: 400,
    error: 'invalid_scope',
    code: 1002012,
    message: `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
  }),
  unsupportedGrantType: (): EntraErrorSpec => ({
    status: 400,
    error: 'unsupported_grant_type',
    code: 70003,
    message: 'The app requested an unsupported grant type.',
  }),
  missingClientId: (): EntraErrorSpec => ({
    status: 400,
    error: 'invalid_request',
    code: 900144,
    message: "The request body must contain the following parameter: 'client_id'.",
  }),
};
