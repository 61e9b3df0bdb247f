import { type DataverseError, dataverseErrors } from './errors.js';

/**
 * Service protection limits per user, as Microsoft documents them (docs/microsoft-wire.md, "Errors,
 * throttling and change tracking"): requests in a sliding window, the combined execution time of
 * requests in the same window, and concurrent requests.
 */
export interface ThrottleLimits {
  requestLimit: number;
  windowSeconds: number;
  concurrencyLimit: number;
  /** Combined execution time of a user's requests in the window (Dataverse: 1,200,000 ms per 300 s). */
  executionTimeLimitMs: number;
}

export interface ServiceProtection {
  limits: ThrottleLimits;
  /** Registers a request; returns the 429 error or a release function to call when the response is sent. */
  admit(userId: string, nowMs: number): DataverseError | (() => void);
}

export function createServiceProtection(limits: ThrottleLimits): ServiceProtection {
  const windows = new Map<string, number[]>();
  const inFlight = new Map<string, number>();
  /** Per user: finished requests as [finished at, took ms], oldest first. */
  const executions = new Map<string, [number, number][]>();
  return {
    limits,
    admit(userId, nowMs) {
      const windowMs = limits.windowSeconds * 1000;
      const timestamps = windows.get(userId) ?? [];
      windows.set(userId, timestamps);
      let expired = 0;
      while (expired < timestamps.length && (timestamps[expired] as number) <= nowMs - windowMs) expired++;
      if (expired > 0) timestamps.splice(0, expired);
      if (timestamps.length >= limits.requestLimit) {
        const retryAfter = Math.max(1, Math.ceil(((timestamps[0] as number) + windowMs - nowMs) / 1000));
        return dataverseErrors.throttledRequests(limits.requestLimit, limits.windowSeconds, retryAfter);
      }
      const spent = executions.get(userId) ?? [];
      executions.set(userId, spent);
      let gone = 0;
      while (gone < spent.length && (spent[gone] as [number, number])[0] <= nowMs - windowMs) gone++;
      if (gone > 0) spent.splice(0, gone);
      const combinedMs = spent.reduce((sum, [, took]) => sum + took, 0);
      if (combinedMs > limits.executionTimeLimitMs) {
        // Wait until enough of the window's execution time has slid out of it.
        let freed = 0;
        let until = nowMs;
        for (const [finishedAt, took] of spent) {
          freed += took;
          until = finishedAt + windowMs;
          if (combinedMs - freed <= limits.executionTimeLimitMs) break;
        }
        const retryAfter = Math.max(1, Math.ceil((until - nowMs) / 1000));
        return dataverseErrors.throttledExecutionTime(
          limits.executionTimeLimitMs,
          limits.windowSeconds,
          retryAfter,
        );
      }
      const running = inFlight.get(userId) ?? 0;
      if (running >= limits.concurrencyLimit)
        return dataverseErrors.throttledConcurrency(limits.concurrencyLimit, 1);
      timestamps.push(nowMs);
      inFlight.set(userId, running + 1);
      let released = false;
      const startedAt = Date.now();
      return () => {
        if (released) return;
        released = true;
        inFlight.set(userId, (inFlight.get(userId) ?? 1) - 1);
        const finishedAt = Date.now();
        spent.push([nowMs + (finishedAt - startedAt), finishedAt - startedAt]);
      };
    },
  };
}
