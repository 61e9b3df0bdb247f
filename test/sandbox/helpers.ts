import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Agent } from 'undici';
import { request } from 'undici';
import { createHttpPool } from '../../src/providers/http-pool.js';
import {
  type Sandbox,
  type SandboxOptions,
  type SandboxTenant,
  startSandbox,
} from '../../src/sandbox/index.js';
import { requestSandboxToken } from '../../src/sandbox/token.js';

/** A sandbox on a random port with its own data dir, plus an undici agent that trusts its CA. */
export async function startTestSandbox(
  options: SandboxOptions = {},
): Promise<{ sandbox: Sandbox; agent: Agent }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hris-sandbox-test-'));
  const sandbox = await startSandbox({ workers: 50, dataDir, ...options });
  return { sandbox, agent: createHttpPool({ caCertPem: sandbox.caCertPem }) };
}

export function fetchToken(agent: Agent, tenant: SandboxTenant, resource: string): Promise<string> {
  return requestSandboxToken(agent, tenant, resource);
}

export interface JsonResponse<T = Record<string, unknown>> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
  text: string;
}

export async function getJson<T = Record<string, unknown>>(
  agent: Agent,
  url: string,
  headers: Record<string, string> = {},
): Promise<JsonResponse<T>> {
  const response = await request(url, { dispatcher: agent, headers });
  const text = await response.body.text();
  return {
    status: response.statusCode,
    headers: response.headers,
    body: (text ? JSON.parse(text) : {}) as T,
    text,
  };
}

export async function postJson<T = Record<string, unknown>>(
  agent: Agent,
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse<T>> {
  const response = await request(url, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.body.text();
  return {
    status: response.statusCode,
    headers: response.headers,
    body: (text ? JSON.parse(text) : {}) as T,
    text,
  };
}
