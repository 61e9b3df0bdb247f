import type { FastifyInstance } from 'fastify';
import type { Database } from '../../src/db/database.js';
import type { Sandbox, SandboxTenant } from '../../src/sandbox/index.js';
import { createTestApp } from '../helpers/app.js';

/**
 * The gateway around a test database, trusting the sandbox's CA as given to the app (no provider's
 * *_CA_FILE: every provider's pools honour it), with every log line captured.
 */
export async function createConnectApp(db: Database, sandbox: Sandbox, env: Record<string, string> = {}) {
  const logs: string[] = [];
  const stream = { write: (line: string) => void logs.push(line) };
  const { app, config, services } = await createTestApp(
    db,
    env,
    { level: 'debug', stream },
    { caCertPem: sandbox.caCertPem },
  );
  return { app, config, services, logs };
}

/** The connect form as an admin fills it in for a sandbox tenant. */
export interface SandboxForm {
  tenant_id: string;
  client_id: string;
  authority_host: string;
  dataverse_url: string;
  fno_url?: string;
  auth_type: 'secret' | 'certificate';
  client_secret?: string;
  client_secret_expires_at?: string;
  certificate_pem?: string;
  private_key_pem?: string;
}

export function sandboxForm(tenant: SandboxTenant, auth: 'secret' | 'certificate' = 'secret'): SandboxForm {
  return {
    tenant_id: tenant.tenantId,
    client_id: tenant.clientId,
    authority_host: tenant.authorityHost,
    dataverse_url: tenant.dataverseUrl,
    auth_type: auth,
    ...(auth === 'secret'
      ? {
          client_secret: tenant.clientSecret,
          client_secret_expires_at: tenant.clientSecretExpiresAt.toISOString().slice(0, 10),
        }
      : { certificate_pem: tenant.certificatePem, private_key_pem: tenant.privateKeyPem }),
  };
}

export async function createLink(app: FastifyInstance, apiKey: string, body: Record<string, unknown> = {}) {
  const response = await app.inject({
    method: 'POST',
    url: '/v1/link-tokens',
    headers: { authorization: `Bearer ${apiKey}` },
    payload: {
      end_user_origin_id: 'employer-1',
      organization_name: 'Contoso Ltd',
      end_user_email: 'it@contoso.example',
      provider: 'dynamics365',
      ...body,
    },
  });
  return {
    response,
    body: response.json() as { link_token: string; magic_link_url: string; expires_at: string },
  };
}

/** NDJSON lines of a streamed response, parsed. */
export function events(payload: string): Array<Record<string, unknown> & { type: string }> {
  return payload
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line));
}
