import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createClientCertificate, writeFileAtomic } from './certs.js';
import { type AppRegistration, type DirectoryTenant, registerCertificate } from './entra/directory.js';
import { createRandom, seedFromText } from './random.js';

/**
 * A sandbox tenant: an Entra directory with one app registration (secret + certificate), one Dataverse
 * organisation and one Finance & Operations environment, each with its own data. Tenants share nothing.
 */
export interface TenantCredentials {
  /** Short name of the tenant (controls URLs, the directory's domain `{name}.onmicrosoft.com`). */
  name: string;
  tenantId: string;
  domain: string;
  clientId: string;
  clientSecret: string;
  clientSecretExpiresAt: Date;
  certificatePem: string;
  privateKeyPem: string;
  certificatePath: string;
  privateKeyPath: string;
  /** Hex SHA-256 thumbprint, as MSAL Node's `clientCertificate.thumbprintSha256` wants it. */
  thumbprintSha256: string;
  /** The Dataverse environment URL: an origin without a path, like https://org.crm.dynamics.com. */
  dataverseUrl: string;
  /** The F&O environment URL: an origin of its own, like https://org.operations.dynamics.com. */
  fnoUrl: string;
  /** `https://127.0.0.1:PORT`: the authority host (list its host in MSAL's `knownAuthorities`). */
  authorityHost: string;
  /** `https://127.0.0.1:PORT/{tenantId}`: MSAL's `authority`. */
  authority: string;
}

/** Entra-looking secret value: three characters, a digit, `Q~`, then 34 characters. */
function secretValue(random: ReturnType<typeof createRandom>): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.~';
  const chars = (count: number): string =>
    Array.from({ length: count }, () => alphabet[random.int(0, alphabet.length - 1)]).join('');
  return `${chars(3)}${random.int(0, 9)}Q~${chars(34)}`;
}

export function createSecretValue(seed: number): string {
  return secretValue(createRandom(seed));
}

export interface TenantIdentity {
  credentials: TenantCredentials;
  app: AppRegistration;
  directory: Omit<DirectoryTenant, 'resources'>;
}

export async function createTenantIdentity(options: {
  name: string;
  seed: number;
  authorityHost: string;
  dataverseUrl: string;
  fnoUrl: string;
  dataDir: string;
  clientSecretLifetimeDays: number;
  now: Date;
}): Promise<TenantIdentity> {
  // Ids derive from the seed and the name, so a restarted sandbox keeps the values pasted into a connect page.
  const random = createRandom(seedFromText(`${options.seed}:${options.name}:identity`));
  const tenantId = random.guid();
  const clientId = random.guid();
  const servicePrincipalId = random.guid();
  const clientSecret = secretValue(random);
  const clientSecretExpiresAt = new Date(
    options.now.getTime() + options.clientSecretLifetimeDays * 86_400_000,
  );

  const certificatePath = join(options.dataDir, 'tenants', options.name, 'app-certificate.pem');
  const privateKeyPath = join(options.dataDir, 'tenants', options.name, 'app-private-key.pem');
  let certificatePem: string;
  let privateKeyPem: string;
  if (existsSync(certificatePath) && existsSync(privateKeyPath)) {
    [certificatePem, privateKeyPem] = await Promise.all([
      readFile(certificatePath, 'utf8'),
      readFile(privateKeyPath, 'utf8'),
    ]);
  } else {
    ({ certificatePem, privateKeyPem } = await createClientCertificate(
      `hris-gateway-sandbox-${options.name}`,
    ));
    await writeFileAtomic(privateKeyPath, privateKeyPem);
    await writeFileAtomic(certificatePath, certificatePem);
  }
  const certificate = registerCertificate(certificatePem);
  const app: AppRegistration = {
    clientId,
    displayName: 'HRIS Gateway',
    servicePrincipalId,
    secrets: [{ secretId: random.guid(), value: clientSecret, expiresAt: clientSecretExpiresAt }],
    certificates: [certificate],
    consentGranted: true,
  };
  const domain = `${options.name}.onmicrosoft.com`;
  return {
    app,
    directory: { tenantId, domain, apps: new Map([[clientId, app]]) },
    credentials: {
      name: options.name,
      tenantId,
      domain,
      clientId,
      clientSecret,
      clientSecretExpiresAt,
      certificatePem,
      privateKeyPem,
      certificatePath,
      privateKeyPath,
      thumbprintSha256: certificate.thumbprints.sha256Hex,
      dataverseUrl: options.dataverseUrl,
      fnoUrl: options.fnoUrl,
      authorityHost: options.authorityHost,
      authority: `${options.authorityHost}/${tenantId}`,
    },
  };
}
