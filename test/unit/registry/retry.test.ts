import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NetworkError, NotFoundError, RegistryError } from '../../../src/errors.js';
import {
  DEFAULT_RETRY,
  backoffDelay,
  parseRetryAfter,
  withRetry,
  type RetryPolicy,
} from '../../../src/registry/retry.js';

const NOW = Date.parse('2024-06-01T12:00:00Z');
const fast: RetryPolicy = { retries: 3, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 50 };
const transient = (retryAfterMs?: number) =>
  new RegistryError('GET /v2/ answered 503', { status: 503, retryable: true, retryAfterMs });
const permanent = () => new NotFoundError('manifest unknown', { status: 404, retryable: false });
const reset = () => new NetworkError('GET /v2/ at registry.example (source.url): connection reset');

describe('parseRetryAfter', () => {
  it('reads delta-seconds', () => {
    expect(parseRetryAfter('120', NOW)).toBe(120_000);
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter(' 5 ', NOW)).toBe(5000);
  });

  it('reads an HTTP date relative to now, never negative', () => {
    expect(parseRetryAfter('Sat, 01 Jun 2024 12:00:30 GMT', NOW)).toBe(30_000);
    expect(parseRetryAfter('Sat, 01 Jun 2024 11:00:00 GMT', NOW)).toBe(0);
  });

  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
    expect(parseRetryAfter('', NOW)).toBeUndefined();
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
    expect(parseRetryAfter('5s', NOW)).toBeUndefined();
  });
});

describe('backoffDelay', () => {
  it('grows exponentially from the base up to the cap, with full jitter', () => {
    const policy = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 1000 };
    expect([0, 1, 2, 3, 4, 10, 2000].map((n) => backoffDelay(n, policy, () => 1))).toEqual([
      100, 200, 400, 800, 1000, 1000, 1000,
    ]);
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(400);
  });

  it('property: always an integer between 0 and min(max, base * 2^attempt)', () => {
    fc.assert(
      fc.property(
        fc.nat(100),
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, base, max, r) => {
          const delay = backoffDelay(
            attempt,
            { retries: 5, baseDelayMs: base, maxDelayMs: max, maxRetryAfterMs: 0 },
            () => r,
          );
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThanOrEqual(Math.min(max, base * 2 ** attempt));
        },
      ),
    );
  });
});

describe('withRetry', () => {
  function failing(errors: unknown[], result = 'ok') {
    const attempts: number[] = [];
    const run = async (n: number) => {
      attempts.push(n);
      const error = errors[n];
      if (error !== undefined) throw error;
      return result;
    };
    return { attempts, run };
  }

  it('returns the first success without retrying', async () => {
    const f = failing([]);
    await expect(withRetry(fast, f.run)).resolves.toBe('ok');
    expect(f.attempts).toEqual([0]);
  });

  it('retries retryable errors and returns the eventual result', async () => {
    const f = failing([transient(), reset()]);
    const retries: [number, number][] = [];
    await expect(withRetry(fast, f.run, (_e, delay, n) => retries.push([n, delay]))).resolves.toBe('ok');
    expect(f.attempts).toEqual([0, 1, 2]);
    expect(retries.map(([n]) => n)).toEqual([1, 2]);
    for (const [, delay] of retries) expect(delay).toBeLessThanOrEqual(fast.maxDelayMs);
  });

  it('gives up after policy.retries retries and rethrows the last error unchanged', async () => {
    const errors = [transient(), transient(), transient(), transient(), transient()];
    const f = failing(errors);
    await expect(withRetry(fast, f.run)).rejects.toBe(errors[3]);
    expect(f.attempts).toEqual([0, 1, 2, 3]);
  });

  it('does not retry with retries: 0', async () => {
    const f = failing([transient()]);
    await expect(withRetry({ ...fast, retries: 0 }, f.run)).rejects.toBeInstanceOf(RegistryError);
    expect(f.attempts).toEqual([0]);
  });

  it('does not retry errors that are not retryable', async () => {
    const error = permanent();
    const f = failing([error]);
    await expect(withRetry(fast, f.run)).rejects.toBe(error);
    expect(f.attempts).toEqual([0]);
    const plain = new TypeError('bug');
    await expect(withRetry(fast, failing([plain]).run)).rejects.toBe(plain);
  });

  it("waits the server's Retry-After instead of the backoff", async () => {
    const f = failing([transient(30), transient(0)]);
    const delays: number[] = [];
    const started = Date.now();
    await expect(withRetry(fast, f.run, (_e, delay) => delays.push(delay))).resolves.toBe('ok');
    expect(delays).toEqual([30, 0]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });

  it('refuses a Retry-After above maxRetryAfterMs at once', async () => {
    const error = transient(51);
    const f = failing([error]);
    const onRetry: unknown[] = [];
    await expect(withRetry(fast, f.run, (e) => onRetry.push(e))).rejects.toBe(error);
    expect(f.attempts).toEqual([0]);
    expect(onRetry).toEqual([]);
  });

  it('passes the attempt number to the attempt', async () => {
    const seen: number[] = [];
    await withRetry(fast, async (n) => {
      seen.push(n);
      if (n < 2) throw reset();
    });
    expect(seen).toEqual([0, 1, 2]);
  });
});

describe('parseRetryAfter rejects what RFC 9110 calls invalid', () => {
  it.each(['-1', '1.5', '+3', 'soon'])('%j is ignored', (value) => {
    expect(parseRetryAfter(value, 0)).toBeUndefined();
  });
});
