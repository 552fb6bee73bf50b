import { describe, expect, it } from 'vitest';
import { DEFAULT_TOKEN_SECONDS, TokenCache } from '../../../src/registry/token-cache.js';

function clock(start = Date.parse('2024-06-01T12:00:00Z')) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms), at: (iso: string) => (now = Date.parse(iso)) };
}

const key = TokenCache.key('https://auth/token', 'registry', 'repository:r:pull');

describe('TokenCache', () => {
  it('keys by realm, service and scope', () => {
    expect(TokenCache.key('r', 's', 'a')).not.toBe(TokenCache.key('r', 's', 'b'));
    expect(TokenCache.key('r', undefined, 'a')).toBe(TokenCache.key('r', '', 'a'));
    expect(TokenCache.key('r', 's', 'a')).not.toBe(TokenCache.key('r', undefined, 'a'));
  });

  it('returns a token until 10 s before it expires', () => {
    const c = clock();
    const cache = new TokenCache(c.now);
    cache.set(key, 'tok', 300);
    expect(cache.get(key)).toBe('tok');
    c.advance(289_999);
    expect(cache.get(key)).toBe('tok');
    c.advance(1);
    expect(cache.get(key)).toBeUndefined();
    // Once expired it is gone, even if the clock went back.
    c.advance(-100_000);
    expect(cache.get(key)).toBeUndefined();
  });

  it(`assumes ${DEFAULT_TOKEN_SECONDS} s when the token server gives no expires_in`, () => {
    const c = clock();
    const cache = new TokenCache(c.now);
    cache.set(key, 'tok', undefined);
    c.advance((DEFAULT_TOKEN_SECONDS - 10) * 1000 - 1);
    expect(cache.get(key)).toBe('tok');
    c.advance(1);
    expect(cache.get(key)).toBeUndefined();
  });

  it('counts the lifetime from issued_at when it is in the past', () => {
    const c = clock();
    c.at('2024-06-01T12:00:30Z');
    const cache = new TokenCache(c.now);
    cache.set(key, 'tok', 60, '2024-06-01T12:00:00Z');
    c.at('2024-06-01T12:00:49.999Z');
    expect(cache.get(key)).toBe('tok');
    c.at('2024-06-01T12:00:50Z');
    expect(cache.get(key)).toBeUndefined();
  });

  it('trusts its own clock for an issued_at in the future or not a date', () => {
    const c = clock();
    const cache = new TokenCache(c.now);
    cache.set(key, 'future', 60, '2030-01-01T00:00:00Z');
    cache.set('other', 'garbage', 60, 'yesterday-ish');
    c.advance(49_999);
    expect(cache.get(key)).toBe('future');
    expect(cache.get('other')).toBe('garbage');
    c.advance(1);
    expect(cache.get(key)).toBeUndefined();
    expect(cache.get('other')).toBeUndefined();
  });

  it('keeps tokens for different keys apart and forgets on delete', () => {
    const c = clock();
    const cache = new TokenCache(c.now);
    cache.set('a', 'ta', 300);
    cache.set('b', 'tb', 300);
    cache.set('a', 'ta2', 300);
    expect(cache.get('a')).toBe('ta2');
    cache.delete('a');
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBe('tb');
    expect(cache.get('never')).toBeUndefined();
  });
});
