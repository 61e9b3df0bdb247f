import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { DynamicsConnection, type DynamicsDependencies } from '../../src/providers/dynamics/connection.js';
import type { DynamicsCredentials } from '../../src/providers/dynamics/credentials.js';
import { createDynamicsHttp, createMsalNetworkClient } from '../../src/providers/dynamics/http-client.js';
import {
  type Sandbox,
  type SandboxOptions,
  type SandboxTenant,
  startSandbox,
} from '../../src/sandbox/index.js';

/** A sandbox on a free port for one test file, closed when the file ends. */
export async function startFileSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hris-sandbox-'));
  const sandbox = await startSandbox({ workers: 100, dataDir, ...options });
  afterAll(async () => {
    await sandbox.close();
  });
  return sandbox;
}

/** Credentials as an admin would enter them for a sandbox tenant. */
export function sandboxCredentials(
  tenant: SandboxTenant,
  auth: 'secret' | 'certificate' = 'secret',
  withFno = false,
): DynamicsCredentials {
  return {
    tenantId: tenant.tenantId,
    clientId: tenant.clientId,
    authorityHost: tenant.authorityHost,
    dataverseUrl: tenant.dataverseUrl,
    ...(withFno ? { fnoUrl: tenant.fnoUrl } : {}),
    auth:
      auth === 'secret'
        ? {
            type: 'secret',
            clientSecret: tenant.clientSecret,
            expiresAt: tenant.clientSecretExpiresAt.toISOString(),
          }
        : { type: 'certificate', certificatePem: tenant.certificatePem, privateKeyPem: tenant.privateKeyPem },
  };
}

/** The plumbing a gateway process shares across connections, trusting the sandbox's CA. */
export function sandboxDependencies(
  sandbox: Sandbox,
  overrides: Partial<DynamicsDependencies> = {},
): DynamicsDependencies {
  const dispatcher = createDynamicsHttp({ caCertPem: sandbox.caCertPem });
  afterAll(async () => {
    await dispatcher.close();
  });
  return {
    dispatcher,
    networkClient: createMsalNetworkClient(dispatcher),
    concurrency: 4,
    pageSize: 100,
    retryBudgetMs: 30_000,
    ...overrides,
  };
}

export function connectSandbox(
  linkedAccountId: string,
  sandbox: Sandbox,
  deps: DynamicsDependencies,
  credentials = sandboxCredentials(sandbox.defaultTenant),
): DynamicsConnection {
  return new DynamicsConnection(linkedAccountId, credentials, deps);
}
