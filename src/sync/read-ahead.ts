/**
 * A stream's pages with the next one already being produced while the caller stores the current
 * one: the source's work (an HTTP fetch, unzipping, CSV parsing and mapping) overlaps PostgreSQL's
 * work on the page before, instead of each waiting for the other (docs/PERFORMANCE.md, "F&O DMF
 * fallback"). At most one page ahead, so memory stays bounded by two pages per stream.
 *
 * The page read ahead is only handed over after the caller has finished with the one before, so
 * the order of stored pages (and of their cursors) is the source's order. A failure while reading
 * ahead surfaces when the caller asks for that page, never as an unhandled rejection. When the
 * caller stops early (a page failed to store), the source is closed once its pending page settles
 * (an async generator runs its `finally` only then), without holding the caller up.
 */
export async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let next = iterator.next();
  let finished = false;
  try {
    for (;;) {
      const result = await next;
      if (result.done) {
        finished = true;
        return;
      }
      next = iterator.next();
      next.catch(() => undefined);
      yield result.value;
    }
  } catch (error) {
    // The source itself failed: it is done, nothing to close.
    finished = true;
    throw error;
  } finally {
    if (!finished) {
      void next
        .then(
          () => iterator.return?.(),
          () => undefined,
        )
        .catch(() => undefined);
    }
  }
}
