import { describe, expect, it } from 'vitest';
import type { Challenge } from '../../../src/registry/auth-challenge.js';
import { BearerTokens } from '../../../src/registry/bearer-tokens.js';
import { Redactor } from '../../../src/registry/redactor.js';
import { answer, scripted } from '../../helpers/fake-round-trip.js';

const challenge: Challenge = { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'reg' } };
const options = { origin: 'https://registry.example', credentials: undefined, configKey: 'source.url' };
const token = (value: string, extra: object = {}) =>
  answer(200, { 'content-type': 'application/json' }, JSON.stringify({ token: value, ...extra }));

describe('BearerTokens', () => {
  it('asks the realm for the scope, once for concurrent requests, and caches the token', async () => {
    const { next, seen } = scripted([() => token('t1', { expires_in: 300 })]);
    const tokens = new BearerTokens(next, options, new Redactor());
    const got = await Promise.all([
      tokens.token(challenge, 'repository:a:pull'),
      tokens.token(challenge, 'repository:a:pull'),
    ]);
    expect(got).toEqual(['t1', 't1']);
    expect(await tokens.token(challenge, 'repository:a:pull')).toBe('t1');
    expect(seen.map((r) => r.url)).toEqual(['https://auth.example/token?service=reg&scope=repository%3Aa%3Apull']);
    expect(seen[0]).toMatchObject({ authService: true, headers: {} });
  });

  it('sends the credentials to the realm, and a forgotten token is asked again', async () => {
    const { next, seen } = scripted([() => token('t1'), () => token('t2')]);
    const tokens = new BearerTokens(
      next,
      { ...options, credentials: { username: 'u', password: 'p' } },
      new Redactor(),
    );
    expect(await tokens.token(challenge, 's')).toBe('t1');
    tokens.forget(challenge, 's');
    expect(await tokens.token(challenge, 's')).toBe('t2');
    expect(seen[0]!.headers).toEqual({ authorization: `Basic ${Buffer.from('u:p').toString('base64')}` });
  });

  it('accepts access_token (OAuth2 style)', async () => {
    const { next } = scripted([answer(200, {}, '{"access_token":"oauth"}')]);
    expect(await new BearerTokens(next, options, new Redactor()).token(challenge, 's')).toBe('oauth');
  });

  it('fails AUTH_FAILED on a refusal, an answer without a token, or a realm that is no URL', async () => {
    const refusal = scripted([answer(403)]).next;
    await expect(new BearerTokens(refusal, options, new Redactor()).token(challenge, 's')).rejects.toMatchObject({
      code: 'AUTH_FAILED',
      message: 'token endpoint https://auth.example/token for scope s answered 403',
    });
    const empty = scripted([answer(200, {}, '{"expires_in":300}')]).next;
    await expect(new BearerTokens(empty, options, new Redactor()).token(challenge, 's')).rejects.toMatchObject({
      code: 'AUTH_FAILED',
      message: 'token endpoint https://auth.example/token for scope s returned no token',
    });
    const unused = scripted([answer(200)]);
    const bad: Challenge = { scheme: 'bearer', params: { realm: 'file:///etc/passwd' } };
    await expect(new BearerTokens(unused.next, options, new Redactor()).token(bad, 's')).rejects.toMatchObject({
      code: 'AUTH_FAILED',
    });
    expect(unused.seen).toEqual([]);
  });

  it('the token joins the secrets cut out of error messages', async () => {
    const redactor = new Redactor();
    const { next } = scripted([() => token('very-secret')]);
    await new BearerTokens(next, options, redactor).token(challenge, 's');
    expect(redactor.redact('echo: Bearer very-secret')).toBe('echo: Bearer [redacted]');
  });
});
