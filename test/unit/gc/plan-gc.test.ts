import { describe, expect, it } from 'vitest';
import { planGc, type GcFacts } from '../../../src/gc/plan-gc.js';
import type { Digest } from '../../../src/oci/digest.js';
import { objectDigest, treeBlobDigest } from '../../../src/store/paths.js';

const d = (c: string) => `sha256:${c.repeat(64)}` as Digest;
const link = (c: string, repo = 'r') => `${repo}/_blobs/sha256/${c.repeat(64)}`;
const NOW = new Date('2026-01-10T00:00:00Z');
const DAY = 86_400_000;

function facts(overrides: Partial<GcFacts> = {}): GcFacts {
  return {
    now: NOW,
    graceDays: 7,
    referencedPaths: new Set([link('a')]),
    referencedDigests: new Set([d('a')]),
    currentDigests: new Set([d('a')]),
    referencedManifests: new Set(['manifests/kept']),
    treeLinks: new Map([
      [link('a'), { digest: d('a') }],
      [link('b'), { digest: d('b'), ino: 2 }],
      [link('c'), { digest: d('c'), ino: 3 }],
    ]),
    pending: { [link('b')]: '2026-01-01T00:00:00Z' },
    objects: [
      { path: '/o/a', size: 10, mtimeMs: 0, digest: d('a'), links: 2, ino: 1 },
      { path: '/o/b', size: 20, mtimeMs: 0, digest: d('b'), links: 2, ino: 2 },
      { path: '/o/c', size: 30, mtimeMs: 0, digest: d('c'), links: 2, ino: 3 },
      { path: '/o/stray', size: 5, mtimeMs: 0, digest: undefined, links: 1, ino: 4 },
    ],
    manifests: [
      { path: '/m/kept', relative: 'manifests/kept', size: 1, mtimeMs: 0 },
      { path: '/m/old', relative: 'manifests/old', size: 2, mtimeMs: 0 },
    ],
    referencedRepositoryFiles: new Set(['repositories/shared.json']),
    repositoryFiles: [
      { path: '/r/shared.json', relative: 'repositories/shared.json', size: 3, mtimeMs: 0 },
      { path: '/r/old.json', relative: 'repositories/old.json', size: 4, mtimeMs: 0 },
    ],
    temps: [
      { path: '/t/fresh', size: 1, mtimeMs: NOW.getTime() - 60_000 },
      { path: '/t/stale', size: 1, mtimeMs: NOW.getTime() - 2 * 3_600_000 },
    ],
    partials: [
      { path: '/p/new', size: 100, mtimeMs: NOW.getTime() - DAY },
      { path: '/p/old', size: 200, mtimeMs: NOW.getTime() - 8 * DAY },
    ],
    staging: [],
    generations: ['0000000001', '0000000002', '0000000003'],
    keepGenerations: 2,
    ...overrides,
  };
}

describe('planGc', () => {
  it('removes each thing past its grace with why, and keeps everything a kept generation references', () => {
    const plan = planGc(facts());
    expect(plan.links).toEqual([{ path: link('b'), why: 'unreferenced since 2026-01-01T00:00:00Z (grace 7 days)' }]);
    expect(plan.pending).toEqual({ [link('c')]: NOW.toISOString() });
    // b's only tree link goes with it; c is still linked (pending); a is referenced.
    expect(plan.objects.map((o) => [o.path, o.why])).toEqual([
      ['/o/b', 'no kept generation references it; linked nowhere in the tree'],
      ['/o/stray', 'not an object name'],
    ]);
    expect(plan.manifests.map((m) => m.path)).toEqual(['/m/old']);
    // A repository file kept generations share stays; one only older generations named goes.
    expect(plan.repositoryFiles.map((r) => [r.path, r.why])).toEqual([['/r/old.json', 'no kept generation names it']]);
    expect(plan.temps.map((t) => t.path)).toEqual(['/t/stale']);
    expect(plan.partials.map((p) => p.path)).toEqual(['/p/old']);
    expect(plan.generations).toEqual([{ id: '0000000001', why: 'older than the newest 2 (metadata.keepGenerations)' }]);
    expect(plan.retained).toEqual({
      keepGenerations: 2,
      generations: ['0000000002', '0000000003'],
      olderOnly: { blobs: 0, bytes: 0 },
    });
  });

  it('says what keepGenerations keeps: the generations, and the blobs only an older kept one references', () => {
    const plan = planGc(
      facts({
        referencedDigests: new Set([d('a'), d('b')]),
        referencedPaths: new Set([link('a'), link('b')]),
        generations: ['0000000001', '0000000002'],
        keepGenerations: 5,
      }),
    );
    expect(plan.generations).toEqual([]);
    expect(plan.objects.map((o) => o.path)).toEqual(['/o/stray']);
    expect(plan.retained).toEqual({
      keepGenerations: 5,
      generations: ['0000000001', '0000000002'],
      olderOnly: { blobs: 1, bytes: 20 },
    });
  });

  it('removes the staging directories of publishes that never switched', () => {
    const staging = { path: '/meta/generations/.staging-0000000004-77', size: 300, mtimeMs: 0 };
    expect(planGc(facts({ staging: [staging] })).staging).toEqual([
      { ...staging, why: 'a generation a killed or failed publish never switched to' },
    ]);
  });

  it('a removed copy (another inode) does not free the object a pending hardlink still holds', () => {
    const plan = planGc(
      facts({
        treeLinks: new Map([
          [link('b'), { digest: d('b'), ino: 99 }],
          [link('b', 's'), { digest: d('b'), ino: 2 }],
        ]),
        pending: { [link('b')]: '2026-01-01T00:00:00Z' },
      }),
    );
    expect(plan.links.map((l) => l.path)).toEqual([link('b')]);
    expect(plan.objects.map((o) => o.path)).not.toContain('/o/b');
  });
});

describe('store paths', () => {
  it('reads the digest of tree links and objects, and nothing else', () => {
    expect(treeBlobDigest(link('a'))).toBe(d('a'));
    expect(treeBlobDigest(`x86_64/${link('a')}`)).toBe(d('a'));
    expect(treeBlobDigest('r/_blobs/sha256/short')).toBeUndefined();
    expect(treeBlobDigest('fullfiletimelist-containers')).toBeUndefined();
    expect(objectDigest(`sha256/aa/${'a'.repeat(64)}`)).toBe(d('a'));
    expect(objectDigest(`sha256/ab/${'a'.repeat(64)}`)).toBeUndefined();
    expect(objectDigest(`sha256/aa/${'a'.repeat(64)}.tmp-1`)).toBeUndefined();
  });
});
