import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Digest } from '../../../src/oci/digest.js';
import { MediaType } from '../../../src/oci/media-types.js';
import {
  repositorySchema,
  type BlobEntry,
  type ManifestEntry,
  type RepositoryMetadata,
} from '../../../src/publish/metadata-types.js';
import { buildRepositoryMetadata, emptyClosure, planTags, previousClosure } from '../../../src/sync/tag-plan.js';

const d = (c: string) => `sha256:${c.repeat(64)}` as Digest;

const blob = (c: string, size = 10): BlobEntry => ({
  size,
  mediaType: MediaType.ociLayerGzip,
  path: `r/_blobs/sha256/${c.repeat(64)}`,
  modules: { containers: `r/_blobs/sha256/${c.repeat(64)}` },
});
const manifest = (mediaType: string, manifests: Digest[], blobs: Digest[]): ManifestEntry => ({
  mediaType,
  size: 100,
  path: 'manifests/x',
  manifests,
  blobs,
});

// An index (i) over two images (a, b) sharing layer 1; image b also has layer 2; a plain image (c).
function previous(): RepositoryMetadata {
  return {
    formatVersion: 1,
    name: 'r',
    syncedAt: '2024-01-01T00:00:00Z',
    tags: { multi: { digest: d('9') }, single: { digest: d('c') }, gone: { digest: d('c') } },
    manifests: {
      [d('9')]: manifest(MediaType.ociIndex, [d('a'), d('b')], []),
      [d('a')]: manifest(MediaType.ociManifest, [], [d('e'), d('1')]),
      [d('b')]: manifest(MediaType.ociManifest, [], [d('f'), d('1'), d('2')]),
      [d('c')]: manifest(MediaType.ociManifest, [], [d('e'), d('3')]),
    },
    blobs: { [d('e')]: blob('e'), [d('f')]: blob('f'), [d('1')]: blob('1'), [d('2')]: blob('2'), [d('3')]: blob('3') },
    history: {},
  };
}

describe('previousClosure', () => {
  it('collects every manifest and blob reachable from an index', () => {
    const closure = previousClosure(previous(), d('9'))!;
    expect([...closure.manifests.keys()].sort()).toEqual([d('9'), d('a'), d('b')].sort());
    expect([...closure.blobs.keys()].sort()).toEqual([d('1'), d('2'), d('e'), d('f')].sort());
    expect(closure.blobs.get(d('2'))).toEqual(blob('2'));
  });

  it('collects a single image', () => {
    const closure = previousClosure(previous(), d('c'))!;
    expect([...closure.manifests.keys()]).toEqual([d('c')]);
    expect([...closure.blobs.keys()].sort()).toEqual([d('3'), d('e')].sort());
  });

  it('is undefined when the root, a child manifest or a blob is missing', () => {
    expect(previousClosure(previous(), d('0'))).toBeUndefined();
    const noChild = previous();
    delete noChild.manifests[d('b')];
    expect(previousClosure(noChild, d('9'))).toBeUndefined();
    const noBlob = previous();
    delete noBlob.blobs[d('2')];
    expect(previousClosure(noBlob, d('9'))).toBeUndefined();
    expect(previousClosure(noBlob, d('c'))).toBeDefined();
  });

  it('terminates on a manifest cycle', () => {
    const cyclic = previous();
    cyclic.manifests[d('a')] = manifest(MediaType.ociIndex, [d('9')], []);
    expect([...previousClosure(cyclic, d('9'))!.manifests.keys()].sort()).toEqual([d('9'), d('a'), d('b')].sort());
  });

  it('adds to a closure it is given (several tags of one repository)', () => {
    const into = emptyClosure();
    previousClosure(previous(), d('9'), into);
    previousClosure(previous(), d('c'), into);
    expect(into.manifests.size).toBe(4);
    expect(into.blobs.size).toBe(5);
  });
});

describe('planTags', () => {
  it('puts every tag in the first generation in added', () => {
    expect(
      planTags(
        new Map([
          ['b', d('1')],
          ['a', d('2')],
        ]),
        undefined,
      ),
    ).toEqual({ added: ['a', 'b'], changed: [], unchanged: [], removed: [] });
  });

  it('sorts tags into added, changed, unchanged and removed', () => {
    const heads = new Map([
      ['single', d('c')],
      ['multi', d('8')],
      ['new', d('c')],
    ]);
    expect(planTags(heads, previous())).toEqual({
      added: ['new'],
      changed: ['multi'],
      unchanged: ['single'],
      removed: ['gone'],
    });
  });

  it('counts a tag whose previous closure is incomplete as changed, even at the same digest', () => {
    const broken = previous();
    delete broken.blobs[d('2')];
    const heads = new Map([
      ['multi', d('9')],
      ['single', d('c')],
    ]);
    expect(planTags(heads, broken)).toEqual({
      added: [],
      changed: ['multi'],
      unchanged: ['single'],
      removed: ['gone'],
    });
  });

  it('does not mistake Object.prototype names for previous tags', () => {
    const heads = new Map([
      ['constructor', d('c')],
      ['__proto__', d('c')],
      ['toString', d('c')],
    ]);
    expect(planTags(heads, previous())).toEqual({
      added: ['__proto__', 'constructor', 'toString'],
      changed: [],
      unchanged: [],
      removed: ['gone', 'multi', 'single'],
    });
  });

  it('property: every head is in exactly one of added/changed/unchanged; removed are exactly the previous tags not listed', () => {
    const tag: fc.Arbitrary<string> = fc.constantFrom('multi', 'single', 'gone', 'x', 'y', 'z');
    const digest = fc.constantFrom(d('9'), d('c'), d('a'), d('0'));
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(tag, digest), { selector: ([t]) => t }), (entries) => {
        const heads = new Map(entries);
        const plan = planTags(heads, previous());
        const listed = [...plan.added, ...plan.changed, ...plan.unchanged];
        expect([...listed].sort()).toEqual([...heads.keys()].sort());
        expect(plan.removed).toEqual(
          Object.keys(previous().tags)
            .filter((t) => !heads.has(t))
            .sort(),
        );
        for (const t of plan.unchanged) expect(previous().tags[t]?.digest).toBe(heads.get(t));
        for (const t of plan.added) expect(previous().tags[t]).toBeUndefined();
        for (const list of Object.values(plan)) expect(list).toEqual([...list].sort());
      }),
    );
  });
});

describe('buildRepositoryMetadata', () => {
  it('builds format version 1 with the tags, manifests and blobs given', () => {
    const closure = previousClosure(previous(), d('c'))!;
    const meta = buildRepositoryMetadata('r', '2024-02-02T00:00:00Z', new Map([['single', d('c')]]), closure);
    expect(meta).toEqual({
      formatVersion: 1,
      name: 'r',
      syncedAt: '2024-02-02T00:00:00Z',
      tags: { single: { digest: d('c') } },
      manifests: { [d('c')]: previous().manifests[d('c')] },
      blobs: { [d('3')]: blob('3'), [d('e')]: blob('e') },
      history: {},
    });
  });

  it('gives byte-identical JSON whatever order tags, manifests and blobs were added in', () => {
    const tags = [
      ['b', d('c')],
      ['a', d('9')],
      ['B', d('9')],
      ['10', d('c')],
      ['9', d('c')],
    ] as [string, Digest][];
    const closure = previousClosure(previous(), d('9'), previousClosure(previous(), d('c')))!;
    fc.assert(
      fc.property(
        fc.shuffledSubarray(tags, { minLength: tags.length }),
        fc.shuffledSubarray([...closure.manifests], { minLength: closure.manifests.size }),
        fc.shuffledSubarray([...closure.blobs], { minLength: closure.blobs.size }),
        (t, m, b) => {
          const one = buildRepositoryMetadata('r', 'now', new Map(tags), closure);
          const two = buildRepositoryMetadata('r', 'now', new Map(t), { manifests: new Map(m), blobs: new Map(b) });
          expect(JSON.stringify(two)).toBe(JSON.stringify(one));
        },
      ),
    );
    // Integer-like keys come first in any JS object (ascending), then the rest in sorted order.
    const json = JSON.stringify(buildRepositoryMetadata('r', 'now', new Map(tags), closure));
    expect(Object.keys(JSON.parse(json).tags)).toEqual(['9', '10', 'B', 'a', 'b']);
  });

  it('keeps a tag named __proto__ as data', () => {
    const meta = buildRepositoryMetadata('r', 'now', new Map([['__proto__', d('c')]]), emptyClosure());
    expect(Object.keys(meta.tags)).toEqual(['__proto__']);
    expect(JSON.parse(JSON.stringify(meta)).tags.__proto__).toEqual({ digest: d('c') });
  });

  it('reads a tag named __proto__ back from the metadata format, with its history', () => {
    const meta = buildRepositoryMetadata(
      'r',
      'now',
      new Map([
        ['__proto__', d('c')],
        ['constructor', d('c')],
      ]),
      emptyClosure(),
    );
    const text = JSON.stringify(meta).replace(
      '"history":{}',
      `"history":{"__proto__":[{"digest":"${d('c')}","since":"then"}]}`,
    );
    expect(text).toContain('"history":{"__proto__"');
    const read = repositorySchema.parse(JSON.parse(text));
    expect(Object.keys(read.tags)).toEqual(['__proto__', 'constructor']);
    expect(Object.keys(read.history)).toEqual(['__proto__']);
    expect(JSON.stringify(read)).toBe(text);
  });

  it('names an invalid tag key of the metadata format', () => {
    const written = JSON.parse(
      JSON.stringify(buildRepositoryMetadata('r', 'now', new Map([['ok', d('c')]]), emptyClosure())),
    );
    written.tags['bad tag'] = { digest: d('c') };
    const result = repositorySchema.safeParse(written);
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['tags.bad tag', 'invalid tag']]);
  });
});
