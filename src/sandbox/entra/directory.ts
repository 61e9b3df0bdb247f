import { createPrivateKey, createPublicKey, type KeyObject, randomUUID } from 'node:crypto';
import { type CertificateThumbprints, certificateThumbprints } from '../certs.js';
import { decodeJwt, signJwt, verifyJwtSignature } from './jwt.js';

/** Entra ID objects the sandbox models: app registrations with secrets and certificates, per tenant. */

export interface ClientSecret {
  secretId: string;
  value: string;
  expiresAt: Date;
}

export interface RegisteredCertificate {
  certificatePem: string;
  thumbprints: CertificateThumbprints;
  publicKey: KeyObject;
}

export interface AppRegistration {
  clientId: string;
  displayName: string;
  /** Object id of the app's service principal in the tenant: the `oid` claim of its tokens. */
  servicePrincipalId: string;
  secrets: ClientSecret[];
  certificates: RegisteredCertificate[];
  /** Admin consent for the tenant's Dynamics resources; revoked, token requests fail with AADSTS65001. */
  consentGranted: boolean;
}

export interface DirectoryTenant {
  tenantId: string;
  /** The initial domain, accepted wherever Entra accepts a tenant id (`contoso.onmicrosoft.com`). */
  domain: string;
  apps: Map<string, AppRegistration>;
  /** Resource URIs (Dataverse and F&O environment URLs) that have a service principal in the tenant. */
  resources(): string[];
}

export function registerCertificate(certificatePem: string): RegisteredCertificate {
  return {
    certificatePem,
    thumbprints: certificateThumbprints(certificatePem),
    publicKey: createPublicKey(certificatePem),
  };
}

/** The key the sandbox signs access tokens with (published at /discovery/v2.0/keys). */
export interface TokenSigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  jwk: Record<string, unknown>;
}

/**
 * Entra's JWKS entries carry `kid` = `x5t` (base64url SHA-1 of the certificate) and the certificate in
 * `x5c` (https://learn.microsoft.com/entra/identity-platform/access-tokens#validate-the-signature).
 */
export function createTokenSigningKey(material: {
  privateKeyPem: string;
  certificatePem: string;
}): TokenSigningKey {
  const privateKey = createPrivateKey(material.privateKeyPem);
  const publicKey = createPublicKey(privateKey);
  const exported = publicKey.export({ format: 'jwk' });
  const thumbprints = certificateThumbprints(material.certificatePem);
  const kid = thumbprints.x5t;
  const x5c = material.certificatePem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '');
  return {
    kid,
    privateKey,
    publicKey,
    jwk: { kty: 'RSA', use: 'sig', kid, x5t: kid, n: exported.n, e: exported.e, x5c: [x5c] },
  };
}

export interface AccessTokenClaims {
  aud: string;
  iss: string;
  iat: number;
  nbf: number;
  exp: number;
  appid: string;
  appidacr: '1' | '2';
  idp: string;
  oid: string;
  sub: string;
  tid: string;
  uti: string;
  ver: '1.0';
}

export function issueAccessToken(options: {
  signingKey: TokenSigningKey;
  issuer: string;
  tenantId: string;
  app: AppRegistration;
  resource: string;
  lifetimeSeconds: number;
  usedCertificate: boolean;
  now: Date;
}): string {
  const iat = Math.floor(options.now.getTime() / 1000);
  const claims: AccessTokenClaims = {
    aud: options.resource,
    iss: options.issuer,
    iat,
    nbf: iat,
    exp: iat + options.lifetimeSeconds,
    appid: options.app.clientId,
    appidacr: options.usedCertificate ? '2' : '1',
    idp: options.issuer,
    oid: options.app.servicePrincipalId,
    sub: options.app.servicePrincipalId,
    tid: options.tenantId,
    uti: randomUUID().replaceAll('-', '').slice(0, 22),
    ver: '1.0',
  };
  return signJwt(
    { alg: 'RS256', kid: options.signingKey.kid, x5t: options.signingKey.kid },
    { ...claims },
    options.signingKey.privateKey,
  );
}

export type AccessTokenCheck =
  | { ok: true; claims: AccessTokenClaims }
  | { ok: false; reason: 'missing' | 'malformed' | 'signature' | 'expired' | 'audience' };

/** What Dataverse and F&O check on a bearer token: signature, lifetime and audience (the environment URL). */
export function checkAccessToken(
  authorization: string | undefined,
  signingKey: TokenSigningKey,
  expectedAudience: string,
  now: Date,
): AccessTokenCheck {
  if (!authorization) return { ok: false, reason: 'missing' };
  const match = /^Bearer\s+(\S+)$/i.exec(authorization);
  if (!match?.[1]) return { ok: false, reason: 'malformed' };
  const jwt = decodeJwt(match[1]);
  if (jwt?.header.alg !== 'RS256') return { ok: false, reason: 'malformed' };
  if (!verifyJwtSignature(jwt, signingKey.publicKey)) return { ok: false, reason: 'signature' };
  const claims = jwt.payload as unknown as AccessTokenClaims;
  if (typeof claims.exp !== 'number' || claims.exp * 1000 <= now.getTime())
    return { ok: false, reason: 'expired' };
  if (trimSlash(String(claims.aud)) !== trimSlash(expectedAudience)) return { ok: false, reason: 'audience' };
  return { ok: true, claims };
}

export function trimSlash(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}
