import { X509Certificate } from 'node:crypto';

/** The public facts of a PEM certificate: what a connect page shows and what client assertions carry. */
export interface CertificateFacts {
  thumbprintSha256: string;
  thumbprintSha1: string;
  /** Base64 DER, for the x5c header MSAL sends. */
  x5c: string;
  notAfter: Date;
  subject: string;
}

export function certificateFacts(pem: string): CertificateFacts {
  const certificate = new X509Certificate(pem);
  return {
    thumbprintSha256: certificate.fingerprint256.replaceAll(':', '').toLowerCase(),
    thumbprintSha1: certificate.fingerprint.replaceAll(':', '').toLowerCase(),
    x5c: certificate.raw.toString('base64'),
    notAfter: new Date(certificate.validTo),
    subject: certificate.subject,
  };
}
