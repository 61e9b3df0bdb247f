import {
  ConfidentialClientApplication,
  type Configuration,
  InteractionRequiredAuthError,
  ServerError,
} from '@azure/msal-node';
import type { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMsalNetworkClient } from '../../src/providers/http-pool.js';
import { createClientCertificate } from '../../src/sandbox/certs.js';
import { decodeJwt } from '../../src/sandbox/entra/jwt.js';
import { type Sandbox, type SandboxTenant, startSandbox } from '../../src/sandbox/index.js';
import { getJson, startTestSandbox } from './helpers.js';

let sandbox: Sandbox;
let agent: Agent;
let tenant: SandboxTenant;

beforeAll(async () => {
  ({ sandbox, agent } = await startTestSandbox({ tokenLifetimeSeconds: 600 }));
  tenant = sandbox.defaultTenant;
});
afterAll(async () => {
  await agent.close();
  await sandbox.close();
});

/** MSAL's production configuration with an authority host override: no protocol mode, no /v2.0. */
function msal(
  auth: Partial<Configuration['auth']>,
  authority = tenant.authority,
): ConfidentialClientApplication {
  return new ConfidentialClientApplication({
    auth: {
      clientId: tenant.clientId,
      authority,
      knownAuthorities: [new URL(sandbox.baseUrl).host],
      ...auth,
    },
    system: { networkClient: createMsalNetworkClient(agent) },
  });
}

async function serverError(promise: Promise<unknown>): Promise<ServerError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ServerError);
  return error as ServerError;
}

describe('Entra ID token endpoint through MSAL Node', () => {
  it('issues a Dataverse token for a client secret, audience = the environment URL', async () => {
    const result = await msal({ clientSecret: tenant.clientSecret }).acquireTokenByClientCredential({
      scopes: [`${tenant.dataverseUrl}/.default`],
    });
    const claims = decodeJwt(result?.accessToken ?? '')?.payload;
    expect(claims).toMatchObject({
      aud: tenant.dataverseUrl,
      tid: tenant.tenantId,
      appid: tenant.clientId,
      appidacr: '1',
    });
    expect(Number(claims?.exp) - Number(claims?.iat)).toBe(600);
  });

  it('issues an F&O token for a certificate client assertion (x5t#S256)', async () => {
    const result = await msal({
      clientCertificate: {
        thumbprintSha256: tenant.thumbprintSha256,
        privateKey: tenant.privateKeyPem,
        x5c: tenant.certificatePem,
      },
    }).acquireTokenByClientCredential({ scopes: [`${tenant.fnoUrl}/.default`] });
    expect(decodeJwt(result?.accessToken ?? '')?.payload).toMatchObject({
      aud: tenant.fnoUrl,
      appidacr: '2',
    });
  });

  it('rejects a certificate that is not registered with AADSTS700027', async () => {
    const stranger = await createClientCertificate('stranger');
    const { createHash, X509Certificate } = await import('node:crypto');
    const thumbprint = createHash('sha256')
      .update(new X509Certificate(stranger.certificatePem).raw)
      .digest('hex');
    const error = await serverError(
      msal({
        clientCertificate: { thumbprintSha256: thumbprint, privateKey: stranger.privateKeyPem },
      }).acquireTokenByClientCredential({ scopes: [`${tenant.dataverseUrl}/.default`] }),
    );
    expect(error.errorCode).toBe('invalid_client');
    expect(String(error.errorNo)).toBe('700027');
  });

  it('rejects a wrong secret with AADSTS7000215 and an expired one with AADSTS7000222', async () => {
    const wrong = await serverError(
      msal({ clientSecret: 'not-the-secret' }).acquireTokenByClientCredential({
        scopes: [`${tenant.dataverseUrl}/.default`],
      }),
    );
    expect([wrong.errorCode, String(wrong.errorNo), wrong.status]).toEqual([
      'invalid_client',
      '7000215',
      401,
    ]);
    sandbox.controls.expireClientSecret();
    try {
      const expired = await serverError(
        msal({ clientSecret: tenant.clientSecret }).acquireTokenByClientCredential({
          scopes: [`${tenant.dataverseUrl}/.default`],
        }),
      );
      expect([expired.errorCode, String(expired.errorNo)]).toEqual(['invalid_client', '7000222']);
    } finally {
      sandbox.controls.restoreClientSecret();
    }
  });

  it('rejects an unknown app (700016), an unknown resource (500011) and missing consent (65001)', async () => {
    const unknownApp = await serverError(
      msal({
        clientId: '11111111-2222-4333-8444-555555555555',
        clientSecret: 'x',
      }).acquireTokenByClientCredential({
        scopes: [`${tenant.dataverseUrl}/.default`],
      }),
    );
    expect([unknownApp.errorCode, String(unknownApp.errorNo)]).toEqual(['unauthorized_client', '700016']);
    const unknownResource = await serverError(
      msal({ clientSecret: tenant.clientSecret }).acquireTokenByClientCredential({
        scopes: ['https://nowhere.crm.dynamics.com/.default'],
      }),
    );
    expect([unknownResource.errorCode, String(unknownResource.errorNo)]).toEqual([
      'invalid_resource',
      '500011',
    ]);
    expect(unknownResource.errorMessage).toContain(
      'The resource principal named https://nowhere.crm.dynamics.com was not found in the tenant',
    );
    sandbox.controls.revokeConsent();
    try {
      // invalid_grant with suberror consent_required: MSAL raises it as "interaction required".
      const consent = await msal({ clientSecret: tenant.clientSecret })
        .acquireTokenByClientCredential({ scopes: [`${tenant.fnoUrl}/.default`] })
        .then(
          () => undefined,
          (caught: unknown) => caught,
        );
      expect(consent).toBeInstanceOf(InteractionRequiredAuthError);
      const { errorCode, errorNo, subError } = consent as InteractionRequiredAuthError;
      expect([errorCode, String(errorNo), subError]).toEqual(['invalid_grant', '65001', 'consent_required']);
    } finally {
      sandbox.controls.grantConsent();
    }
  });

  it('fails MSAL discovery for an unknown tenant (the discovery document answers 400 AADSTS90002)', async () => {
    const error = await msal(
      { clientSecret: tenant.clientSecret },
      `${sandbox.baseUrl}/99999999-aaaa-4bbb-8ccc-dddddddddddd`,
    )
      .acquireTokenByClientCredential({ scopes: [`${tenant.dataverseUrl}/.default`] })
      .then(
        () => undefined,
        (caught: unknown) => caught as { errorCode?: string },
      );
    expect(error?.errorCode).toBe('endpoints_resolution_error');
    const discovery = await getJson(
      agent,
      `${sandbox.baseUrl}/99999999-aaaa-4bbb-8ccc-dddddddddddd/v2.0/.well-known/openid-configuration`,
    );
    expect([discovery.status, discovery.body.error, discovery.body.error_codes]).toEqual([
      400,
      'invalid_tenant',
      [90002],
    ]);
  });

  it('shapes error bodies as Entra does (docs/microsoft-wire.md, Entra ID)', async () => {
    const { request } = await import('undici');
    const response = await request(
      `${sandbox.baseUrl}/99999999-aaaa-4bbb-8ccc-dddddddddddd/oauth2/v2.0/token`,
      {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'client-request-id': 'corr-1' },
        body: 'grant_type=client_credentials&client_id=x&client_secret=y&scope=https%3A%2F%2Fa%2F.default',
      },
    );
    const body = (await response.body.json()) as Record<string, unknown>;
    expect(response.statusCode).toBe(400);
    expect(Object.keys(body)).toEqual([
      'error',
      'error_description',
      'error_codes',
      'timestamp',
      'trace_id',
      'correlation_id',
      'error_uri',
    ]);
    expect(body.error).toBe('invalid_request');
    expect(body.error_codes).toEqual([90002]);
    expect(body.correlation_id).toBe('corr-1');
    expect(String(body.error_description)).toMatch(
      /^AADSTS90002: Tenant '99999999-aaaa-4bbb-8ccc-dddddddddddd' not found\..*\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: corr-1\r\nTimestamp: \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$/s,
    );
    expect(body.timestamp).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$/);
  });

  it('accepts an RS256 assertion with the legacy x5t header and checks aud and exp', async () => {
    const { certificateThumbprints } = await import('../../src/sandbox/certs.js');
    const { signJwt } = await import('../../src/sandbox/entra/jwt.js');
    const { request } = await import('undici');
    const tokenEndpoint = `${tenant.authority}/oauth2/v2.0/token`;
    const now = Math.floor(Date.now() / 1000);
    const assertion = (claims: Record<string, unknown>) =>
      signJwt(
        { alg: 'RS256', x5t: certificateThumbprints(tenant.certificatePem).x5t },
        {
          aud: tokenEndpoint,
          iss: tenant.clientId,
          sub: tenant.clientId,
          jti: String(Math.random()),
          nbf: now,
          exp: now + 600,
          ...claims,
        },
        tenant.privateKeyPem,
      );
    const post = async (clientAssertion: string) => {
      const response = await request(tokenEndpoint, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: tenant.clientId,
          scope: `${tenant.dataverseUrl}/.default`,
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: clientAssertion,
        }).toString(),
      });
      return {
        status: response.statusCode,
        body: (await response.body.json()) as { error_codes?: number[]; access_token?: string },
      };
    };
    expect((await post(assertion({}))).body.access_token).toBeTruthy();
    expect((await post(assertion({ exp: now - 3600, nbf: now - 7200 }))).body.error_codes).toEqual([700024]);
    expect((await post(assertion({ aud: 'https://elsewhere/token' }))).status).toBe(400);
    const tampered = assertion({}).replace(/\.[^.]+$/, '.AAAA');
    expect((await post(tampered)).body.error_codes).toEqual([700027]);
  });

  it('publishes OpenID configuration with and without v2.0, as Entra does, and a JWKS', async () => {
    const v2 = await getJson(agent, `${tenant.authority}/v2.0/.well-known/openid-configuration`);
    expect(v2.status).toBe(200);
    expect(v2.body.token_endpoint).toBe(`${tenant.authority}/oauth2/v2.0/token`);
    expect(v2.body.issuer).toBe(`${tenant.authority}/v2.0`);
    const v1 = await getJson(agent, `${tenant.authority}/.well-known/openid-configuration`);
    expect(v1.status).toBe(200);
    expect(v1.body.token_endpoint).toBe(`${tenant.authority}/oauth2/token`);
    expect(v1.body.issuer).toBe(`https://sts.windows.net/${tenant.tenantId}/`);
    const keys = await getJson<{ keys: Array<{ kty: string; kid: string }> }>(
      agent,
      `${tenant.authority}/discovery/v2.0/keys`,
    );
    expect(keys.body.keys[0]?.kty).toBe('RSA');
  });

  it('answers instance discovery as Entra does, and MSAL accepts it as cloud discovery metadata', async () => {
    const host = new URL(sandbox.baseUrl).host;
    const discovery = await getJson<{ tenant_discovery_endpoint: string; metadata: unknown[] }>(
      agent,
      `${sandbox.baseUrl}/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(`${tenant.authority}/oauth2/v2.0/authorize`)}`,
    );
    expect(discovery.status).toBe(200);
    expect(discovery.body.metadata).toEqual([
      { preferred_network: host, preferred_cache: host, aliases: [host] },
    ]);
    expect(discovery.body.tenant_discovery_endpoint).toBe(
      `${tenant.authority}/v2.0/.well-known/openid-configuration`,
    );
    const common = await getJson<{ issuer: string; token_endpoint: string }>(
      agent,
      `${sandbox.baseUrl}/common/v2.0/.well-known/openid-configuration`,
    );
    expect(common.body.issuer).toBe(`${sandbox.baseUrl}/{tenantid}/v2.0`);
    expect(common.body.token_endpoint).toBe(`${sandbox.baseUrl}/common/oauth2/v2.0/token`);
    const elsewhere = await getJson<{ error: string; error_codes: number[] }>(
      agent,
      `${sandbox.baseUrl}/common/discovery/instance?api-version=1.1&authorization_endpoint=https://example.invalid/common/oauth2/v2.0/authorize`,
    );
    expect(elsewhere.body).toMatchObject({ error: 'invalid_instance', error_codes: [50049] });
    // Without knownAuthorities: MSAL trusts the host because the discovery response lists it.
    const client = new ConfidentialClientApplication({
      auth: {
        clientId: tenant.clientId,
        authority: tenant.authority,
        clientSecret: tenant.clientSecret,
        cloudDiscoveryMetadata: discovery.text,
      },
      system: { networkClient: createMsalNetworkClient(agent) },
    });
    const result = await client.acquireTokenByClientCredential({
      scopes: [`${tenant.dataverseUrl}/.default`],
    });
    expect(decodeJwt(result?.accessToken ?? '')?.payload.iss).toBe(
      `https://sts.windows.net/${tenant.tenantId}/`,
    );
  });

  it('publishes the same signing key after a restart on the same data dir', async () => {
    const { sandbox: first, agent: firstAgent } = await startTestSandbox({ workers: 10 });
    const dataDir = first.caCertPath.replace(/\/ca\.crt$/, '');
    const keysUrl = (base: Sandbox): string => `${base.defaultTenant.authority}/discovery/v2.0/keys`;
    const before = await getJson<{ keys: Array<{ kid: string; x5t: string; x5c: string[] }> }>(
      firstAgent,
      keysUrl(first),
    );
    await first.close();
    const second = await startSandbox({ workers: 10, dataDir });
    try {
      const after = await getJson<{ keys: Array<{ kid: string }> }>(firstAgent, keysUrl(second));
      expect(after.body.keys).toEqual(before.body.keys);
      expect(before.body.keys[0]?.kid).toBe(before.body.keys[0]?.x5t);
      expect(before.body.keys[0]?.x5c).toHaveLength(1);
    } finally {
      await firstAgent.close();
      await second.close();
    }
  });
});
