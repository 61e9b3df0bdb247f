import { sha1Into } from './sha1.js';

/**
 * Our id for a unified record, derived from (linked account, model, remote id) as a UUID v5
 * (RFC 9562 §5.5) in the linked account's namespace. Deriving rather than generating ids means a
 * reference (an employee's manager, an enrollment's plan) is known before the referenced row has
 * arrived in a sync, re-syncing the same row always lands on the same id, and no lookup is needed.
 *
 * Hot in initial loads (one or two ids per stored row), so it hashes into a reused buffer with the
 * last account's namespace bytes kept in place (sha1.ts says why not node:crypto).
 */

const encoder = new TextEncoder();
const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));
const digest = new Int32Array(5);
/** Namespace (16 bytes) + name + room for SHA-1's padding; grown for longer names. */
let input = new Uint8Array(512);
let namespaceOf: string | undefined;

export function recordId(linkedAccountId: string, model: string, remoteId: string): string {
  const name = `${model}:${remoteId}`;
  // UTF-8 takes at most 3 bytes per UTF-16 code unit; 72 bytes more for the padding and length.
  if (16 + name.length * 3 + 72 > input.length) {
    input = new Uint8Array(16 + name.length * 3 + 72);
    namespaceOf = undefined;
  }
  if (namespaceOf !== linkedAccountId) {
    const hex = linkedAccountId.replaceAll('-', '');
    if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new TypeError(`not a UUID: ${linkedAccountId}`);
    for (let byte = 0; byte < 16; byte++)
      input[byte] = Number.parseInt(hex.slice(byte * 2, byte * 2 + 2), 16);
    namespaceOf = linkedAccountId;
  }
  const { written } = encoder.encodeInto(name, input.subarray(16));
  sha1Into(input, 16 + written, digest);
  const [h0, h1, h2, h3] = digest as unknown as [number, number, number, number];
  const version = ((h1 >>> 8) & 0x0f) | 0x50; // version 5
  const variant = ((h2 >>> 24) & 0x3f) | 0x80; // RFC 4122 variant
  return (
    `${word(h0)}-${HEX[(h1 >>> 24) & 0xff]}${HEX[(h1 >>> 16) & 0xff]}-${HEX[version]}${HEX[h1 & 0xff]}-` +
    `${HEX[variant]}${HEX[(h2 >>> 16) & 0xff]}-${HEX[(h2 >>> 8) & 0xff]}${HEX[h2 & 0xff]}${word(h3)}`
  );
}

function word(value: number): string {
  return `${HEX[(value >>> 24) & 0xff]}${HEX[(value >>> 16) & 0xff]}${HEX[(value >>> 8) & 0xff]}${HEX[value & 0xff]}`;
}
