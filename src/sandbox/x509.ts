import { type KeyObject, randomBytes, sign } from 'node:crypto';

/**
 * A minimal X.509 v3 certificate writer (DER by hand, signed with node:crypto). The sandbox only needs a
 * CA, a TLS server certificate and self-signed client certificates; @peculiar/x509 would need a global
 * Reflect polyfill, so this small encoder keeps the sandbox free of global side effects.
 */
function length(size: number): Buffer {
  if (size < 0x80) return Buffer.from([size]);
  const bytes: number[] = [];
  for (let rest = size; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, content: Buffer): Buffer =>
  Buffer.concat([Buffer.from([tag]), length(content.length), content]);
const sequence = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
const explicit = (tagNumber: number, content: Buffer): Buffer => tlv(0xa0 + tagNumber, content);
const octetString = (content: Buffer): Buffer => tlv(0x04, content);
const bitString = (content: Buffer, unusedBits = 0): Buffer =>
  tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), content]));
const booleanTrue = (): Buffer => tlv(0x01, Buffer.from([0xff]));
const nullValue = (): Buffer => Buffer.from([0x05, 0x00]);

function integer(value: Buffer | number): Buffer {
  let bytes = typeof value === 'number' ? Buffer.from([value]) : value;
  while (bytes.length > 1 && bytes[0] === 0 && ((bytes[1] as number) & 0x80) === 0) bytes = bytes.subarray(1);
  if (((bytes[0] as number) & 0x80) !== 0) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(0x02, bytes);
}

function objectIdentifier(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const bytes: number[] = [40 * (parts[0] as number) + (parts[1] as number)];
  for (const part of parts.slice(2)) {
    const encoded: number[] = [part & 0x7f];
    for (let rest = part >>> 7; rest > 0; rest >>>= 7) encoded.unshift(0x80 | (rest & 0x7f));
    bytes.push(...encoded);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  // UTCTime until 2049, GeneralizedTime after (RFC 5280 §4.1.2.5).
  return date.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`))
    : tlv(0x18, Buffer.from(`${iso}Z`));
}

function name(commonName: string, organisation?: string): Buffer {
  const attribute = (oid: string, value: string): Buffer =>
    set(sequence(objectIdentifier(oid), tlv(0x0c, Buffer.from(value, 'utf8'))));
  return sequence(
    ...(organisation ? [attribute('2.5.4.10', organisation)] : []),
    attribute('2.5.4.3', commonName),
  );
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return sequence(objectIdentifier(oid), ...(critical ? [booleanTrue()] : []), octetString(value));
}

function ipAddressBytes(ip: string): Buffer {
  if (ip.includes(':')) {
    const [head = '', tail = ''] = ip.split('::');
    const headGroups = head ? head.split(':') : [];
    const tailGroups = tail ? tail.split(':') : [];
    const groups = [
      ...headGroups,
      ...Array(8 - headGroups.length - tailGroups.length).fill('0'),
      ...tailGroups,
    ];
    return Buffer.from(
      groups.flatMap((group: string) => [Number.parseInt(group, 16) >> 8, Number.parseInt(group, 16) & 0xff]),
    );
  }
  return Buffer.from(ip.split('.').map(Number));
}

export interface CertificateRequest {
  subject: { commonName: string; organisation?: string };
  issuer: { commonName: string; organisation?: string };
  publicKey: KeyObject;
  signingKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  isCertificateAuthority?: boolean;
  /** Subject alternative names for a TLS server certificate. */
  dnsNames?: string[];
  ipAddresses?: string[];
}

export function createCertificatePem(request: CertificateRequest): string {
  const ecdsa = request.signingKey.asymmetricKeyType === 'ec';
  const algorithm = ecdsa
    ? sequence(objectIdentifier('1.2.840.10045.4.3.2'))
    : sequence(objectIdentifier('1.2.840.113549.1.1.11'), nullValue());
  const serial = randomBytes(16);
  serial[0] = (serial[0] as number) & 0x7f;
  const extensions: Buffer[] = [];
  if (request.isCertificateAuthority) {
    extensions.push(extension('2.5.29.19', true, sequence(booleanTrue(), integer(0))));
    // keyCertSign | cRLSign
    extensions.push(extension('2.5.29.15', true, bitString(Buffer.from([0x06]), 1)));
  } else if (request.dnsNames || request.ipAddresses) {
    extensions.push(extension('2.5.29.19', true, sequence()));
    // digitalSignature | keyEncipherment
    extensions.push(extension('2.5.29.15', true, bitString(Buffer.from([0xa0]), 5)));
    extensions.push(extension('2.5.29.37', false, sequence(objectIdentifier('1.3.6.1.5.5.7.3.1'))));
    const names = [
      ...(request.dnsNames ?? []).map((dns) => tlv(0x82, Buffer.from(dns, 'ascii'))),
      ...(request.ipAddresses ?? []).map((ip) => tlv(0x87, ipAddressBytes(ip))),
    ];
    extensions.push(extension('2.5.29.17', false, sequence(...names)));
  }
  const tbs = sequence(
    explicit(0, integer(2)),
    integer(serial),
    algorithm,
    name(request.issuer.commonName, request.issuer.organisation),
    sequence(time(request.notBefore), time(request.notAfter)),
    name(request.subject.commonName, request.subject.organisation),
    request.publicKey.export({ type: 'spki', format: 'der' }),
    ...(extensions.length > 0 ? [explicit(3, sequence(...extensions))] : []),
  );
  const signature = sign('sha256', tbs, request.signingKey);
  const der = sequence(tbs, algorithm, bitString(signature));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}
