import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { recordId } from '../../src/unified/record-id.js';

/** UUID v5 as RFC 9562 §5.5 defines it, with node:crypto's SHA-1: the reference. */
function uuidV5(namespace: string, name: string): string {
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replaceAll('-', ''), 'hex'))
    .update(name)
    .digest();
  hash[6] = ((hash[6] as number) & 0x0f) | 0x50;
  hash[8] = ((hash[8] as number) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

describe('recordId', () => {
  it('is the UUID v5 of model:remoteId in the account namespace, for names of every length and script', () => {
    const accounts = [randomUUID(), randomUUID(), '6ba7b810-9dad-11d1-80b4-00c04fd430c8'];
    let checked = 0;
    for (let length = 0; length < 300; length++) {
      for (const account of accounts) {
        // Lengths across SHA-1's block boundaries (55/56/64 bytes), multi-byte and astral characters.
        const remoteId = `${'x'.repeat(length)}${length % 3 === 0 ? 'é' : ''}${length % 7 === 0 ? '𝄞' : ''}`;
        expect(recordId(account, 'benefit_enrollments', remoteId)).toBe(
          uuidV5(account, `benefit_enrollments:${remoteId}`),
        );
        checked++;
      }
    }
    expect(recordId(accounts[0] as string, 'dependents', 'y'.repeat(5000))).toBe(
      uuidV5(accounts[0] as string, `dependents:${'y'.repeat(5000)}`),
    );
    expect(checked).toBe(900);
  });

  it('refuses an account id that is not a UUID', () => {
    expect(() => recordId('not-a-uuid', 'employees', '1')).toThrow(/not a UUID/);
  });
});
