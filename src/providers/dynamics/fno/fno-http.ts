import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Dispatcher, request } from 'undici';
import type { DynamicsTokenSource } from '../auth.js';
import { ODataError } from '../odata-client.js';

/**
 * HTTP to a Finance & Operations environment (reference §6): OData GETs (JSON and the CSDL
 * `$metadata` XML), DMF action POSTs, and the package download from blob storage. The token's
 * audience is the F&O environment URL, not Dataverse's. Like the Dataverse client: Retry-After on 429
 * (F&O's priority-based throttling), exponential backoff on 5xx and network errors within a budget,
 * one token refresh on 401. Errors are FnoError (an ODataError) so diagnose.ts can word them for F&O.
 */

export class FnoError extends ODataError {
  constructor(status: number, code: string | undefined, message: string, url: string) {
    super(status, code, message, url);
    this.name = 'FnoError';
  }
}

export interface FnoHttpOptions {
  /** The F&O environment URL, e.g. https://contoso.operations.dynamics.com (token audience). */
  environmentUrl: string;
  tokens: DynamicsTokenSource;
  dispatcher: Dispatcher;
  retryBudgetMs: number;
  timeoutMs?: number;
  onRetry?: (event: { url: string; attempt: number; waitMs: number; reason: string }) => void;
}

class Retryable extends Error {
  constructor(
    message: string,
    readonly waitMs?: number,
  ) {
    super(message);
  }
}

const BACKOFF_BASE_MS = 250;
const BACKOFF_CAP_MS = 30_000;

function errorMessage(text: string): { code?: string; message?: string } {
  try {
    const parsed = JSON.parse(text) as {
      error?: { code?: string; message?: string; innererror?: { message?: string } };
    };
    const error = parsed.error;
    if (!error) return {};
    const inner = error.innererror?.message;
    const message = [error.message, inner].filter((part) => part && part !== 'An error has occurred.');
    return {
      ...(error.code ? { code: error.code } : {}),
      message: message.join(': ') || error.message || '',
    };
  } catch {
    return text ? { message: text.slice(0, 300) } : {};
  }
}

export class FnoHttp {
  readonly dataRoot: string;

  constructor(private readonly options: FnoHttpOptions) {
    this.dataRoot = `${options.environmentUrl}/data/`;
  }

  async getJson(url: string, prefer: string[] = []): Promise<Record<string, unknown>> {
    return this.send('GET', url, parseJson, undefined, prefer);
  }

  async getText(url: string): Promise<string> {
    return this.send('GET', url, (text) => text, undefined, [], 'application/xml');
  }

  /**
   * A DMF action (`DataManagementDefinitionGroups/Microsoft.Dynamics.DataEntities.{action}`); returns
   * its string value. The docs show both `{"value":"..."}` and `{"value":{"value":"..."}}`: accept both.
   */
  async dmfAction(action: string, body: Record<string, unknown>): Promise<string> {
    const url = `${this.dataRoot}DataManagementDefinitionGroups/Microsoft.Dynamics.DataEntities.${action}`;
    const parsed = await this.send('POST', url, parseJson, JSON.stringify(body));
    let value = (parsed as { value?: unknown }).value;
    if (value && typeof value === 'object') value = (value as { value?: unknown }).value;
    if (typeof value !== 'string')
      throw new FnoError(502, undefined, `${action} returned no string value`, url);
    return value;
  }

  /** Streams a package from its SAS URL to `path` (no bearer token: the URL carries its signature). */
  async download(url: string, path: string): Promise<void> {
    const response = await request(url, {
      dispatcher: this.options.dispatcher,
      headersTimeout: this.options.timeoutMs ?? 60_000,
      bodyTimeout: this.options.timeoutMs ?? 60_000,
    });
    if (response.statusCode !== 200) {
      const text = await response.body.text();
      const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
      const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? `HTTP ${response.statusCode}`;
      throw new FnoError(response.statusCode, code, `package download failed: ${message}`, redact(url));
    }
    await pipeline(response.body, createWriteStream(path));
  }

  private async send<T>(
    method: 'GET' | 'POST',
    url: string,
    parse: (text: string) => T,
    body?: string,
    prefer: string[] = [],
    accept = 'application/json',
  ): Promise<T> {
    const deadline = Date.now() + this.options.retryBudgetMs;
    let refreshed = false;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt(method, url, parse, body, prefer, accept);
      } catch (error) {
        if (error instanceof FnoError && error.status === 401 && !refreshed) {
          refreshed = true;
          await this.options.tokens.token(this.options.environmentUrl, true);
          continue;
        }
        if (!(error instanceof Retryable)) throw error;
        const waitMs =
          error.waitMs ?? Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
        if (Date.now() + waitMs > deadline) {
          throw new FnoError(
            503,
            undefined,
            `Gave up after ${Math.round(this.options.retryBudgetMs / 1000)} s of retries: ${error.message}`,
            url,
          );
        }
        this.options.onRetry?.({ url, attempt, waitMs, reason: error.message });
        await sleep(waitMs);
      }
    }
  }

  private async attempt<T>(
    method: 'GET' | 'POST',
    url: string,
    parse: (text: string) => T,
    body: string | undefined,
    prefer: string[],
    accept: string,
  ): Promise<T> {
    const token = await this.options.tokens.token(this.options.environmentUrl);
    let response: Dispatcher.ResponseData;
    let text: string;
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
      text = await response.body.text();
    } catch (error) {
      throw new Retryable(`network error: ${error instanceof Error ? error.message : String(error)}`);
    }
    const status = response.statusCode;
    if (status === 429) {
      const retryAfter = Number(response.headers['retry-after']);
      throw new Retryable('throttled (429)', Number.isFinite(retryAfter) ? retryAfter * 1000 : undefined);
    }
    if (status >= 500) throw new Retryable(`server error ${status}: ${errorMessage(text).message ?? ''}`);
    if (status >= 400) {
      const { code, message } = errorMessage(text);
      throw new FnoError(status, code, message || `HTTP ${status}`, url);
    }
    try {
      return parse(text);
    } catch {
      // A response cut short (connection reset mid-body) is worth another attempt.
      throw new Retryable('truncated or malformed JSON in the response');
    }
  }
}

function parseJson(text: string): Record<string, unknown> {
  return JSON.parse(text) as Record<string, unknown>;
}

/** A SAS URL without its signature, safe for logs and error messages. */
export function redact(url: string): string {
  return url.replace(/([?&]sig=)[^&]*/, '$1<redacted>');
}
