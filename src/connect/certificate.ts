import { createPrivateKey, X509Certificate } from 'node:crypto';
import { certificateFacts } from '../crypto/certificate-facts.js';
import type { FieldError } from '../providers/definition.js';

/**
 * The public facts of an uploaded certificate, for the page to show before anything is linked:
 * the thumbprint to compare with Entra ID's Certificates & secrets list, and when it expires.
 * The private key is only checked to belong to the certificate, never returned.
 */
export interface CertificateSummary {
  subject: string;
  thumbprint_sha1: string;
  thumbprint_sha256: string;
  not_after: string;
  days_left: number;
  key_matches: boolean | null;
}

export function describeCertificate(
  certificatePem: string,
  privateKeyPem: string | undefined,
): { ok: true; summary: CertificateSummary } | { ok: false; errors: FieldError[] } {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certificatePem);
  } catch {
    return {
      ok: false,
      errors: [
        {
          field: 'certificate_pem',
          message: 'not a PEM certificate: expected -----BEGIN CERTIFICATE----- ... (the .cer/.pem file)',
        },
      ],
    };
  }
  const facts = certificateFacts(certificatePem);
  let keyMatches: boolean | null = null;
  if (privateKeyPem?.trim()) {
    try {
      const key = createPrivateKey(privateKeyPem);
      keyMatches = certificate.checkPrivateKey(key);
    } catch {
      return {
        ok: false,
        errors: [
          {
            field: 'private_key_pem',
            message: 'not a readable PEM private key (an unencrypted -----BEGIN PRIVATE KEY----- block)',
          },
        ],
      };
    }
    if (!keyMatches) {
      return {
        ok: false,
        errors: [
          { field: 'private_key_pem', message: 'this private key does not belong to the certificate' },
        ],
      };
    }
  }
  return {
    ok: true,
    summary: {
      subject: facts.subject,
      thumbprint_sha1: facts.thumbprintSha1.toUpperCase(),
      thumbprint_sha256: facts.thumbprintSha256.toUpperCase(),
      not_after: facts.notAfter.toISOString(),
      days_left: Math.floor((facts.notAfter.getTime() - Date.now()) / 86_400_000),
      key_matches: keyMatches,
    },
  };
}
