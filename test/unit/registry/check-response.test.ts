import { describe, expect, it } from 'vitest';
import { checkResponse, isTransientStatus } from '../../../src/registry/check-response.js';
import { Redactor } from '../../../src/registry/redactor.js';
import { answer, request } from '../../helpers/fake-round-trip.js';

const body = (code: string, message: string) => JSON.stringify({ errors: [{ code, message }] });

describe('checkResponse: one map from HTTP status to the error vocabulary', () => {
  it.each([
    [401, 'AUTH_FAILED', false],
    [403, 'AUTH_FAILED', false],
    [404, 'NOT_FOUND', false],
    [400, 'REGISTRY_ERROR', false],
    [416, 'REGISTRY_ERROR', false],
    [429, 'REGISTRY_ERROR', true],
    [500, 'REGISTRY_ERROR', true],
    [503, 'REGISTRY_ERROR', true],
  ])('%i is %s (retryable: %s)', async (status, code, retryable) => {
    const error = await checkResponse(answer(status, {}, body('X', 'y')), request(), new Redactor()).catch((e) => e);
    expect(error).toMatchObject({ code, status, retryable });
    expect(error.message).toBe(
      `registry https://registry.example answered ${status} for GET /v2/stable/app/tags/list (X: y)`,
    );
  });

  it('passes the expected statuses, 200 by default', async () => {
    await expect(checkResponse(answer(200), request(), new Redactor())).resolves.toBeUndefined();
    await expect(checkResponse(answer(206), request(), new Redactor(), [200, 206])).resolves.toBeUndefined();
    await expect(checkResponse(answer(206), request(), new Redactor())).rejects.toMatchObject({
      code: 'REGISTRY_ERROR',
    });
  });

  it('names the subject and keeps Retry-After', async () => {
    const error = await checkResponse(
      answer(429, { 'retry-after': '7' }),
      request({ subject: 'tags of stable/app' }),
      new Redactor(),
    ).catch((e) => e);
    expect(error.message).toBe(
      'tags of stable/app: registry https://registry.example answered 429 for GET /v2/stable/app/tags/list',
    );
    expect(error.retryAfterMs).toBe(7000);
  });

  it("a token endpoint's failures are all AUTH_FAILED, transient ones retryable", async () => {
    const token = request({ server: 'token endpoint https://auth.example/token for scope s', authService: true });
    await expect(checkResponse(answer(404), token, new Redactor())).rejects.toMatchObject({
      code: 'AUTH_FAILED',
      retryable: false,
      message: 'token endpoint https://auth.example/token for scope s answered 404',
    });
    await expect(checkResponse(answer(503), token, new Redactor())).rejects.toMatchObject({
      code: 'AUTH_FAILED',
      retryable: true,
    });
  });

  it('cuts every known secret out of an echoed error body', async () => {
    const redactor = new Redactor();
    redactor.add('s3cr3t-token');
    const echoed = answer(400, {}, body('DENIED', 'bad header Authorization: Bearer s3cr3t-token'));
    const error = await checkResponse(echoed, request(), redactor).catch((e) => e);
    expect(error.message).toContain('(DENIED: bad header Authorization: Bearer [redacted])');
    expect(error.message).not.toContain('s3cr3t');
  });

  it('the transient rule: 429 and 5xx only', () => {
    expect([200, 301, 400, 401, 404, 428, 429, 500, 502, 599].filter(isTransientStatus)).toEqual([429, 500, 502, 599]);
  });
});
