import { setTimeout as delay } from 'node:timers/promises';
import { type Dispatcher, request } from 'undici';
import { Semaphore } from '../../util/semaphore.js';
import { type BambooCredentials, bambooApiBase } from './credentials.js';

/**
 * HTTP to one BambooHR account: Basic authentication with the API key as user name (any password),
 * JSON in and out, and the documented failure modes handled here once (docs/bamboohr.md, "Errors",
 * "Rate limiting"): Retry-After honoured on 429 and 503, exponential backoff with jitter on other
 * 5xx and broken connections, within a retry budget. Other statuses throw BambooHttpError at once.
 */
export interface BambooClientOptions {
  credentials: BambooCredentials;
  dispatcher: Dispatcher;
  /** Requests in flight at once for this account. */
  concurrency: number;
  /** Total time to keep retrying one request. */
  retryBudgetMs: number;
  onRetry?: (event: { url: string; attempt: number; waitMs: number; reason: string }) => void;
}

export class BambooHttpError extends Error {
  constructor(
    readonly status: number,
    readonly path: string,
    /** BambooHR's X-BambooHR-Error-Message, when it sent one. */
    readonly bambooMessage: string | undefined,
    /** Seconds from Retry-After, on a throttled request that ran out of retries. */
    readonly retryAfterSeconds?: number,
  ) {
    super(`BambooHR answered ${status} to ${path}${bambooMessage ? `: ${bambooMessage}` : ''}`);
    this.name = 'BambooHttpError';
  }

  /** Throttled: 429 since 2026-09-16, 503 with Retry-After before (docs/bamboohr.md, "Rate limiting"). */
  get rateLimited(): boolean {
    return this.status === 429 || (this.status === 503 && this.retryAfterSeconds !== undefined);
  }
}

/** The account could not be reached at all (DNS, TLS, connection refused) within the budget. */
export class BambooNetworkError extends Error {
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super(
      `BambooHR could not be reached for ${path}: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
    this.name = 'BambooNetworkError';
  }
}

class Retryable extends Error {
  constructor(
    message: string,
    readonly waitMs: number | undefined,
    readonly final: Error,
  ) {
    super(message);
  }
}

const MAX_BACKOFF_MS = 30_000;

export class BambooClient {
  readonly base: string;
  private readonly authorization: string;
  private readonly limiter: Semaphore;

  constructor(private readonly options: BambooClientOptions) {
    this.base = bambooApiBase(options.credentials);
    this.authorization = `Basic ${Buffer.from(`${options.credentials.apiKey}:x`).toString('base64')}`;
    this.limiter = new Semaphore(options.concurrency);
  }

  /** GET `path` (relative to the account's v1 root) with query parameters, as JSON. */
  get<T = unknown>(path: string, query: Record<string, string> = {}, body?: unknown): Promise<T> {
    return this.send<T>('GET', path, query, body);
  }

  post<T = unknown>(path: string, query: Record<string, string>, body: unknown): Promise<T> {
    return this.send<T>('POST', path, query, body);
  }

  private async send<T>(
    method: 'GET' | 'POST',
    path: string,
    query: Record<string, string>,
    body: unknown,
  ): Promise<T> {
    const url = new URL(path, this.base);
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.limiter.run(() => this.once<T>(method, url, path, body));
      } catch (error) {
        if (!(error instanceof Retryable)) throw error;
        const backoff = Math.min(MAX_BACKOFF_MS, 250 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
        const waitMs = error.waitMs ?? backoff;
        if (Date.now() + waitMs - started > this.options.retryBudgetMs) throw error.final;
        this.options.onRetry?.({ url: url.toString(), attempt, waitMs, reason: error.message });
        await delay(waitMs);
      }
    }
  }

  private async once<T>(method: 'GET' | 'POST', url: URL, path: string, body: unknown): Promise<T> {
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method,
        dispatcher: this.options.dispatcher,
        headers: {
          authorization: this.authorization,
          accept: 'application/json',
          // Exactly this value: any other is parsed as XML by the report endpoint (docs/bamboohr.md).
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new Retryable(
        `network error: ${(error as Error).message}`,
        undefined,
        new BambooNetworkError(path, error),
      );
    }
    let text: string;
    try {
      text = await response.body.text();
    } catch (error) {
      throw new Retryable(
        `connection lost while reading: ${(error as Error).message}`,
        undefined,
        new BambooNetworkError(path, error),
      );
    }
    const status = response.statusCode;
    if (status >= 200 && status < 300) {
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new Retryable(
          'truncated or malformed JSON',
          undefined,
          new BambooNetworkError(path, 'malformed JSON'),
        );
      }
    }
    const header = response.headers['x-bamboohr-error-message'];
    const message = Array.isArray(header) ? header.join(' ') : header;
    const retryAfterHeader = Number(response.headers['retry-after']);
    const retryAfter =
      Number.isFinite(retryAfterHeader) && retryAfterHeader >= 0 ? retryAfterHeader : undefined;
    const failure = new BambooHttpError(status, path, message, retryAfter);
    if (status === 429 || status >= 500) {
      throw new Retryable(
        `HTTP ${status}`,
        retryAfter === undefined ? undefined : retryAfter * 1000,
        failure,
      );
    }
    throw failure;
  }
}
