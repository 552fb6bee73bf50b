import { describe, expect, it } from 'vitest';
import type { Digest } from '../../../src/oci/digest.js';
import { MediaType } from '../../../src/oci/media-types.js';
import type { ManifestEntry } from '../../../src/publish/metadata-types.js';
import { updateHistory } from '../../../src/sync/history.js';
import { blobArchitectures, blobPaths, indexModules, moduleOf, sameLayout } from '../../../src/sync/modules.js';

const d = (c: string) => `sha256:${c.repeat(64)}` as Digest;
const image = (blobs: Digest[], platform?: ManifestEntry['platform']): ManifestEntry => ({
  mediaType: MediaType.ociManifest,
  size: 1,
  path: 'm',
  manifests: [],
  blobs,
  ...(platform ? { platform } : {}),
});
const index = (children: Digest[]): ManifestEntry => ({
  mediaType: MediaType.ociIndex,
  size: 1,
  path: 'm',
  manifests: children,
  blobs: [],
});
const single = { name: 'containers', perArchitecture: false };
const perArch = { name: 'containers', perArchitecture: true };

describe('modules', () => {
  it('one module rooted at the tree by default; one per architecture when asked', () => {
    expect(moduleOf(single, 'arm64')).toEqual({ name: 'containers', root: '' });
    expect(moduleOf(perArch, 'arm64')).toEqual({ name: 'containers-arm64', root: 'arm64' });
    expect(moduleOf(perArch, '../etc')).toEqual({ name: 'containers-unknown', root: 'unknown' });
    expect(moduleOf(perArch, undefined)).toEqual({ name: 'containers-unknown', root: 'unknown' });
  });

  it('a blob shared by two architectures gets a path in each module, sorted, first one as path', () => {
    const paths = blobPaths(perArch, 'stable/base', d('a'), new Set(['arm64', 'amd64']));
    expect(paths.modules).toEqual({
      'containers-amd64': `amd64/stable/base/_blobs/sha256/${'a'.repeat(64)}`,
      'containers-arm64': `arm64/stable/base/_blobs/sha256/${'a'.repeat(64)}`,
    });
    expect(paths.path).toBe(paths.modules['containers-amd64']);
    expect(blobPaths(single, 'stable/base', d('a'), new Set(['arm64'])).modules).toEqual({
      containers: `stable/base/_blobs/sha256/${'a'.repeat(64)}`,
    });
  });

  it('architectures: images by platform, shared layers in both, attestations with every image of their index', () => {
    const manifests = new Map<Digest, ManifestEntry>([
      [d('9'), index([d('a'), d('b'), d('c')])],
      [d('a'), image([d('1'), d('2')], { os: 'linux', architecture: 'amd64' })],
      [d('b'), image([d('1'), d('3')], { os: 'linux', architecture: 'arm64', variant: 'v8' })],
      [d('c'), image([d('4')], { os: 'unknown', architecture: 'unknown' })],
    ]);
    const result = blobArchitectures(manifests, d('9'));
    expect([...result.get(d('1'))!].sort()).toEqual(['amd64', 'arm64']);
    expect([...result.get(d('2'))!]).toEqual(['amd64']);
    expect([...result.get(d('3'))!]).toEqual(['arm64']);
    expect([...result.get(d('4'))!].sort()).toEqual(['amd64', 'arm64']);
  });

  it('index.json modules and layout changes', () => {
    expect(indexModules(single, [])).toEqual({ containers: { root: '' } });
    expect(indexModules(perArch, [{ 'containers-arm64': 'arm64/x' }, { 'containers-amd64': 'amd64/x' }])).toEqual({
      'containers-amd64': { root: 'amd64' },
      'containers-arm64': { root: 'arm64' },
    });
    const base = {
      formatVersion: 1 as const,
      generation: '0000000001',
      createdAt: '',
      generator: '',
      source: '',
      blobPathTemplate: '',
      repositories: {},
    };
    expect(sameLayout({ ...base, modules: { containers: { root: '' } } }, single)).toBe(true);
    expect(sameLayout({ ...base, modules: { containers: { root: '' } } }, perArch)).toBe(false);
    expect(sameLayout({ ...base, modules: { 'containers-amd64': { root: 'amd64' } } }, single)).toBe(false);
    expect(sameLayout({ ...base, modules: { other: { root: '' } } }, single)).toBe(false);
  });
});

describe('updateHistory', () => {
  const t0 = '2026-01-01T00:00:00.000Z';
  const t1 = '2026-02-01T00:00:00.000Z';
  const t2 = '2026-06-01T00:00:00.000Z';

  it('records a tag when it appears and when it moves, not when it stays', () => {
    let history = updateHistory(undefined, new Map([['latest', d('a')]]), t0, 90);
    history = updateHistory(history, new Map([['latest', d('a')]]), t1, 90);
    expect(history).toEqual({ latest: [{ digest: d('a'), since: t0 }] });
    history = updateHistory(history, new Map([['latest', d('b')]]), t1, 90);
    expect(history.latest).toEqual([
      { digest: d('a'), since: t0 },
      { digest: d('b'), since: t1 },
    ]);
  });

  it('a tag that leaves the selection gets a null entry, once', () => {
    let history = updateHistory(undefined, new Map([['1.0', d('a')]]), t0, 90);
    history = updateHistory(history, new Map(), t1, 90);
    history = updateHistory(history, new Map(), t1, 90);
    expect(history['1.0']).toEqual([
      { digest: d('a'), since: t0 },
      { digest: null, since: t1 },
    ]);
  });

  it('drops entries older than the window but keeps the one in effect at its start', () => {
    let history = updateHistory(undefined, new Map([['latest', d('a')]]), t0, 90);
    history = updateHistory(history, new Map([['latest', d('b')]]), t1, 90);
    history = updateHistory(
      history,
      new Map([
        ['latest', d('c')],
        ['old', d('a')],
      ]),
      t2,
      90,
    );
    // t0 and t1 are both older than 90 days before t2; b was in effect at the cutoff.
    expect(history.latest).toEqual([
      { digest: d('b'), since: t1 },
      { digest: d('c'), since: t2 },
    ]);
    const gone = updateHistory(updateHistory(undefined, new Map([['x', d('a')]]), t0, 10), new Map(), t1, 10);
    expect(updateHistory(gone, new Map(), t2, 10)).toEqual({});
  });
});
