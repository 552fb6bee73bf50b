// One repository's tags against an in-memory source: empty repositories, a failing tags list, a
// repository over tags.maxPerRepository, and 5,000 tags naming one manifest.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GeneratedImages } from '../../../src/demo/image-generator.js';
import { fixtureSpec } from '../../helpers/fixture-spec.js';
import { NotFoundError, RegistryError } from '../../../src/errors.js';
import { TAG_CONCURRENCY, resolveRepository } from '../../../src/sync/resolve-repository.js';
import { ManifestCache } from '../../../src/sync/resolve.js';
import { runSync } from '../../../src/sync/run.js';
import { readCurrentGeneration } from '../../../src/publish/generations.js';
import { fakeSourceConfig } from '../../helpers/fake-config.js';
import { FakeSource } from '../../helpers/fake-source.js';
import type { ManifestHead } from '../../../src/source/source.js';

const KiB = 1024;
const SPEC = fixtureSpec({
  seed: 'resolve-repository',
  repos: 1,
  tagsPerRepo: 2,
  baseBytes: 8 * KiB,
  repoBytes: KiB,
  tagBytes: KiB,
});

/** Counts HEADs in flight (each waits a turn of the event loop, as a request would). */
class CountingSource extends FakeSource {
  inFlight = 0;
  peak = 0;
  override async headManifest(repository: string, tag: string): Promise<ManifestHead> {
    this.peak = Math.max(this.peak, ++this.inFlight);
    try {
      await new Promise((resolve) => setImmediate(resolve));
      return await super.headManifest(repository, tag);
    } finally {
      this.inFlight--;
    }
  }
}

let work: string;
let source: FakeSource;
let images: GeneratedImages;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'blobmirror-resolve-repository-'));
  ({ source, images } = await FakeSource.fromSpec(SPEC));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const resolve = async (src: FakeSource, name: string, tags?: Record<string, unknown>) =>
  resolveRepository(await fakeSourceConfig(work, 'r', tags ? { tags } : {}), src, new ManifestCache(), name, undefined);

describe('resolveRepository', () => {
  it('no tags at all ([] or a 404 on the tags list) is an empty repository, not a failure', async () => {
    source.tags.set('stable/empty', new Map());
    const empty = await resolve(source, 'stable/empty');
    expect(empty).toMatchObject({ empty: true, carried: undefined, failures: [] });
    source.intercept = (call) => {
      if (call.method === 'listTags')
        throw new NotFoundError('tags of stable/gone: repository name not known', { status: 404 });
    };
    try {
      expect(await resolve(source, 'stable/gone')).toMatchObject({ empty: true, failures: [] });
    } finally {
      source.intercept = undefined;
      source.tags.delete('stable/empty');
    }
  });

  it('a sync reports empty repositories by count and name and ends ok', async () => {
    const src = new FakeSource(new Map(source.tags), source.content);
    src.tags.set('stable/empty', new Map());
    src.tags.set('stable/gone', new Map());
    src.intercept = (call) => {
      if (call.method === 'listTags' && call.repository === 'stable/gone')
        throw new NotFoundError('tags of stable/gone: repository name not known', { status: 404 });
    };
    const summary = await runSync(await fakeSourceConfig(work, 'empty'), src);
    expect(summary).toMatchObject({
      result: 'ok',
      repositories: { selected: 3, synced: 3, failed: 0, empty: 2 },
      empty: ['stable/empty', 'stable/gone'],
      failureCount: 0,
    });
  });

  it('a tags list that fails otherwise carries the repository: one failure, nothing listed', async () => {
    source.intercept = (call) => {
      if (call.method === 'listTags') throw new RegistryError('tags of stable/app-1: HTTP 503', { status: 503 });
    };
    try {
      const r = await resolve(source, 'stable/app-1');
      expect(r).toMatchObject({ empty: false, carried: 'tag listing failed (REGISTRY_ERROR)' });
      expect(r.failures).toEqual([expect.objectContaining({ repository: 'stable/app-1', code: 'REGISTRY_ERROR' })]);
    } finally {
      source.intercept = undefined;
    }
  });

  it('more selected tags than tags.maxPerRepository: one TOO_LARGE naming the key, no HEAD', async () => {
    source.calls.length = 0;
    const r = await resolve(source, 'stable/app-1', { maxPerRepository: 2 });
    expect(r.carried).toBe('over tags.maxPerRepository (2)');
    // Refused by the listing itself (it stops counting there: no total).
    expect(r.failures).toEqual([
      {
        repository: 'stable/app-1',
        code: 'TOO_LARGE',
        message:
          'stable/app-1: more tags selected than tags.maxPerRepository (2); narrow tags.include/exclude/keepNewest or raise the limit (its published tags are kept)',
      },
    ]);
    expect(source.calls.filter((c) => c.method === 'headManifest')).toEqual([]);
    // The limit counts what the filters select, not what is listed.
    expect((await resolve(source, 'stable/app-1', { maxPerRepository: 2, exclude: ['^latest$'] })).failures).toEqual(
      [],
    );
    // keepNewest's versions are not counted while listing (only `latest` is sure): the selection is checked after.
    const kept = await resolve(source, 'stable/app-1', { maxPerRepository: 2, keepNewest: 2 });
    expect(kept.failures).toEqual([
      {
        repository: 'stable/app-1',
        code: 'TOO_LARGE',
        message:
          'stable/app-1: 3 tags selected, more than tags.maxPerRepository (2); narrow tags.include/exclude/keepNewest or raise the limit (its published tags are kept)',
      },
    ]);
    expect((await resolve(source, 'stable/app-1', { maxPerRepository: 2, keepNewest: 1 })).failures).toEqual([]);
  });

  it(`5,000 tags naming one manifest: at most ${TAG_CONCURRENCY} HEADs at once, one manifest GET, all published`, async () => {
    const many = new CountingSource(new Map(source.tags), source.content);
    const digest = images.repositories['stable/app-1']!.tags['1.0']!;
    for (let i = 0; i < 5000; i++) many.setTag('stable/many', `t${i}`, digest);
    const config = await fakeSourceConfig(work, 'many', { repositories: { include: ['stable/many'] } });
    const summary = await runSync(config, many);
    expect(summary).toMatchObject({ result: 'ok', tags: { added: 5000 } });
    expect(many.peak).toBeLessThanOrEqual(TAG_CONCURRENCY);
    expect(many.calls.filter((c) => c.method === 'getManifest')).toHaveLength(1);
    const published = (await readCurrentGeneration(config.storage.metadata))!.repositories.get('stable/many')!;
    expect(Object.keys(published.tags)).toHaveLength(5000);
    expect(new Set(Object.values(published.tags).map((t) => t.digest))).toEqual(new Set([digest]));
  });
});
