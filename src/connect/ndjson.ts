import { Readable } from 'node:stream';

/**
 * Newline-delimited JSON streamed to the page as events happen (fetch + ReadableStream on the
 * page). A plain stream keeps working through proxies that buffer nothing special, unlike SSE
 * needing GET (our posts carry credentials and a CSRF header).
 */
export function ndjsonStream(events: AsyncIterable<object>): Readable {
  async function* lines() {
    for await (const event of events) yield `${JSON.stringify(event)}\n`;
  }
  return Readable.from(lines());
}

/** A queue an event producer (callbacks) pushes into and an async generator drains. */
export class EventQueue<T> {
  private readonly items: T[] = [];
  private wake: (() => void) | undefined;
  private closed = false;

  push(item: T): void {
    this.items.push(item);
    this.wake?.();
  }

  close(): void {
    this.closed = true;
    this.wake?.();
  }

  async *drain(): AsyncGenerator<T> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
  }
}
