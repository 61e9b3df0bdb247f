import { type DataverseError, dataverseErrors } from './errors.js';

/**
 * Service protection limits per user (reference §4): requests in a sliding window and concurrent
 * requests. The execution-time limit (0x80072321) is not simulated.
 */
export interface ThrottleLimits {
  requestLimit: number;
  windowSeconds: number;
  concurrencyLimit: number;
}

export interface ServiceProtection {
  limits: ThrottleLimits;
  /** Registers a request; returns the 429 error or a release function to call when the response is sent. */
  admit(userId: string, nowMs: number): DataverseError | (() => void);
}

export function createServiceProtection(limits: ThrottleLimits): ServiceProtection {
  const windows = new Map<string, number[]>();
  const inFlight = new Map<string, number>();
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
      const running = inFlight.get(userId) ?? 0;
      if (running >= limits.concurrencyLimit)
        return dataverseErrors.throttledConcurrency(limits.concurrencyLimit, 1);
      timestamps.push(nowMs);
      inFlight.set(userId, running + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        inFlight.set(userId, (inFlight.get(userId) ?? 1) - 1);
      };
    },
  };
}
