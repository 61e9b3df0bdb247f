import type { SourceStream } from '../providers/types.js';

/**
 * Runs a plan's streams, `concurrency` at a time, in the plan's order, except that a stream waits
 * for the source tables `prerequisites` names for it to finish (successfully or not) first. Used
 * for link rules: an initial load of enrollments that starts after its link rows and dependents are
 * stored inserts its links with each page (links.ts) instead of having every new row rewritten by
 * the rebuild after the streams. Should the prerequisites ever form a cycle, the first waiting
 * stream runs anyway: an order is a speed-up, never a reason to stall (the rebuild stays exact).
 */
export async function runStreamsInOrder(
  streams: readonly SourceStream[],
  concurrency: number,
  prerequisites: ReadonlyMap<string, ReadonlySet<string>>,
  runStream: (stream: SourceStream) => Promise<void>,
): Promise<void> {
  const pending = [...streams];
  const finished = new Set<string>();
  let running = 0;
  let wake = () => {};
  let somethingFinished = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const ready = (stream: SourceStream) =>
    [...(prerequisites.get(stream.sourceTable) ?? [])].every((table) => finished.has(table));
  const worker = async () => {
    for (;;) {
      if (pending.length === 0) return;
      let index = pending.findIndex(ready);
      if (index < 0 && running > 0) {
        await somethingFinished;
        continue;
      }
      if (index < 0) index = 0;
      const [stream] = pending.splice(index, 1) as [SourceStream];
      running++;
      try {
        await runStream(stream);
      } finally {
        running--;
        finished.add(stream.sourceTable);
        const resolve = wake;
        somethingFinished = new Promise<void>((next) => {
          wake = next;
        });
        resolve();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
}
