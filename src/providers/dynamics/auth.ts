import { setTimeout as sleep } from 'node:timers/promises';
import {
  ConfidentialClientApplication,
  type Configuration,
  type INetworkModule,
  InteractionRequiredAuthError,
  type NetworkRequestOptions,
  type NetworkResponse,
  ServerError,
} from '@azure/msal-node';
import { certificateFacts } from '../../crypto/certificate-facts.js';
import type { DynamicsCredentials } from './credentials.js';

/**
 * Entra ID access tokens for one linked account, through MSAL Node's confidential client (client
 * secret or certificate). MSAL caches each token in memory until shortly before it expires, so
 * asking for a token per request costs nothing; `forceRefresh` is for a 401 in the middle of a sync.
 *
 * Entra ID outages are retried like Dataverse and F&O calls (odata-client.ts): a 5xx, a 429, a
 * connection reset or a cut-off body is retried with Retry-After or exponential backoff within the
 * retry budget; an answer Entra means (a 4xx with an AADSTS code, missing consent) is not.
 * The transient answers are turned into network failures before MSAL sees them: otherwise MSAL's
 * throttling cache replays the 5xx for 60 s to every retry without asking Entra again
 * (msal-common ThrottlingUtils, DEFAULT_THROTTLE_TIME_SECONDS).
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
    options?: { cause?: unknown; suberror?: string },
  ) {
    super(message, options);
    this.name = 'TokenAcquisitionError';
    this.suberror = options?.suberror || undefined;
  }

  /** Entra's suberror, e.g. consent_required (AADSTS65001, raised by MSAL as interaction required). */
  readonly suberror: string | undefined;
}

export interface TokenRetryOptions {
  /** Total time to keep retrying one token request (the sync's retry budget). */
  retryBudgetMs: number;
  onRetry?: (event: { url: string; attempt: number; waitMs: number; reason: string }) => void;
}

/** A token-endpoint answer worth asking again: 5xx, 429, connection lost, body cut off. */
class TransientEntraFailure extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

const BACKOFF_BASE_MS = 250;
const BACKOFF_CAP_MS = 30_000;

/** The first line of an OAuth error body's description (the AADSTS sentence). */
function describeEntraBody(body: unknown): string {
  const record = (body ?? {}) as { error?: unknown; error_description?: unknown };
  const description = typeof record.error_description === 'string' ? record.error_description : '';
  return [record.error, description.split('\r\n')[0]].filter(Boolean).join(': ');
}

export class DynamicsTokenSource {
  private readonly client: ConfidentialClientApplication;
  /** Transient failures seen by this source's network module, and the latest. */
  private transientCount = 0;
  private lastTransient: TransientEntraFailure | undefined;
  /** An OAuth error body on a discovery document (e.g. AADSTS90002, unknown tenant): MSAL drops it. */
  private discoveryFailure: { aadsts: number | undefined; error: string; description: string } | undefined;
  private readonly retry: TokenRetryOptions;

  constructor(credentials: DynamicsCredentials, networkClient?: INetworkModule, retry?: TokenRetryOptions) {
    this.retry = retry ?? { retryBudgetMs: 0 };
    const network = networkClient ? this.guardTransient(networkClient) : undefined;
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
      system: network ? { networkClient: network } : {},
    });
  }

  /**
   * Wraps the network module: a transient answer becomes a thrown error (which MSAL reports as a
   * network error and does not cache), remembered here so the retry loop knows what happened.
   */
  private guardTransient(inner: INetworkModule): INetworkModule {
    const guard = async <T>(url: string, send: () => Promise<NetworkResponse<T>>) => {
      let response: NetworkResponse<T>;
      try {
        response = await send();
      } catch (error) {
        throw this.noteTransient(
          new TransientEntraFailure(
            `network error: ${error instanceof Error ? error.message : String(error)}`,
          ),
        );
      }
      const body = response.body as { error?: unknown } | undefined;
      if (response.status >= 500 || response.status === 429) {
        const retryAfter = Number(response.headers['retry-after']);
        throw this.noteTransient(
          new TransientEntraFailure(
            `Entra ID answered ${response.status} for ${new URL(url).pathname}${describeEntraBody(body) ? ` (${describeEntraBody(body)})` : ''}`,
            Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : undefined,
          ),
        );
      }
      if (response.status >= 400 && !url.includes('/token')) {
        const failure = (body ?? {}) as {
          error?: unknown;
          error_codes?: unknown;
          error_description?: unknown;
        };
        if (typeof failure.error === 'string') {
          const codes = Array.isArray(failure.error_codes) ? failure.error_codes : [];
          this.discoveryFailure = {
            aadsts: typeof codes[0] === 'number' ? codes[0] : undefined,
            error: failure.error,
            description: describeEntraBody(body),
          };
        }
      }
      // createMsalNetworkClient's marker for a body that is not JSON: cut off on the way.
      if (body?.error === 'invalid_response') {
        throw this.noteTransient(new TransientEntraFailure('truncated or malformed JSON from Entra ID'));
      }
      return response;
    };
    return {
      sendGetRequestAsync: <T>(url: string, options?: NetworkRequestOptions, timeout?: number) =>
        guard(url, () => inner.sendGetRequestAsync<T>(url, options, timeout)),
      sendPostRequestAsync: <T>(url: string, options?: NetworkRequestOptions) =>
        guard(url, () => inner.sendPostRequestAsync<T>(url, options)),
    };
  }

  private noteTransient(failure: TransientEntraFailure): TransientEntraFailure {
    this.transientCount++;
    this.lastTransient = failure;
    return failure;
  }

  /** An access token for `resource` (an environment URL such as https://contoso.crm.dynamics.com). */
  async token(resource: string, forceRefresh = false): Promise<string> {
    const deadline = Date.now() + this.retry.retryBudgetMs;
    for (let attempt = 0; ; attempt++) {
      const transientBefore = this.transientCount;
      try {
        return await this.acquire(resource, forceRefresh);
      } catch (error) {
        const transient = this.transientCount > transientBefore ? this.lastTransient : undefined;
        if (!transient) throw error;
        const backoff = Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
        const waitMs = transient.retryAfterMs ?? backoff;
        if (Date.now() + waitMs > deadline) {
          throw new TokenAcquisitionError(
            `Could not reach Entra ID${attempt > 0 ? ` (gave up after ${attempt + 1} attempts)` : ''}: ${transient.message}`,
            undefined,
            undefined,
            { cause: error },
          );
        }
        this.retry.onRetry?.({ url: 'entra:token', attempt, waitMs, reason: transient.message });
        await sleep(waitMs);
      }
    }
  }

  private async acquire(resource: string, forceRefresh: boolean): Promise<string> {
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
      // Missing consent (AADSTS65001, suberror consent_required) and other "interaction required"
      // answers: MSAL raises InteractionRequiredAuthError, which is not a ServerError.
      if (error instanceof ServerError || error instanceof InteractionRequiredAuthError) {
        const aadsts = Number(error.errorNo ?? /AADSTS(\d+)/.exec(error.errorMessage)?.[1]);
        throw new TokenAcquisitionError(
          error.errorMessage.split('\r\n')[0] || error.message,
          Number.isFinite(aadsts) ? aadsts : undefined,
          error.errorCode,
          { cause: error, suberror: error.subError },
        );
      }
      // MSAL reports a refused discovery document (unknown tenant: 400 AADSTS90002) only as
      // endpoints_resolution_error; the body it dropped says what is wrong.
      const discovery = this.discoveryFailure;
      if ((error as { errorCode?: string }).errorCode === 'endpoints_resolution_error' && discovery) {
        throw new TokenAcquisitionError(discovery.description, discovery.aadsts, discovery.error, {
          cause: error,
        });
      }
      const message = error instanceof Error ? error.message : String(error);
      throw new TokenAcquisitionError(`Could not reach Entra ID: ${message}`, undefined, undefined, {
        cause: error,
      });
    }
  }
}
