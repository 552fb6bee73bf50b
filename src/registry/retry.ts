import { setTimeout as sleep } from 'node:timers/promises';
import { RegistryError } from '../errors.js';

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

const TRANSIENT_NETWORK = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ECONNABORTED',
]);

export function isRetryable(error: unknown): boolean {
  if (error instanceof RegistryError) return error.retryable;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && (TRANSIENT_NETWORK.has(code) || code.startsWith('ERR_GOT_'));
}

/**
 * Run `attempt` until it succeeds, a non-retryable error, or retries run out. `onRetry` lets the
 * caller log; the last error is rethrown unchanged so its message stays precise.
 */
export async function withRetry<T>(
  policy: RetryPolicy,
  attempt: (n: number) => Promise<T>,
  onRetry?: (error: unknown, delayMs: number, n: number) => void,
): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (n >= policy.retries || !isRetryable(error)) throw error;
      const asked = error instanceof RegistryError ? error.retryAfterMs : undefined;
      if (asked !== undefined && asked > policy.maxRetryAfterMs) throw error;
      const delay = asked ?? backoffDelay(n, policy);
      onRetry?.(error, delay, n + 1);
      await sleep(delay);
    }
  }
}
