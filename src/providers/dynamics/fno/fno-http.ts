import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { type Dispatcher, request } from 'undici';
import { Semaphore } from '../../../util/semaphore.js';
import type { DynamicsTokenSource } from '../auth.js';
import { ODataClient, ODataError } from '../odata-client.js';

/**
 * HTTP to a Finance & Operations environment (docs/microsoft-wire.md, "F&O data entities"): OData GETs (JSON and the CSDL
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
  /** Requests at once to the environment. */
  concurrency: number;
  retryBudgetMs: number;
  timeoutMs?: number;
  onRetry?: (event: { url: string; attempt: number; waitMs: number; reason: string }) => void;
}

export class FnoHttp {
  readonly dataRoot: string;

  private readonly client: ODataClient;

  constructor(private readonly options: FnoHttpOptions) {
    this.dataRoot = `${options.environmentUrl}/data/`;
    // The same retrying client as Dataverse (Retry-After, backoff, one token refresh), with the
    // F&O environment as token audience and F&O's own error type.
    this.client = new ODataClient({
      resource: options.environmentUrl,
      tokens: options.tokens,
      dispatcher: options.dispatcher,
      limiter: new Semaphore(options.concurrency),
      retryBudgetMs: options.retryBudgetMs,
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.onRetry ? { onRetry: options.onRetry } : {}),
      errorType: FnoError,
    });
  }

  async getJson(url: string, prefer: string[] = []): Promise<Record<string, unknown>> {
    return (await this.client.get(url, prefer)).body;
  }

  async getText(url: string): Promise<string> {
    return (await this.client.send(url, { accept: 'application/xml', parse: (text) => text })).value;
  }

  /**
   * A DMF action (`DataManagementDefinitionGroups/Microsoft.Dynamics.DataEntities.{action}`); returns
   * its string value. The docs show both `{"value":"..."}` and `{"value":{"value":"..."}}`: accept both.
   */
  async dmfAction(action: string, body: Record<string, unknown>): Promise<string> {
    const url = `${this.dataRoot}DataManagementDefinitionGroups/Microsoft.Dynamics.DataEntities.${action}`;
    const { value: parsed } = await this.client.send(url, {
      method: 'POST',
      body: JSON.stringify(body),
      parse: (text) => JSON.parse(text) as unknown,
    });
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
}

/** A SAS URL without its signature, safe for logs and error messages. */
export function redact(url: string): string {
  return url.replace(/([?&]sig=)[^&]*/, '$1<redacted>');
}
