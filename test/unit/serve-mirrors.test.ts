import { describe, expect, it } from 'vitest';
import { blobUrlsFor, chooseBaseUrl, joinUrl, rankMirrors, type MirrorSet } from '../../src/serve/mirrors.js';

const set: MirrorSet = {
  master: 'https://master.example.org/containers',
  mirrors: [
    { url: 'https://a.example.net/c', weight: 1, repositories: ['**'] },
    { url: 'https://b.example.net/c', weight: 3, country: 'DE', repositories: ['**'] },
    { url: 'https://fedora-only.example.net/c', weight: 100, repositories: ['fedora/**'] },
  ],
};

const clients = Array.from({ length: 8000 }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);

describe('mirror selection', () => {
  it('chooses only mirrors that carry the repository', () => {
    const chosen = new Set(clients.slice(0, 500).map((ip) => chooseBaseUrl(set, 'debian/base', ip)));
    expect(chosen).toEqual(new Set(['https://a.example.net/c', 'https://b.example.net/c']));
    expect(rankMirrors(set, 'fedora/toolbox', '1.2.3.4')).toHaveLength(3);
  });

  it('is stable per client', () => {
    for (const ip of clients.slice(0, 50)) expect(chooseBaseUrl(set, 'debian/base', ip)).toBe(chooseBaseUrl(set, 'debian/base', ip));
  });

  it('spreads clients in proportion to the weights', () => {
    const toB = clients.filter((ip) => chooseBaseUrl(set, 'debian/base', ip) === 'https://b.example.net/c').length;
    // Expected share 3/4; 8000 draws put 4 standard deviations within about ±2%.
    expect(toB / clients.length).toBeGreaterThan(0.73);
    expect(toB / clients.length).toBeLessThan(0.77);
  });

  it('moves only the clients of a removed mirror', () => {
    const without = { ...set, mirrors: set.mirrors.filter((m) => !m.url.startsWith('https://b.')) };
    for (const ip of clients.slice(0, 1000)) {
      const before = chooseBaseUrl(set, 'debian/base', ip);
      if (before !== 'https://b.example.net/c') expect(chooseBaseUrl(without, 'debian/base', ip)).toBe(before);
    }
  });

  it('prefers mirrors in the client country, keeping the others as fallbacks', () => {
    const ranked = rankMirrors(set, 'debian/base', '10.0.0.1', 'de');
    expect(ranked.map((m) => m.url)).toEqual(['https://b.example.net/c', 'https://a.example.net/c']);
    for (const ip of clients.slice(0, 200)) expect(chooseBaseUrl(set, 'debian/base', ip, 'DE')).toBe('https://b.example.net/c');
  });

  it('falls back to the master when no mirror carries the repository', () => {
    const none: MirrorSet = { master: set.master, mirrors: [set.mirrors[2]!] };
    expect(chooseBaseUrl(none, 'debian/base', '10.0.0.1')).toBe(set.master);
    expect(chooseBaseUrl({ master: set.master, mirrors: [] }, 'x', '10.0.0.1')).toBe(set.master);
  });
});

describe('urls for urls mode', () => {
  it('lists the best mirrors for the blob, then the master, the same for every client', () => {
    const urls = blobUrlsFor(set, 'fedora/toolbox', 'sha256:aa', 'fedora/toolbox/_blobs/sha256/aa', 2);
    expect(urls).toHaveLength(3);
    expect(urls.at(-1)).toBe('https://master.example.org/containers/fedora/toolbox/_blobs/sha256/aa');
    expect(blobUrlsFor(set, 'fedora/toolbox', 'sha256:aa', 'fedora/toolbox/_blobs/sha256/aa', 2)).toEqual(urls);
  });

  it('spreads the blobs of an image over the mirrors', () => {
    const firsts = new Set(Array.from({ length: 200 }, (_, i) => blobUrlsFor(set, 'debian/base', `sha256:${i}`, `p${i}`, 1)[0]!.replace(/\/p\d+$/, '')));
    expect(firsts).toEqual(new Set(['https://a.example.net/c', 'https://b.example.net/c']));
  });

  it('joins base and tree path with one slash, each segment encoded', () => {
    expect(joinUrl('http://m/x', 'a/_blobs/sha256/ff')).toBe('http://m/x/a/_blobs/sha256/ff');
    expect(joinUrl('http://m', 'a b/c')).toBe('http://m/a%20b/c');
  });
});
