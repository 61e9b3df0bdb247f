import { type Dispatcher, request } from 'undici';
import type { TenantCredentials } from './tenant.js';

/**
 * A client-credentials token from a sandbox tenant's Entra endpoint, with its client secret, for
 * tests and benchmarks that call Dataverse or F&O directly (the gateway itself goes through MSAL).
 */
export async function requestSandboxToken(
  dispatcher: Dispatcher,
  tenant: Pick<TenantCredentials, 'authority' | 'clientId' | 'clientSecret'>,
  resource: string,
): Promise<string> {
  const response = await request(`${tenant.authority}/oauth2/v2.0/token`, {
    method: 'POST',
    dispatcher,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: tenant.clientId,
      client_secret: tenant.clientSecret,
      scope: `${resource}/.default`,
    }).toString(),
  });
  const body = (await response.body.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`token request failed: ${JSON.stringify(body)}`);
  return body.access_token;
}
