import {
  createHash,
  generateKeyPairSync,
  type KeyObject,
  X509Certificate as NodeX509Certificate,
} from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createCertificatePem } from './x509.js';

/**
 * Certificates for the sandbox: a self-signed CA, a TLS server certificate it signs (SAN localhost,
 * 127.0.0.1, ::1), and RSA certificates registered on app registrations (client assertions, docs/microsoft-wire.md, "Entra ID").
 * Everything is written to the data dir once and reused, so clients keep trusting the same CA.
 */
export interface PemPair {
  certificatePem: string;
  privateKeyPem: string;
}

export interface TlsMaterial {
  caCertPem: string;
  caCertPath: string;
  serverCertPem: string;
  serverKeyPem: string;
}

function yearsFromNow(years: number): Date {
  const date = new Date();
  date.setUTCFullYear(date.getUTCFullYear() + years);
  return date;
}

const yesterday = (): Date => new Date(Date.now() - 86_400_000);
const caName = { commonName: 'HRIS Gateway Sandbox CA', organisation: 'HRIS Gateway Sandbox' };
const privatePem = (key: KeyObject): string => key.export({ type: 'pkcs8', format: 'pem' }).toString();

function createCertificateAuthority(): PemPair & { privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const certificatePem = createCertificatePem({
    subject: caName,
    issuer: caName,
    publicKey,
    signingKey: privateKey,
    notBefore: yesterday(),
    notAfter: yearsFromNow(10),
    isCertificateAuthority: true,
  });
  return { certificatePem, privateKeyPem: privatePem(privateKey), privateKey };
}

function createServerCertificate(caKey: KeyObject): PemPair {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const certificatePem = createCertificatePem({
    subject: { commonName: 'localhost' },
    issuer: caName,
    publicKey,
    signingKey: caKey,
    notBefore: yesterday(),
    notAfter: yearsFromNow(2),
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1', '::1'],
  });
  return { certificatePem, privateKeyPem: privatePem(privateKey) };
}

/** An RSA key + self-signed certificate, the kind an admin uploads to an app registration. */
export async function createClientCertificate(commonName: string): Promise<PemPair> {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const subject = { commonName };
  const certificatePem = createCertificatePem({
    subject,
    issuer: subject,
    publicKey,
    signingKey: privateKey,
    notBefore: yesterday(),
    notAfter: yearsFromNow(2),
  });
  return { certificatePem, privateKeyPem: privatePem(privateKey) };
}

/**
 * The key pair Entra signs access tokens with, and its self-signed certificate (Entra publishes both in the
 * JWKS: `x5t`, `x5c`). Kept in the data dir, so tokens issued before a restart still verify after it.
 */
export async function loadOrCreateTokenSigningMaterial(dataDir: string): Promise<PemPair> {
  const certificatePath = join(dataDir, 'token-signing.crt');
  const privateKeyPath = join(dataDir, 'token-signing.key');
  if (existsSync(certificatePath) && existsSync(privateKeyPath)) {
    const [certificatePem, privateKeyPem] = await Promise.all([
      readFile(certificatePath, 'utf8'),
      readFile(privateKeyPath, 'utf8'),
    ]);
    return { certificatePem, privateKeyPem };
  }
  const material = await createClientCertificate('accounts.accesscontrol.windows.net');
  await writeFileAtomic(privateKeyPath, material.privateKeyPem);
  await writeFileAtomic(certificatePath, material.certificatePem);
  return material;
}

/** Writes through a temporary file so parallel sandboxes never read half a PEM. */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temporary, content, { mode: 0o600 });
  await rename(temporary, path);
}

/** Loads the CA and server certificate from the data dir, creating them on first start. */
export async function loadOrCreateTlsMaterial(
  dataDir: string,
  override?: { certPath?: string; keyPath?: string },
): Promise<TlsMaterial> {
  const caCertPath = join(dataDir, 'ca.crt');
  const caKeyPath = join(dataDir, 'ca.key');
  const serverCertPath = join(dataDir, 'server.crt');
  const serverKeyPath = join(dataDir, 'server.key');
  if (override?.certPath && override.keyPath) {
    const serverCertPem = await readFile(override.certPath, 'utf8');
    // With a caller-provided certificate, the certificate itself is what clients must trust.
    return {
      caCertPem: serverCertPem,
      caCertPath: override.certPath,
      serverCertPem,
      serverKeyPem: await readFile(override.keyPath, 'utf8'),
    };
  }
  const filesExist = [caCertPath, serverCertPath, serverKeyPath].every((path) => existsSync(path));
  if (filesExist) {
    const [caCertPem, serverCertPem, serverKeyPem] = await Promise.all([
      readFile(caCertPath, 'utf8'),
      readFile(serverCertPath, 'utf8'),
      readFile(serverKeyPath, 'utf8'),
    ]);
    if (new Date(new NodeX509Certificate(serverCertPem).validTo).getTime() > Date.now() + 86_400_000) {
      return { caCertPem, caCertPath, serverCertPem, serverKeyPem };
    }
  }
  const ca = createCertificateAuthority();
  const server = createServerCertificate(ca.privateKey);
  await writeFileAtomic(caKeyPath, ca.privateKeyPem);
  await writeFileAtomic(serverKeyPath, server.privateKeyPem);
  await writeFileAtomic(serverCertPath, server.certificatePem);
  await writeFileAtomic(caCertPath, ca.certificatePem);
  return {
    caCertPem: ca.certificatePem,
    caCertPath,
    serverCertPem: server.certificatePem,
    serverKeyPem: server.privateKeyPem,
  };
}

export interface CertificateThumbprints {
  /** base64url SHA-256 of the DER certificate: the `x5t#S256` JWT header. */
  x5tS256: string;
  /** base64url SHA-1 of the DER certificate: the legacy `x5t` header. */
  x5t: string;
  /** Hex SHA-256, the form MSAL Node takes as `thumbprintSha256`. */
  sha256Hex: string;
}

export function certificateThumbprints(certificatePem: string): CertificateThumbprints {
  const der = new NodeX509Certificate(certificatePem).raw;
  const sha256 = createHash('sha256').update(der).digest();
  return {
    x5tS256: sha256.toString('base64url'),
    x5t: createHash('sha1').update(der).digest('base64url'),
    sha256Hex: sha256.toString('hex').toUpperCase(),
  };
}
