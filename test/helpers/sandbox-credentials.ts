import type { DynamicsCredentials } from '../../src/providers/dynamics/credentials.js';
import type { SandboxTenant } from '../../src/sandbox/index.js';

// Free of vitest, so benchmarks (bench/fault-soak.ts) can use it too.
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
