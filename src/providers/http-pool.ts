import { rootCertificates } from 'node:tls';
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { Agent, type Dispatcher, request } from 'undici';

/**
 * The HTTP stack every provider, the sandbox tests and the benches share: keep-alive undici pools,
 * optionally trusting an extra CA (the sandbox's self-signed CA) without NODE_EXTRA_CA_CERTS, and an
 * MSAL network module over the same pool so token requests reuse it. Provider-neutral: it lives
 * beside the registry, not in one provider's folder (docs/providers.md).
 */
export interface HttpPoolOptions {
  /** PEM of an extra CA to trust in addition to the system roots. */
  caCertPem?: string;
  /** Connections per origin (default 16). */
  connections?: number;
  /** Headers and body timeout in milliseconds (default 60 s). */
  timeoutMs?: number;
}

export function createHttpPool(options: HttpPoolOptions = {}): Agent {
  const timeout = options.timeoutMs ?? 60_000;
  return new Agent({
    connections: options.connections ?? 16,
    keepAliveTimeout: 30_000,
    headersTimeout: timeout,
    bodyTimeout: timeout,
    connect: options.caCertPem ? { ca: [...rootCertificates, options.caCertPem] } : {},
  });
}

/** MSAL's INetworkModule over undici: responses as `{ headers, body, status }` with JSON bodies parsed. */
export function createMsalNetworkClient(dispatcher: Dispatcher): INetworkModule {
  async function send<T>(
    method: 'GET' | 'POST',
    url: string,
    options?: NetworkRequestOptions,
    timeoutMs?: number,
  ): Promise<NetworkResponse<T>> {
    const response = await request(url, {
      method,
      dispatcher,
      headers: options?.headers,
      body: method === 'POST' ? (options?.body ?? '') : undefined,
      ...(timeoutMs ? { headersTimeout: timeoutMs, bodyTimeout: timeoutMs } : {}),
    });
    const text = await response.body.text();
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
    let body: unknown;
    try {
      body = text.length > 0 ? JSON.parse(text) : {};
    } catch {
      body = { error: 'invalid_response', error_description: text.slice(0, 500) };
    }
    return { headers, body: body as T, status: response.statusCode };
  }
  return {
    sendGetRequestAsync: <T>(url: string, options?: NetworkRequestOptions, timeout?: number) =>
      send<T>('GET', url, options, timeout),
    sendPostRequestAsync: <T>(url: string, options?: NetworkRequestOptions) => send<T>('POST', url, options),
  };
}
