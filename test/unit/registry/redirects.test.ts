import { describe, expect, it } from 'vitest';
import { followingRedirects } from '../../../src/registry/redirects.js';
import { answer, request, scripted } from '../../helpers/fake-round-trip.js';

describe('followingRedirects', () => {
  it('follows a redirect to another host without the Authorization header', async () => {
    const { next, seen } = scripted([
      answer(307, { location: 'https://cdn.example/blob?sig=1' }),
      answer(302, { location: '/again' }),
      answer(200),
    ]);
    const response = await followingRedirects(next)(request({ headers: { authorization: 'Bearer t', accept: 'x' } }));
    expect(response.status).toBe(200);
    expect(seen.map((r) => [r.url, r.headers])).toEqual([
      ['https://registry.example/v2/stable/app/tags/list', { authorization: 'Bearer t', accept: 'x' }],
      ['https://cdn.example/blob?sig=1', { accept: 'x' }],
      ['https://cdn.example/again', { accept: 'x' }],
    ]);
  });

  it('keeps Authorization on the origin first asked', async () => {
    const { next, seen } = scripted([answer(301, { location: '/v2/moved' }), answer(200)]);
    await followingRedirects(next)(request({ headers: { authorization: 'Basic x' } }));
    expect(seen[1]).toMatchObject({ url: 'https://registry.example/v2/moved', headers: { authorization: 'Basic x' } });
  });

  it('gives up after 5 redirects, naming the request', async () => {
    const { next, seen } = scripted([answer(307, { location: '/v2/loop' })]);
    await expect(followingRedirects(next)(request())).rejects.toMatchObject({
      code: 'REGISTRY_ERROR',
      retryable: false,
      message: 'too many redirects (over 5) for GET /v2/stable/app/tags/list',
    });
    expect(seen).toHaveLength(6);
  });

  it('refuses a redirect to a scheme other than http(s)', async () => {
    const { next } = scripted([answer(302, { location: 'file:///etc/passwd' })]);
    await expect(followingRedirects(next)(request())).rejects.toMatchObject({
      code: 'REGISTRY_ERROR',
      message: expect.stringMatching(/^redirect to unsupported URL scheme file:/),
    });
  });

  it('returns a 3xx without Location as it is', async () => {
    const { next } = scripted([answer(304)]);
    expect((await followingRedirects(next)(request())).status).toBe(304);
  });
});
