import { constants, createPublicKey, createSign, createVerify, type KeyObject } from 'node:crypto';

/** Minimal JWS compact serialisation: enough for access tokens (RS256) and client assertions (RS256/PS256). */

export type JwtHeader = Record<string, unknown> & { alg?: string; typ?: string; kid?: string };
export type JwtPayload = Record<string, unknown>;

export interface DecodedJwt {
  header: JwtHeader;
  payload: JwtPayload;
  signingInput: string;
  signature: Buffer;
}

const base64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

export function signJwt(header: JwtHeader, payload: JwtPayload, privateKey: KeyObject | string): string {
  const signingInput = `${base64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', ...header }))}.${base64url(JSON.stringify(payload))}`;
  const signature = createSign('RSA-SHA256').update(signingInput).sign(privateKey);
  return `${signingInput}.${base64url(signature)}`;
}

export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];
  try {
    const header = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString('utf8')) as unknown;
    const payload = JSON.parse(Buffer.from(encodedPayload, 'base64url').toString('utf8')) as unknown;
    if (typeof header !== 'object' || header === null || typeof payload !== 'object' || payload === null) {
      return undefined;
    }
    return {
      header: header as JwtHeader,
      payload: payload as JwtPayload,
      signingInput: `${encodedHeader}.${encodedPayload}`,
      signature: Buffer.from(encodedSignature, 'base64url'),
    };
  } catch {
    return undefined;
  }
}

/** Verifies RS256 or PS256 (MSAL Node signs certificate assertions with PS256 when given a SHA-256 thumbprint). */
export function verifyJwtSignature(jwt: DecodedJwt, publicKey: KeyObject | string): boolean {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  const verifier = createVerify('RSA-SHA256').update(jwt.signingInput);
  if (jwt.header.alg === 'RS256') return verifier.verify(key, jwt.signature);
  if (jwt.header.alg === 'PS256') {
    return verifier.verify(
      { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO },
      jwt.signature,
    );
  }
  return false;
}
