import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { AppError, type ErrorCode, errorResponseSchema } from '../../errors.js';
import {
  connectAccount,
  createProviderDependencies,
  UnsyncableAccountError,
} from '../../providers/registry.js';
import {
  PassthroughError,
  type PassthroughResponse,
  type ProviderConnection,
} from '../../providers/types.js';
import { PassthroughConnections } from '../passthrough-connections.js';
import {
  type PassthroughRequestBody,
  passthroughRequestBody,
  passthroughResponseBody,
} from '../passthrough-input.js';

/**
 * POST /v1/passthrough (docs/passthrough.md): one request to the linked account's own provider API
 * with the account's credentials, answered with the provider's status, headers and body. Here: the
 * permission, size and time limits, the mapping of failures to our error shape, and the audit row
 * every call leaves. The provider (ProviderConnection.passthrough) picks the API root and credentials.
 */

const errors = {
  400: errorResponseSchema.describe(
    'The body is malformed: a refused path, header or target; details name it.',
  ),
  401: errorResponseSchema.describe('The API key or account token is missing or invalid.'),
  403: errorResponseSchema.describe(
    'passthrough_not_allowed: the key lacks the passthrough permission or the sensitive permission.',
  ),
  404: errorResponseSchema.describe('No linked account of yours has this account token.'),
  409: errorResponseSchema.describe(
    'The account has no provider API to pass through to (e.g. generated data).',
  ),
  413: errorResponseSchema.describe('The request body is larger than PASSTHROUGH_MAX_REQUEST_BYTES.'),
  429: errorResponseSchema.describe(
    'The passthrough rate limit is exceeded; retry after the Retry-After header.',
  ),
  502: errorResponseSchema.describe(
    "provider_unreachable (no token for the account's credentials, or no connection) or provider_response_too_large (the answer exceeds PASSTHROUGH_MAX_RESPONSE_BYTES).",
  ),
  504: errorResponseSchema.describe(
    'provider_timeout: no complete answer within PASSTHROUGH_TIMEOUT_SECONDS.',
  ),
};

const FAILURE_CODES: Record<Exclude<PassthroughError['failure'], 'refused'>, ErrorCode> = {
  timeout: 'provider_timeout',
  response_too_large: 'provider_response_too_large',
  unreachable: 'provider_unreachable',
};

/** A provider's refusal or failure in our error shape; a refusal names the request field at fault. */
function toAppError(error: PassthroughError): AppError {
  if (error.failure === 'refused') {
    return new AppError('invalid_request_body', error.message, [
      { ...(error.field ? { field: error.field } : {}), message: error.message },
    ]);
  }
  return new AppError(FAILURE_CODES[error.failure], error.message);
}

function checkPermission(request: FastifyRequest): void {
  const { passthrough, sensitive } = request.apiKey;
  if (passthrough && sensitive) return;
  throw new AppError(
    'passthrough_not_allowed',
    'This API key may not use passthrough: it needs the passthrough permission and the sensitive permission, since provider answers are raw data (docs/passthrough.md).',
    [
      {
        field: 'Authorization',
        message: `ask for a key created with ${[passthrough ? '' : '--passthrough', sensitive ? '' : '--sensitive'].filter(Boolean).join(' ')} (hris key create)`,
      },
    ],
  );
}

interface AuditEntry {
  status: number;
  providerStatus: number | null;
  errorCode: string | null;
}

export async function passthroughRoutes(app: FastifyInstance): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const { config } = app;
  // Passthrough's own HTTP pools to the providers (each definition's "passthrough" dependencies:
  // the passthrough time limit as timeouts, short retries), so a platform's raw calls never queue
  // behind a large sync.
  const { dependencies: providers, close } = await createProviderDependencies(config, {
    purpose: 'passthrough',
    ...(app.providerCaCertPem ? { caCertPem: app.providerCaCertPem } : {}),
  });
  const connections = new PassthroughConnections({
    open: (accountId) => connectAccount(app.db, app.keyring, providers, accountId),
    fingerprint: async (accountId) => {
      const { rows } = await app.db.pool.query<{ fingerprint: string | null }>(
        'SELECT md5(credentials_encrypted) AS fingerprint FROM linked_accounts WHERE id = $1',
        [accountId],
      );
      return rows[0]?.fingerprint ?? '';
    },
  });
  app.addHook('onClose', async () => {
    await connections.close();
    await close();
  });
  const maxRequestBytes = config.PASSTHROUGH_MAX_REQUEST_BYTES;
  const timeoutMs = config.PASSTHROUGH_TIMEOUT_SECONDS * 1000;

  async function audit(
    request: FastifyRequest,
    body: PassthroughRequestBody,
    entry: AuditEntry,
    startedAt: number,
  ): Promise<void> {
    await app.db.pool.query(
      `INSERT INTO passthrough_audits (api_key_id, linked_account_id, method, target, path, query_names,
         status, provider_status, error_code, duration_ms, request_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        request.apiKey.keyId,
        request.account.id,
        body.method,
        body.target ?? null,
        body.path,
        Object.keys(body.query ?? {}),
        entry.status,
        entry.providerStatus,
        entry.errorCode,
        Math.round(performance.now() - startedAt),
        request.id,
      ],
    );
  }

  /** The provider's answer, within the time limit. */
  async function passThrough(accountId: string, body: PassthroughRequestBody): Promise<PassthroughResponse> {
    let connection: ProviderConnection;
    try {
      connection = await connections.get(accountId);
    } catch (error) {
      if (!(error instanceof UnsyncableAccountError)) throw error;
      throw new AppError('conflict', 'This linked account has no provider API to pass through to.', [
        { field: 'X-Account-Token', message: 'an account without an HR system (e.g. generated data)' },
      ]);
    }
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), timeoutMs);
    try {
      if (!connection.passthrough) {
        throw new AppError('conflict', "This linked account's provider does not offer passthrough.");
      }
      const timedOut = new Promise<never>((_resolve, reject) => {
        deadline.signal.addEventListener('abort', () =>
          reject(
            new PassthroughError('timeout', `The provider did not answer within ${timeoutMs / 1000} s.`),
          ),
        );
      });
      const answer = connection.passthrough({
        method: body.method,
        path: body.path,
        query: body.query ?? {},
        headers: Object.fromEntries(
          Object.entries(body.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
        ),
        body: body.body,
        target: body.target,
        signal: deadline.signal,
        maxResponseBytes: config.PASSTHROUGH_MAX_RESPONSE_BYTES,
      });
      // Whichever settles first; the loser's rejection is handled by race, never left floating.
      return await Promise.race([answer, timedOut]);
    } catch (error) {
      throw error instanceof PassthroughError ? toAppError(error) : error;
    } finally {
      clearTimeout(timer);
    }
  }

  routes.post(
    '/v1/passthrough',
    {
      // Room for the envelope around a body of the allowed size, whitespace included; the body itself
      // is measured exactly in the handler.
      bodyLimit: 2 * maxRequestBytes + 65_536,
      config: { rateLimit: { max: config.PASSTHROUGH_RATE_LIMIT_PER_MINUTE, timeWindow: 60_000 } },
      schema: {
        operationId: 'passthrough',
        summary: 'Passthrough request',
        description:
          "Sends one request, with the linked account's own credentials, to its provider's API (Dynamics 365: Dataverse Web API or Finance & Operations OData) and answers with the provider's status, headers and body, for data the unified models do not cover. Only to that account's API root; redirects are returned, never followed; bounded in size and time; every call is audited (never the bodies); a separate, lower rate limit (PASSTHROUGH_RATE_LIMIT_PER_MINUTE). Needs a key with both the passthrough and the sensitive permission: answers are raw provider data, sensitive fields included. See docs/passthrough.md.",
        tags: ['Passthrough'],
        security: [{ apiKey: [], accountToken: [] }],
        body: passthroughRequestBody,
        response: { 200: passthroughResponseBody, ...errors },
      },
    },
    async (request) => {
      const startedAt = performance.now();
      const { body } = request;
      const entry: AuditEntry = { status: 500, providerStatus: null, errorCode: 'internal_error' };
      try {
        checkPermission(request);
        if (body.body !== undefined && Buffer.byteLength(JSON.stringify(body.body)) > maxRequestBytes) {
          throw new AppError(
            'payload_too_large',
            `The body sent to the provider may be at most ${maxRequestBytes} bytes of JSON.`,
            [
              {
                field: 'body',
                message: `larger than ${maxRequestBytes} bytes (PASSTHROUGH_MAX_REQUEST_BYTES)`,
              },
            ],
          );
        }
        const answer = await passThrough(request.account.id, body);
        Object.assign(entry, { status: 200, providerStatus: answer.status, errorCode: null });
        return {
          status: answer.status,
          headers: answer.headers,
          body: answer.body,
          body_encoding: answer.bodyEncoding,
        };
      } catch (error) {
        if (error instanceof AppError) Object.assign(entry, { status: error.status, errorCode: error.code });
        throw error;
      } finally {
        await audit(request, body, entry, startedAt);
      }
    },
  );
}
