import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseChallenge } from '../../../src/registry/auth-challenge.js';

// Any code point, lone surrogates included (fast-check's 'binary' unit is slow to set up).
const anyChar = fc.integer({ min: 0, max: 0x10ffff }).map((c) => String.fromCodePoint(c));

describe('parseChallenge', () => {
  it('parses a Bearer challenge as Docker Hub sends it', () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
      ),
    ).toEqual({
      scheme: 'bearer',
      params: {
        realm: 'https://auth.docker.io/token',
        service: 'registry.docker.io',
        scope: 'repository:library/alpine:pull',
      },
    });
  });

  it('keeps commas inside quoted values (several actions in one scope)', () => {
    expect(
      parseChallenge('Bearer realm="https://a/token", scope="repository:r:pull,push", service="s"')?.params,
    ).toEqual({
      realm: 'https://a/token',
      scope: 'repository:r:pull,push',
      service: 's',
    });
  });

  it('unescapes backslash-escaped quotes and backslashes in quoted values', () => {
    expect(
      parseChallenge('Bearer realm="https://a/t", error_description="say \\"hi\\" \\\\ bye"')?.params.error_description,
    ).toBe('say "hi" \\ bye');
  });

  it('accepts unquoted values, any scheme and parameter case, and spaces around =', () => {
    expect(parseChallenge('BEARER Realm=https://a/token , Service = reg')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://a/token', service: 'reg' },
    });
    expect(parseChallenge('bearer realm="x"')?.scheme).toBe('bearer');
  });

  it('parses Basic with and without a realm', () => {
    expect(parseChallenge('Basic realm="Registry Realm"')).toEqual({
      scheme: 'basic',
      params: { realm: 'Registry Realm' },
    });
    expect(parseChallenge('Basic')).toEqual({ scheme: 'basic', params: {} });
    expect(parseChallenge('  basic  ')).toEqual({ scheme: 'basic', params: {} });
  });

  it('ignores schemes it does not support', () => {
    expect(parseChallenge('Negotiate')).toBeUndefined();
    expect(parseChallenge('Digest realm="x", nonce="y"')).toBeUndefined();
    expect(parseChallenge('AWS4-HMAC-SHA256 Credential=x')).toBeUndefined();
  });

  it('gives nothing for an empty or garbage header', () => {
    expect(parseChallenge(undefined)).toBeUndefined();
    expect(parseChallenge('')).toBeUndefined();
    expect(parseChallenge('   ')).toBeUndefined();
    expect(parseChallenge('="x"')).toBeUndefined();
    expect(parseChallenge('123')).toBeUndefined();
  });

  it('stops at the first thing that is not a parameter, keeping what came before', () => {
    expect(parseChallenge('Bearer realm="https://a/t", garbage here, service="s"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://a/t' },
    });
    expect(parseChallenge('Bearer realm="a"b", service=x')).toEqual({ scheme: 'bearer', params: { realm: 'a' } });
  });

  it('never yields a clean realm from a malformed one (the transport then refuses the challenge)', () => {
    expect(parseChallenge('Bearer realm="https://a/token')?.params.realm).not.toMatch(/^https?:\/\//);
    const token68 = parseChallenge('Bearer dG9rZW42OA==');
    expect(token68?.scheme).toBe('bearer');
    expect(token68?.params.realm).toBeUndefined();
  });

  it('reads only the first challenge when Basic and Bearer are both offered', () => {
    expect(parseChallenge('Basic realm="r", Bearer realm="https://a/t"')).toEqual({
      scheme: 'basic',
      params: { realm: 'r' },
    });
  });

  it('property: never throws; a parsed challenge round-trips quoted parameters', () => {
    const key = fc.constantFrom('realm', 'service', 'scope', 'error');
    const value = fc.string({ maxLength: 30 });
    fc.assert(
      fc.property(
        fc.constantFrom('Bearer', 'Basic', 'bearer'),
        fc.uniqueArray(fc.tuple(key, value), { selector: ([k]) => k, maxLength: 4 }),
        (scheme, params) => {
          const header = `${scheme} ${params.map(([k, v]) => `${k}="${v.replace(/["\\]/g, '\\$&')}"`).join(', ')}`;
          expect(parseChallenge(header)).toEqual({ scheme: scheme.toLowerCase(), params: Object.fromEntries(params) });
        },
      ),
    );
    fc.assert(
      fc.property(fc.string({ unit: anyChar, maxLength: 80 }), (header) => {
        const challenge = parseChallenge(header);
        if (challenge) expect(['basic', 'bearer']).toContain(challenge.scheme);
      }),
    );
  });
});

describe('parseChallenge with several challenges', () => {
  it('skips an unsupported scheme listed first (repeated headers joined by Node)', () => {
    expect(parseChallenge('Negotiate, Bearer realm="https://auth.example/token",service="registry"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.example/token', service: 'registry' },
    });
    expect(parseChallenge('Negotiate abc==, Basic realm="r"')).toEqual({ scheme: 'basic', params: { realm: 'r' } });
  });
  it('returns the first supported one when two are', () => {
    expect(parseChallenge('Basic realm="a", Bearer realm="https://b/token"')?.scheme).toBe('basic');
  });
});
