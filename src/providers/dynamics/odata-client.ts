import { setTimeout as sleep } from 'node:timers/promises';
import { type Dispatcher, request, errors as undiciErrors } from 'undici';
import type { Semaphore } from '../../util/semaphore.js';
import type { DynamicsTokenSource } from './auth.js';

/**
 * GETs JSON from a Dynamics OData service (Dataverse Web API or F&O /data) the way Microsoft asks
 * clients to behave (https://learn.microsoft.com/power-apps/developer/data-platform/api-limits):
 * honour Retry-After on 429, back off exponentially with jitter on 5xx and network failures, refresh
 * the token once on 401, and give up after a bounded time with the last error. Concurrency per
 * environment is bounded by the caller's semaphore.
 */

export class ODataError extends Error {
  constructor(
    readonly status: number,
    /** The service's error code, e.g. 0x80040220 (Dataverse) or the OData error code. */
    readonly code: string | undefined,
    message: string,
    readonly url: string,
  ) {
    super(message);
    this.name = 'ODataError';
  }
}

export type ODataErrorConstructor = new (
  status: number,
  code: string | undefined,
  message: string,
  url: string,
) => ODataError;

export interface ODataClientOptions {
  /** Token audience: the environment URL. */
  resource: string;
  tokens: DynamicsTokenSource;
  dispatcher: Dispatcher;
  limiter: Semaphore;
  /** Total time to keep retrying one request (5xx, network failures, throttling). */
  retryBudgetMs: number;
  /**
   * A 429's Retry-After is honoured even past the retry budget, up to this long in total
   * (default: the larger of the budget and 30 minutes): the service asked for patience, not
   * for the sync to fail. The run's lease is kept alive meanwhile (sync/engine.ts).
   */
  throttleBudgetMs?: number;
  /** Per-attempt timeout for headers and body. */
  timeoutMs?: number;
  onRetry?: (event: { url: string; attempt: number; waitMs: number; reason: string }) => void;
  /** The error class thrown for 4xx answers (F&O words its own), default ODataError. */
  errorType?: ODataErrorConstructor;
}

/** One request: GET by default; the body text is handed to `parse` (JSON.parse by default). */
export interface ODataRequest<T> {
  method?: 'GET' | 'POST';
  prefer?: string[];
  /** A JSON body for POST. */
  body?: string;
  accept?: string;
  parse: (text: string) => T;
  /**
   * An error answer that must not be retried whatever its status (e.g. an expired delta token
   * that comes back as a 5xx): thrown at once as the client's error type.
   */
  final?: (error: { status: number; code: string | undefined; message: string }) => boolean;
}

export interface ODataResponse {
  body: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
}

const BACKOFF_BASE_MS = 250;
const BACKOFF_CAP_MS = 30_000;
const DEFAULT_THROTTLE_BUDGET_MS = 30 * 60_000;

class RetryableError extends Error {
  constructor(
    message: string,
    readonly waitMs?: number,
    /** What the service answered, kept for the error thrown when retries end. */
    readonly answer?: { status: number; code: string | undefined },
    /** A 429 asking to wait: honoured within the throttle budget. */
    readonly throttled = false,
  ) {
    super(message);
  }
}

/**
 * The `{"error": {"code", "message"}}` body both services send; F&O adds an innererror whose
 * message is the useful part (its outer message is often just "An error has occurred.").
 * A body cut off on the way still names its code and message near its start: they are read
 * from the text then, so a truncated answer is diagnosed like a complete one.
 */
export function parseErrorBody(text: string): { code?: string; message?: string } {
  try {
    const parsed = JSON.parse(text) as {
      error?: { code?: string; message?: string; innererror?: { message?: string } };
    };
    const error = parsed.error;
    if (!error) return {};
    const parts = [error.message, error.innererror?.message].filter(
      (part) => part && part !== 'An error has occurred.',
    );
    return { ...(error.code ? { code: error.code } : {}), message: parts.join(': ') || error.message || '' };
  } catch {
    const code = /"code"\s*:\s*"([^"\\]*)"/.exec(text)?.[1];
    const message = /"message"\s*:\s*"((?:[^"\\]|\\.)*)/.exec(text)?.[1];
    return {
      ...(code ? { code } : {}),
      ...(message || text ? { message: (message ?? text).slice(0, 300) } : {}),
    };
  }
}

const parseJson = (text: string) => JSON.parse(text) as Record<string, unknown>;

export class ODataClient {
  constructor(private readonly options: ODataClientOptions) {}

  async get(
    url: string,
    prefer: string[] = [],
    final?: ODataRequest<unknown>['final'],
  ): Promise<ODataResponse> {
    const { value, headers } = await this.send(url, {
      prefer,
      parse: parseJson,
      ...(final ? { final } : {}),
    });
    return { body: value, headers };
  }

  async send<T>(
    url: string,
    request: ODataRequest<T>,
  ): Promise<{ value: T; headers: ODataResponse['headers'] }> {
    const started = Date.now();
    const deadline = started + this.options.retryBudgetMs;
    const throttleDeadline =
      started +
      (this.options.throttleBudgetMs ?? Math.max(this.options.retryBudgetMs, DEFAULT_THROTTLE_BUDGET_MS));
    let refreshedToken = false;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.options.limiter.run(() => this.attempt(url, request));
      } catch (error) {
        if (error instanceof ODataError && error.status === 401 && !refreshedToken) {
          // An expired or revoked token mid-sync: get a fresh one, once.
          refreshedToken = true;
          this.options.onRetry?.({
            url,
            attempt,
            waitMs: 0,
            reason: 'token rejected (401): acquiring a new one',
          });
          await this.options.tokens.token(this.options.resource, true);
          continue;
        }
        if (!(error instanceof RetryableError)) throw error;
        const backoff = Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
        const waitMs = error.waitMs ?? backoff;
        const until = error.throttled && error.waitMs !== undefined ? throttleDeadline : deadline;
        if (Date.now() + waitMs > until) {
          // The last answer's status and service code stay on the error, for diagnosis.
          throw new (this.options.errorType ?? ODataError)(
            error.answer?.status ?? 503,
            error.answer?.code,
            `Gave up after ${Math.round((until - started) / 1000)} s of retries: ${error.message}`,
            url,
          );
        }
        this.options.onRetry?.({ url, attempt, waitMs, reason: error.message });
        await sleep(waitMs);
      }
    }
  }

  private async attempt<T>(
    url: string,
    { method = 'GET', prefer = [], body, accept = 'application/json', parse, final }: ODataRequest<T>,
  ): Promise<{ value: T; headers: ODataResponse['headers'] }> {
    const token = await this.options.tokens.token(this.options.resource);
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method,
        dispatcher: this.options.dispatcher,
        headers: {
          accept,
          authorization: `Bearer ${token}`,
          'odata-maxversion': '4.0',
          'odata-version': '4.0',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(prefer.length > 0 ? { prefer: prefer.join(',') } : {}),
        },
        ...(body !== undefined ? { body } : {}),
        headersTimeout: this.options.timeoutMs ?? 60_000,
        bodyTimeout: this.options.timeoutMs ?? 60_000,
      });
    } catch (error) {
      throw new RetryableError(`network error: ${describe(error)}`);
    }
    let text: string;
    try {
      text = await response.body.text();
    } catch (error) {
      throw new RetryableError(`connection lost while reading the response: ${describe(error)}`);
    }
    const { statusCode } = response;
    if (statusCode >= 400) {
      const { code, message } = parseErrorBody(text);
      if (final?.({ status: statusCode, code, message: message ?? '' })) {
        throw new (this.options.errorType ?? ODataError)(
          statusCode,
          code,
          message || `HTTP ${statusCode}`,
          url,
        );
      }
    }
    if (statusCode === 429) {
      const retryAfter = Number(response.headers['retry-after']);
      const { code, message } = parseErrorBody(text);
      throw new RetryableError(
        `throttled (429 ${code ?? ''} ${message ?? ''})`.trim(),
        Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : undefined,
        { status: statusCode, code },
        true,
      );
    }
    if (statusCode >= 500) {
      const { code, message } = parseErrorBody(text);
      throw new RetryableError(
        `server error ${statusCode}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`,
        undefined,
        { status: statusCode, code },
      );
    }
    if (statusCode >= 400) {
      const { code, message } = parseErrorBody(text);
      throw new (this.options.errorType ?? ODataError)(
        statusCode,
        code,
        message || `HTTP ${statusCode}`,
        url,
      );
    }
    try {
      return { value: parse(text), headers: response.headers };
    } catch {
      throw new RetryableError('truncated or malformed JSON in the response');
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof undiciErrors.UndiciError) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return (error as NodeJS.ErrnoException).code ?? error.message;
  return String(error);
}
