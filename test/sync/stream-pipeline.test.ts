import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { SourceStream, SyncPage } from '../../src/providers/types.js';
import { readAhead } from '../../src/sync/read-ahead.js';
import { runStreamsInOrder } from '../../src/sync/stream-order.js';

describe('readAhead', () => {
  it('produces the next item while the consumer works on the current one, in order', async () => {
    const produced: number[] = [];
    async function* source() {
      for (let item = 1; item <= 3; item++) {
        produced.push(item);
        yield item;
      }
    }
    const consumed: number[] = [];
    const seenWhileConsuming: number[][] = [];
    for await (const item of readAhead(source())) {
      await sleep(5);
      seenWhileConsuming.push([...produced]);
      consumed.push(item);
    }
    expect(consumed).toEqual([1, 2, 3]);
    // While item 1 was being consumed, item 2 had already been produced.
    expect(seenWhileConsuming[0]).toEqual([1, 2]);
  });

  it('surfaces a failure of the item read ahead at that item, not as an unhandled rejection', async () => {
    async function* source() {
      yield 1;
      throw new Error('page 2 failed');
    }
    const consumed: number[] = [];
    const failure = (async () => {
      for await (const item of readAhead(source())) {
        await sleep(20); // the read-ahead fails meanwhile
        consumed.push(item);
      }
    })();
    await expect(failure).rejects.toThrow('page 2 failed');
    expect(consumed).toEqual([1]);
  });

  it('closes the source when the consumer stops early', async () => {
    let closed = false;
    async function* source() {
      try {
        for (let item = 1; ; item++) yield item;
      } finally {
        closed = true;
      }
    }
    const stop = (async () => {
      for await (const item of readAhead(source())) {
        if (item === 2) throw new Error('store failed');
      }
    })();
    await expect(stop).rejects.toThrow('store failed');
    await sleep(10);
    expect(closed).toBe(true);
  });
});

function stream(sourceTable: string): SourceStream {
  return {
    sourceTable,
    target: 'auxiliary',
    async *pages(): AsyncGenerator<SyncPage> {},
  };
}

describe('runStreamsInOrder', () => {
  it('starts a stream only after its prerequisites finished, keeping the concurrency', async () => {
    const events: string[] = [];
    let running = 0;
    let most = 0;
    const durations: Record<string, number> = { links: 30, dependents: 10, enrollments: 5, other: 5 };
    await runStreamsInOrder(
      ['enrollments', 'links', 'dependents', 'other'].map(stream),
      2,
      new Map([['enrollments', new Set(['links', 'dependents'])]]),
      async ({ sourceTable }) => {
        running++;
        most = Math.max(most, running);
        events.push(`start ${sourceTable}`);
        await sleep(durations[sourceTable]);
        events.push(`end ${sourceTable}`);
        running--;
      },
    );
    expect(most).toBe(2);
    expect(events.indexOf('start enrollments')).toBeGreaterThan(events.indexOf('end links'));
    expect(events.indexOf('start enrollments')).toBeGreaterThan(events.indexOf('end dependents'));
    // Waiting streams do not hold the others up: 'other' ran while enrollments waited.
    expect(events.indexOf('start other')).toBeLessThan(events.indexOf('end links'));
    expect(events.filter((event) => event.startsWith('end'))).toHaveLength(4);
  });

  it('runs a stream whose prerequisites form a cycle rather than stall', async () => {
    const ran: string[] = [];
    await runStreamsInOrder(
      ['a', 'b'].map(stream),
      2,
      new Map([
        ['a', new Set(['b'])],
        ['b', new Set(['a'])],
      ]),
      async ({ sourceTable }) => {
        ran.push(sourceTable);
      },
    );
    expect(ran.sort()).toEqual(['a', 'b']);
  });
});
