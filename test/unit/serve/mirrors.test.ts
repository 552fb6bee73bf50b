import { describe, expect, it } from 'vitest';
import type { MirrorSet } from '../../../src/mirror-list/mirrors.js';
import { blobUrlsFor, chooseBlobUrl, rankMirrors, type BlobLocation } from '../../../src/serve/mirrors.js';

/** A blob in the single default module at `path`. */
const at = (path: string): BlobLocation => ({ path, modules: { containers: path } });
/** The mirror base URL a client is sent to (the blob path stripped). */
const chooseBaseUrl = (set: MirrorSet, repository: string, client: string, country?: string) =>
  chooseBlobUrl(set, repository, at('x'), client, country).replace(/\/x$/, '');

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
    for (const ip of clients.slice(0, 50))
      expect(chooseBaseUrl(set, 'debian/base', ip)).toBe(chooseBaseUrl(set, 'debian/base', ip));
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
    for (const ip of clients.slice(0, 200))
      expect(chooseBaseUrl(set, 'debian/base', ip, 'DE')).toBe('https://b.example.net/c');
  });

  it('falls back to the master when no mirror carries the repository', () => {
    const none: MirrorSet = { master: set.master, mirrors: [set.mirrors[2]!] };
    expect(chooseBaseUrl(none, 'debian/base', '10.0.0.1')).toBe(set.master);
    expect(chooseBaseUrl({ master: set.master, mirrors: [] }, 'x', '10.0.0.1')).toBe(set.master);
  });
});

describe('urls for urls mode', () => {
  it('lists the best mirrors for the blob, then the master, the same for every client', () => {
    const urls = blobUrlsFor(set, 'fedora/toolbox', 'sha256:aa', at('fedora/toolbox/_blobs/sha256/aa'), 2);
    expect(urls).toHaveLength(3);
    expect(urls.at(-1)).toBe('https://master.example.org/containers/fedora/toolbox/_blobs/sha256/aa');
    expect(blobUrlsFor(set, 'fedora/toolbox', 'sha256:aa', at('fedora/toolbox/_blobs/sha256/aa'), 2)).toEqual(urls);
  });

  it('spreads the blobs of an image over the mirrors', () => {
    const firsts = new Set(
      Array.from({ length: 200 }, (_, i) =>
        blobUrlsFor(set, 'debian/base', `sha256:${i}`, at(`p${i}`), 1)[0]!.replace(/\/p\d+$/, ''),
      ),
    );
    expect(firsts).toEqual(new Set(['https://a.example.net/c', 'https://b.example.net/c']));
  });
});

describe('modules', () => {
  const arch: BlobLocation = {
    path: 'amd64/r/_blobs/sha256/aa',
    modules: { 'containers-amd64': 'amd64/r/_blobs/sha256/aa', 'containers-arm64': 'arm64/r/_blobs/sha256/aa' },
  };
  const armOnly: BlobLocation = {
    path: 'arm64/r/_blobs/sha256/bb',
    modules: { 'containers-arm64': 'arm64/r/_blobs/sha256/bb' },
  };
  const modular: MirrorSet = {
    master: 'https://master.example.org',
    mirrors: [
      { url: 'https://arm.example.net', weight: 1, repositories: ['**'], modules: ['containers-arm64'] },
      { url: 'https://x86.example.net', weight: 1000, repositories: ['**'], modules: ['containers-amd64'] },
    ],
  };

  it('sends a client only to mirrors carrying one of the blob modules, at that module path', () => {
    for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3'])
      expect(chooseBlobUrl(modular, 'r', armOnly, ip)).toBe('https://arm.example.net/arm64/r/_blobs/sha256/bb');
    // The amd64 mirror weighs 1000x: it wins the shared blob, at its own module's path.
    expect(chooseBlobUrl(modular, 'r', arch, '10.0.0.1')).toBe('https://x86.example.net/amd64/r/_blobs/sha256/aa');
    expect(blobUrlsFor(modular, 'r', 'sha256:bb', armOnly, 3)).toEqual([
      'https://arm.example.net/arm64/r/_blobs/sha256/bb',
      'https://master.example.org/arm64/r/_blobs/sha256/bb',
    ]);
  });

  it('falls back to the master when no mirror carries the module', () => {
    const x86: MirrorSet = { ...modular, mirrors: [modular.mirrors[1]!] };
    expect(chooseBlobUrl(x86, 'r', armOnly, '10.0.0.1')).toBe('https://master.example.org/arm64/r/_blobs/sha256/bb');
  });
});
