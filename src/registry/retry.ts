import { setTimeout as sleep } from 'node:timers/promises';
import { isRetryable } from '../errors.js';

export interface RetryPolicy {
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Upper bound for a server's Retry-After: a registry asking for an hour gets an error instead. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  retries: 5,
  baseDelayMs: 200,
  maxDelayMs: 10_000,
  maxRetryAfterMs: 120_000,
};

/** PURE: Retry-After as delta-seconds or an HTTP date, in ms from `now`. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  // RFC 9110: anything else must be an HTTP-date (it names a weekday or month); "-1" is invalid.
  const date = /[A-Za-z]{3}/.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** PURE: exponential backoff with full jitter. */
export function backoffDelay(attempt: number, policy: RetryPolicy, random = Math.random): number {
  return Math.round(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt));
}

/**
 * Run `attempt` until it succeeds, a non-retryable error, or retries run out. `onRetry` lets the
 * caller log; the last error is rethrown unchanged so its message stays precise. An aborted
 * `signal` (a deadline) ends the wait at once with its reason.
 */
export async function withRetry<T>(
  policy: RetryPolicy,
  attempt: (n: number) => Promise<T>,
  onRetry?: (error: unknown, delayMs: number, n: number) => void,
  signal?: AbortSignal,
): Promise<T> {
  for (let n = 0; ; n++) {
    signal?.throwIfAborted();
    try {
      return await attempt(n);
    } catch (error) {
      if (n >= policy.retries || !isRetryable(error) || signal?.aborted) throw error;
      const asked = (error as { retryAfterMs?: number }).retryAfterMs;
      if (asked !== undefined && asked > policy.maxRetryAfterMs) throw error;
      const delay = asked ?? backoffDelay(n, policy);
      onRetry?.(error, delay, n + 1);
      await sleep(delay, undefined, signal ? { signal } : {}).catch(() => signal?.throwIfAborted());
    }
  }
}
