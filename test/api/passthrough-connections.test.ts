import { describe, expect, it } from 'vitest';
import { PassthroughConnections } from '../../src/api/passthrough-connections.js';
import type { ProviderConnection } from '../../src/providers/types.js';

/** The keep-or-reopen rules of passthrough's connections, with connections that only count closes. */
function harness(options: { maxEntries?: number; idleMs?: number } = {}) {
  const fingerprints = new Map<string, string>();
  const opened: string[] = [];
  const closed: string[] = [];
  const connections = new PassthroughConnections({
    open: async (accountId) => {
      if (accountId === 'unlinked') throw new Error('no provider');
      const name = `${accountId}#${opened.filter((id) => id.startsWith(accountId)).length + 1}`;
      opened.push(name);
      return {
        plan: () => Promise.reject(new Error('not used')),
        check: () => {
          throw new Error('not used');
        },
        close: async () => {
          closed.push(name);
        },
        name,
      } as ProviderConnection & { name: string };
    },
    fingerprint: async (accountId) => fingerprints.get(accountId) ?? 'v1',
    ...options,
  });
  const nameOf = async (accountId: string) =>
    ((await connections.get(accountId)) as ProviderConnection & { name: string }).name;
  return { connections, fingerprints, opened, closed, nameOf };
}

describe('passthrough connections', () => {
  it('keeps one per account while its credentials are unchanged, and reopens after a change', async () => {
    const { fingerprints, closed, nameOf } = harness();
    expect(await nameOf('a')).toBe('a#1');
    expect(await nameOf('a')).toBe('a#1');
    fingerprints.set('a', 'v2');
    expect(await nameOf('a')).toBe('a#2');
    expect(closed).toEqual(['a#1']);
  });

  it('keeps no failed open, and closes the least recently used past the limit', async () => {
    const { connections, opened, closed, nameOf } = harness({ maxEntries: 2 });
    await expect(connections.get('unlinked')).rejects.toThrow('no provider');
    await nameOf('a');
    await nameOf('b');
    await nameOf('a');
    await nameOf('c');
    expect(closed).toEqual(['b#1']);
    expect(opened).toEqual(['a#1', 'b#1', 'c#1']);
    await connections.close();
    expect(closed.sort()).toEqual(['a#1', 'b#1', 'c#1']);
  });

  it('closes connections idle for longer than idleMs', async () => {
    const { closed, nameOf } = harness({ idleMs: 20 });
    await nameOf('a');
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(await nameOf('b')).toBe('b#1');
    expect(closed).toEqual(['a#1']);
    expect(await nameOf('a')).toBe('a#2');
  });
});
