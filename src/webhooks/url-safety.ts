import type { LookupAddress, LookupOptions } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Server-side request forgery guard for webhook URLs: a platform must not make the gateway call
 * its own network. URLs must be https and resolve only to public addresses, unless
 * WEBHOOK_ALLOW_PRIVATE_URLS=true (local development, the demo). Checked when an endpoint is saved
 * and again on every connection (the resolved address is checked as it is dialled), so a DNS
 * answer that changes after validation (rebinding) cannot reach a private address.
 */
const blocked = new BlockList();
// IPv4: RFC 6890 special-purpose ranges that are not globally reachable.
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(network, prefix, 'ipv4');
}
// IPv6: unspecified, loopback, unique local, link-local, multicast, documentation, NAT64.
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['2001:db8::', 32],
  ['64:ff9b::', 96],
] as const) {
  blocked.addSubnet(network, prefix, 'ipv6');
}

const MAPPED_IPV4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** True when the address is reachable on the public internet (not private, loopback, link-local, ...). */
export function isPublicAddress(address: string): boolean {
  const mapped = MAPPED_IPV4.exec(address);
  if (mapped?.[1]) return isPublicAddress(mapped[1]);
  const family = isIP(address);
  if (family === 0) return false;
  return !blocked.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export class UnsafeUrlError extends Error {
  override name = 'UnsafeUrlError';
}

/** Throws UnsafeUrlError saying why the URL may not receive webhooks. */
export async function assertSafeUrl(url: string, allowPrivate: boolean): Promise<void> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UnsafeUrlError('is not a valid URL');
  }
  if (parsed.protocol !== 'https:' && !(allowPrivate && parsed.protocol === 'http:')) {
    throw new UnsafeUrlError('must use https (http is accepted only when WEBHOOK_ALLOW_PRIVATE_URLS=true)');
  }
  if (parsed.username || parsed.password) throw new UnsafeUrlError('must not contain credentials');
  if (allowPrivate) return;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  let addresses: LookupAddress[];
  try {
    addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await lookup(host, { all: true });
  } catch {
    throw new UnsafeUrlError(`host ${host} does not resolve`);
  }
  const privateAddress = addresses.find((entry) => !isPublicAddress(entry.address));
  if (privateAddress) {
    throw new UnsafeUrlError(
      `resolves to ${privateAddress.address}, a private, loopback or link-local address (refused unless WEBHOOK_ALLOW_PRIVATE_URLS=true)`,
    );
  }
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for net/tls.connect that refuses private answers: the address checked is the address
 * dialled, so DNS rebinding between validation and sending cannot slip through.
 */
export function publicOnlyLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
  lookup(hostname, { all: true, ...(family ? { family } : {}) }).then(
    (addresses) => {
      const refused = addresses.find((entry) => !isPublicAddress(entry.address));
      if (refused) {
        const error: NodeJS.ErrnoException = new UnsafeUrlError(
          `${hostname} resolved to ${refused.address}, a private, loopback or link-local address`,
        );
        error.code = 'EWEBHOOKPRIVATE';
        callback(error, []);
        return;
      }
      if (options.all) callback(null, addresses);
      else callback(null, addresses[0]?.address ?? '', addresses[0]?.family ?? 4);
    },
    (error: NodeJS.ErrnoException) => callback(error, []),
  );
}
