import {
  ConfidentialClientApplication,
  type Configuration,
  type INetworkModule,
  ServerError,
} from '@azure/msal-node';
import { certificateFacts, type DynamicsCredentials } from './credentials.js';

/**
 * Entra ID access tokens for one linked account, through MSAL Node's confidential client (client
 * secret or certificate). MSAL caches each token in memory until shortly before it expires, so
 * asking for a token per request costs nothing; `forceRefresh` is for a 401 in the middle of a sync.
 */

/**
 * Entra ID clouds whose metadata MSAL knows. Any other host (the sandbox, a private cloud) is an authority
 * host override: listed in `knownAuthorities`, so MSAL trusts it without instance discovery and then runs
 * its production path (AAD protocol, `{authority}/v2.0/.well-known/openid-configuration`).
 */
const MICROSOFT_AUTHORITY_HOSTS = new Set([
  'login.microsoftonline.com',
  'login.microsoftonline.us',
  'login.chinacloudapi.cn',
  'login.partner.microsoftonline.cn',
]);

export class TokenAcquisitionError extends Error {
  constructor(
    message: string,
    /** AADSTS number when Entra answered with one (e.g. 7000215). */
    readonly aadsts: number | undefined,
    /** OAuth error code (invalid_client, unauthorized_client, ...). */
    readonly oauthError: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TokenAcquisitionError';
  }
}

export class DynamicsTokenSource {
  private readonly client: ConfidentialClientApplication;

  constructor(credentials: DynamicsCredentials, networkClient?: INetworkModule) {
    const host = new URL(credentials.authorityHost).host;
    const isMicrosoftCloud = MICROSOFT_AUTHORITY_HOSTS.has(host);
    const auth: Configuration['auth'] = {
      clientId: credentials.clientId,
      // The real authority shape on every host: https://{host}/{tenant}.
      authority: `${credentials.authorityHost.replace(/\/+$/, '')}/${credentials.tenantId}`,
      ...(isMicrosoftCloud ? {} : { knownAuthorities: [host] }),
    };
    if (credentials.auth.type === 'secret') {
      auth.clientSecret = credentials.auth.clientSecret;
    } else {
      const facts = certificateFacts(credentials.auth.certificatePem);
      auth.clientCertificate = {
        thumbprintSha256: facts.thumbprintSha256,
        privateKey: credentials.auth.privateKeyPem,
        x5c: credentials.auth.certificatePem,
      };
    }
    this.client = new ConfidentialClientApplication({
      auth,
      system: networkClient ? { networkClient } : {},
    });
  }

  /** An access token for `resource` (an environment URL such as https://contoso.crm.dynamics.com). */
  async token(resource: string, forceRefresh = false): Promise<string> {
    try {
      const result = await this.client.acquireTokenByClientCredential({
        scopes: [`${resource.replace(/\/+$/, '')}/.default`],
        skipCache: forceRefresh,
      });
      if (!result?.accessToken)
        throw new TokenAcquisitionError('Entra ID returned no access token', undefined, undefined);
      return result.accessToken;
    } catch (error) {
      if (error instanceof TokenAcquisitionError) throw error;
      if (error instanceof ServerError) {
        const aadsts = Number(error.errorNo ?? /AADSTS(\d+)/.exec(error.errorMessage)?.[1]);
        throw new TokenAcquisitionError(
          error.errorMessage.split('\r\n')[0] || error.message,
          Number.isFinite(aadsts) ? aadsts : undefined,
          error.errorCode,
          { cause: error },
        );
      }
      const message = error instanceof Error ? error.message : String(error);
      throw new TokenAcquisitionError(`Could not reach Entra ID: ${message}`, undefined, undefined, {
        cause: error,
      });
    }
  }
}
