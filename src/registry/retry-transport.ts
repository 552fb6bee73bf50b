import { responseError, isTransientStatus } from './check-response.js';
import type { Redactor } from './redactor.js';
import { withRetry, type RetryPolicy } from './retry.js';
import { requestLine, type RoundTrip } from './round-trip.js';

export type OnRetry = (what: string, error: unknown, delayMs: number, attempt: number) => void;

/**
 * Retry what is transient: errors the vocabulary marks retryable (the network, idle timeouts)
 * and 429/5xx answers (after the server's Retry-After when it gives one). The last transient
 * answer becomes its error here, so every layer above sees either a usable answer or an error.
 */
export function retrying(next: RoundTrip, policy: RetryPolicy, redactor: Redactor, onRetry?: OnRetry): RoundTrip {
  return (request) =>
    withRetry(
      policy,
      async () => {
        const response = await next(request);
        if (!isTransientStatus(response.status)) return response;
        throw await responseError(response, request, redactor);
      },
      (error, delay, attempt) => onRetry?.(requestLine(request), error, delay, attempt),
      request.signal,
    );
}
