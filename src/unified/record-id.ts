import { createHash } from 'node:crypto';

/**
 * Our id for a unified record, derived from (linked account, model, remote id) as a UUID v5
 * (RFC 9562 §5.5) in the linked account's namespace. Deriving rather than generating ids means a
 * reference (an employee's manager, an enrollment's plan) is known before the referenced row has
 * arrived in a sync, re-syncing the same row always lands on the same id, and no lookup is needed.
 */
export function recordId(linkedAccountId: string, model: string, remoteId: string): string {
  const namespace = Buffer.from(linkedAccountId.replaceAll('-', ''), 'hex');
  const hash = createHash('sha1').update(namespace).update(`${model}:${remoteId}`).digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50; // version 5
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80; // RFC 4122 variant
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
