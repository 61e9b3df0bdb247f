import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { DynamicsConnection, type DynamicsDependencies } from '../../src/providers/dynamics/connection.js';
import { createHttpPool, createMsalNetworkClient } from '../../src/providers/http-pool.js';
import { type Sandbox, type SandboxOptions, startSandbox } from '../../src/sandbox/index.js';
import { sandboxCredentials } from './sandbox-credentials.js';

export { sandboxCredentials };

/** A sandbox on a free port for one test file, closed when the file ends. */
export async function startFileSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hris-sandbox-'));
  const sandbox = await startSandbox({ workers: 100, dataDir, ...options });
  afterAll(async () => {
    await sandbox.close();
  });
  return sandbox;
}

/** The plumbing a gateway process shares across connections, trusting the sandbox's CA. */
export function sandboxDependencies(
  sandbox: Sandbox,
  overrides: Partial<DynamicsDependencies> = {},
): DynamicsDependencies {
  const dispatcher = createHttpPool({ caCertPem: sandbox.caCertPem });
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
