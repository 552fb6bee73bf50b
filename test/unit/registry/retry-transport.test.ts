import { describe, expect, it } from 'vitest';
import { NetworkError, TimeoutError, TlsError } from '../../../src/errors.js';
import { Redactor } from '../../../src/registry/redactor.js';
import { retrying } from '../../../src/registry/retry-transport.js';
import type { RetryPolicy } from '../../../src/registry/retry.js';
import { answer, request, scripted } from '../../helpers/fake-round-trip.js';

const fast: RetryPolicy = { retries: 3, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 5000 };
const reset = () => new NetworkError('GET /v2/ at registry.example (source.url): connection reset');

describe('retrying', () => {
  it('retries 5xx, 429 and retryable errors, then returns the answer', async () => {
    const { next, seen } = scripted([answer(503), answer(429, { 'retry-after': '0' }), reset(), answer(200)]);
    const retries: Array<[string, number]> = [];
    const response = await retrying(next, fast, new Redactor(), (what, _e, _d, n) => retries.push([what, n]))(
      request(),
    );
    expect(response.status).toBe(200);
    expect(seen).toHaveLength(4);
    expect(retries).toEqual([
      ['GET /v2/stable/app/tags/list', 1],
      ['GET /v2/stable/app/tags/list', 2],
      ['GET /v2/stable/app/tags/list', 3],
    ]);
  });

  it('turns the last transient answer into its error', async () => {
    const { next, seen } = scripted([() => answer(502, {}, '{"errors":[{"code":"UNAVAILABLE","message":"down"}]}')]);
    await expect(retrying(next, fast, new Redactor())(request())).rejects.toMatchObject({
      code: 'REGISTRY_ERROR',
      status: 502,
      message: 'registry https://registry.example answered 502 for GET /v2/stable/app/tags/list (UNAVAILABLE: down)',
    });
    expect(seen).toHaveLength(4);
  });

  it('hands up every other answer at once, errors included (they are the caller to check)', async () => {
    for (const status of [200, 401, 404]) {
      const { next, seen } = scripted([answer(status)]);
      expect((await retrying(next, fast, new Redactor())(request())).status).toBe(status);
      expect(seen).toHaveLength(1);
    }
  });

  it('does not retry what retrying cannot fix', async () => {
    const tls = new TlsError('GET /v2/ at registry.example (source.url): TLS failed: self-signed certificate');
    const { next, seen } = scripted([tls]);
    await expect(retrying(next, fast, new Redactor())(request())).rejects.toBe(tls);
    expect(seen).toHaveLength(1);
  });

  it('stops at once with the reason when the signal aborts (a deadline)', async () => {
    const controller = new AbortController();
    const deadline = new TimeoutError('blob sha256:ab of x: not complete after 1 s (source.blobDeadlineSeconds)');
    const slow: RetryPolicy = { ...fast, baseDelayMs: 60_000, maxDelayMs: 60_000 };
    const { next, seen } = scripted([
      () => {
        setTimeout(() => controller.abort(deadline), 20);
        return answer(503);
      },
    ]);
    await expect(retrying(next, slow, new Redactor())(request({ signal: controller.signal }))).rejects.toBe(deadline);
    expect(seen).toHaveLength(1);
  });
});
