import type { LinkedAccountStatus } from '../../generated/prisma/enums.js';
import { TokenAcquisitionError } from './auth.js';
import { diagnoseFno } from './fno/diagnose-fno.js';
import { ODataError } from './odata-client.js';

/**
 * Turns what Entra ID and Dynamics answer into a linked-account status and one plain sentence
 * saying what to fix and where. AADSTS numbers and Dataverse error codes, and how MSAL Node raises
 * each (ServerError, or InteractionRequiredAuthError for missing consent): docs/microsoft-wire.md.
 */
export interface Diagnosis {
  status: LinkedAccountStatus;
  reason: string;
}

const ENTRA_APP = 'Entra admin center > App registrations > your app';
const PPAC_USERS =
  'Power Platform admin center > Environments > your environment > Settings > Users + permissions > Application users';

const AADSTS: Record<number, (error: TokenAcquisitionError) => Diagnosis> = {
  7000215: () => ({
    status: 'needs_reauth',
    reason: `Entra ID rejected the client secret (AADSTS7000215): copy the secret's Value (not its Secret ID) from ${ENTRA_APP} > Certificates & secrets, or create a new one, and relink.`,
  }),
  7000222: () => ({
    status: 'needs_reauth',
    reason: `The client secret has expired (AADSTS7000222): create a new secret in ${ENTRA_APP} > Certificates & secrets and relink with it.`,
  }),
  700016: () => ({
    status: 'error_config',
    reason:
      "Entra ID has no application with this client id in this tenant (AADSTS700016): check the Application (client) ID and the Directory (tenant) ID on the app registration's Overview page.",
  }),
  90002: () => ({
    status: 'error_config',
    reason:
      "Entra ID does not know this tenant (AADSTS90002): check the Directory (tenant) ID on the app registration's Overview page.",
  }),
  700027: () => ({
    status: 'needs_reauth',
    reason: `Entra ID could not verify the certificate assertion (AADSTS700027): upload this certificate's public key in ${ENTRA_APP} > Certificates & secrets > Certificates, or relink with the certificate registered there.`,
  }),
  65001: () => ({
    status: 'error_permissions',
    reason: `Admin consent is missing (AADSTS65001): in ${ENTRA_APP} > API permissions, add Dynamics CRM > user_impersonation and click "Grant admin consent".`,
  }),
  500011: () => ({
    status: 'error_config',
    reason:
      'Entra ID does not know the Dynamics environment as a resource in this tenant (AADSTS500011): check the environment URL (e.g. https://contoso.crm.dynamics.com) and that the environment belongs to this tenant.',
  }),
};

// Dataverse error codes (docs/microsoft-wire.md, "Dataverse errors").
const NOT_A_MEMBER = '0x80072560';
const PRIVILEGE_DENIED = '0x80040220';

function table(message: string): string | undefined {
  return /for entity '([^']+)'/.exec(message)?.[1] ?? /prvRead(\w+)/.exec(message)?.[1];
}

export function diagnose(error: unknown, environment = 'the Dynamics environment'): Diagnosis {
  if (error instanceof TokenAcquisitionError) {
    // Missing consent may come as a suberror without the number (MSAL: InteractionRequiredAuthError).
    const code = error.aadsts ?? (error.suberror === 'consent_required' ? 65001 : undefined);
    const known = code !== undefined ? AADSTS[code] : undefined;
    if (known) return known(error);
    if (error.aadsts !== undefined) {
      return {
        status: 'needs_reauth',
        reason: `Entra ID refused a token (AADSTS${error.aadsts}): ${error.message}`,
      };
    }
    return {
      status: 'degraded',
      reason: `Entra ID could not be reached: ${error.message}. The next sync retries.`,
    };
  }
  // Finance & Operations (OData, DMF) before the generic OData cases: its fixes live in F&O.
  const fno = diagnoseFno(error);
  if (fno) return fno;
  if (error instanceof ODataError) {
    if (error.status === 403 && error.code === NOT_A_MEMBER) {
      return {
        status: 'error_permissions',
        reason: `The app has no application user in ${environment} ("${error.message}"): add it in ${PPAC_USERS} > New app user, then assign it a security role.`,
      };
    }
    if (error.status === 403 && error.code === PRIVILEGE_DENIED) {
      const entity = table(error.message);
      return {
        status: 'error_permissions',
        reason: `Entra registration alone does not grant Dynamics data access: assign a security role with organization-level read${entity ? ` on ${entity}` : ''} to the application user in the Power Platform admin center (${PPAC_USERS} > your app > Manage security roles).`,
      };
    }
    if (error.status === 403) {
      return { status: 'error_permissions', reason: `${environment} refused access (403): ${error.message}` };
    }
    if (error.status === 401) {
      return {
        status: 'error_config',
        reason: `${environment} rejected the access token (401): check that the environment URL is the one the app was granted (token audience) and that it belongs to this tenant.`,
      };
    }
    if (error.status === 404) {
      return {
        status: 'error_config',
        reason: `${environment} answered 404 for ${new URL(error.url).pathname}: check the environment URL.`,
      };
    }
    if (error.status >= 500 || error.status === 429) {
      return {
        status: 'degraded',
        reason: `${environment} kept failing: ${error.message}. The next sync retries.`,
      };
    }
    return { status: 'error_config', reason: `${environment} answered ${error.status}: ${error.message}` };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { status: 'degraded', reason: `Sync failed: ${message}. The next sync retries.` };
}
