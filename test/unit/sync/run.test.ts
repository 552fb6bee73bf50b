// The sync pipeline against an in-memory source: what it lists, selects, resolves and plans, and
// what a user finds in the tree and the published generation afterwards. No registry involved.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/load.js';
import { type GeneratedImages } from '../../../src/demo/image-generator.js';
import { fixtureSpec } from '../../helpers/fixture-spec.js';
import { NotFoundError, RegistryError } from '../../../src/errors.js';
import type { Digest } from '../../../src/oci/digest.js';
import { readCurrentGeneration } from '../../../src/publish/generations.js';
import { resolveRepository } from '../../../src/sync/resolve-repository.js';
import { ManifestCache } from '../../../src/sync/resolve.js';
import { runSync } from '../../../src/sync/run.js';
import { fakeSourceConfig } from '../../helpers/fake-config.js';
import { FakeSource } from '../../helpers/fake-source.js';

const KiB = 1024;
const SPEC = fixtureSpec({
  seed: 'fake-source-sync',
  repos: 2,
  candidateRepos: 1,
  tagsPerRepo: 2,
  baseBytes: 32 * KiB,
  repoBytes: 8 * KiB,
  tagBytes: 2 * KiB,
  multiPlatform: true,
});
const STABLE = ['stable/app-1', 'stable/app-2'];

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'blobmirror-fake-sync-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const configFor = (name: string, extra?: Record<string, unknown>) => fakeSourceConfig(work, name, extra);

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const uniqueBlobs = (images: GeneratedImages, repositories: string[]) =>
  new Set(repositories.flatMap((r) => images.repositories[r]!.blobs));

describe('FakeSource', () => {
  let source: FakeSource;
  let images: GeneratedImages;
  beforeAll(async () => {
    ({ source, images } = await FakeSource.fromSpec(SPEC));
  });

  it('lists the generated repositories and tags and answers HEAD with the generated digests', async () => {
    expect(await source.listRepositories()).toEqual(['candidate/app-1', ...STABLE]);
    expect(await source.listTags('stable/app-1')).toEqual(['1.0', '1.1', 'latest']);
    const head = await source.headManifest('stable/app-1', 'latest');
    expect(head.digest).toBe(images.repositories['stable/app-1']!.tags.latest);
    expect(head.mediaType).toBe('application/vnd.oci.image.index.v1+json');
  });

  it('serves manifests whose bytes hash to their digest, and blobs from an offset', async () => {
    const digest = images.repositories['stable/app-2']!.tags['1.0']!;
    const fetched = await source.getManifest('stable/app-2', '1.0');
    expect(fetched.digest).toBe(digest);
    expect(sha256(fetched.bytes)).toBe(digest);
    const blob = images.repositories['stable/app-2']!.blobs[0]!;
    const whole = await buffer((await source.openBlob('stable/app-2', blob, 0)).stream);
    expect(sha256(whole)).toBe(blob);
    const tail = await source.openBlob('stable/app-2', blob, 10);
    expect(tail.start).toBe(10);
    expect(await buffer(tail.stream)).toEqual(whole.subarray(10));
  });

  it('answers 404 as the registry backends do for an unknown repository, tag or blob', async () => {
    const notFound = { constructor: NotFoundError, code: 'NOT_FOUND', status: 404 };
    await expect(source.listTags('stable/nothing')).rejects.toMatchObject(notFound);
    await expect(source.headManifest('stable/app-1', '9.9')).rejects.toMatchObject(notFound);
    await expect(source.openBlob('stable/app-1', `sha256:${'0'.repeat(64)}` as Digest, 0)).rejects.toMatchObject(
      notFound,
    );
  });
});

describe('resolveRepository with a fake source', () => {
  it('selects tags by the config, plans every tag as new on a first run and resolves every blob', async () => {
    const { source, images } = await FakeSource.fromSpec(SPEC);
    const config = await configFor('resolve', { tags: { exclude: ['^latest$'] } });
    const resolution = await resolveRepository(config, source, new ManifestCache(), 'stable/app-1', undefined);
    expect(resolution.failures).toEqual([]);
    expect(resolution.plan).toEqual({ added: ['1.0', '1.1'], changed: [], unchanged: [], removed: [] });
    const resolved = [...resolution.tags.values()].flatMap((t) =>
      t.kind === 'new' ? [...t.resolved.blobs.keys()] : [],
    );
    expect(new Set(resolved)).toEqual(new Set(images.repositories['stable/app-1']!.blobs));
    // `latest` was excluded before any HEAD: nothing asked about it.
    expect(source.calls.filter((c) => 'reference' in c && c.reference === 'latest')).toEqual([]);
  });
});

describe('runSync with a fake source', () => {
  let source: FakeSource;
  let images: GeneratedImages;
  let config: Config;
  beforeAll(async () => {
    ({ source, images } = await FakeSource.fromSpec(SPEC));
    config = await configFor('run');
  });

  it('dry run plans every selected blob and writes nothing', async () => {
    const summary = await runSync(config, source, {}, { dryRun: true });
    expect(summary.plan.map((p) => p.name)).toEqual(STABLE);
    expect(summary.blobs.toFetch).toBe(uniqueBlobs(images, STABLE).size);
    expect(source.stats.blobGets).toBe(0);
    await expect(stat(path.dirname(config.storage.tree))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a first run fetches each blob once and links it into the tree of every repository that has it', async () => {
    source.calls.length = 0;
    const summary = await runSync(config, source);
    expect(summary.result).toBe('ok');
    expect(summary.published).toBe(true);
    const needed = uniqueBlobs(images, STABLE);
    const opened = source.calls.filter((c) => c.method === 'openBlob').map((c) => c.digest);
    expect(opened.sort()).toEqual([...needed].sort());
    for (const repository of STABLE) {
      for (const digest of images.repositories[repository]!.blobs) {
        const file = path.join(config.storage.tree, repository, '_blobs', 'sha256', digest.slice(7));
        expect(sha256(await readFile(file)), file).toBe(digest);
      }
    }
    const generation = await readCurrentGeneration(config.storage.metadata);
    expect([...generation!.repositories.keys()]).toEqual(STABLE);
  });

  it('a second run with nothing changed asks for no manifest or blob and publishes nothing', async () => {
    const before = { ...source.stats };
    const summary = await runSync(config, source);
    expect(summary.result).toBe('ok');
    expect(summary.published).toBe(false);
    expect(summary.tags).toMatchObject({ added: 0, changed: 0, removed: 0, unchanged: 6 });
    expect(source.stats.manifestGets - before.manifestGets).toBe(0);
    expect(source.stats.blobGets - before.blobGets).toBe(0);
  });

  it('plans a moved tag as changed and a deleted tag as removed', async () => {
    source.setTag('stable/app-1', 'latest', images.repositories['stable/app-1']!.tags['1.0']!);
    source.deleteTag('stable/app-2', '1.1');
    const summary = await runSync(config, source);
    expect(summary.result).toBe('ok');
    expect(summary.plan).toEqual([
      { name: 'stable/app-1', added: [], changed: ['latest'], removed: [], unchanged: 2, failed: [], failures: 0 },
      { name: 'stable/app-2', added: [], changed: [], removed: ['1.1'], unchanged: 2, failed: [], failures: 0 },
    ]);
    const generation = await readCurrentGeneration(config.storage.metadata);
    expect(generation!.repositories.get('stable/app-1')!.tags.latest!.digest).toBe(
      images.repositories['stable/app-1']!.tags['1.0'],
    );
    expect(Object.keys(generation!.repositories.get('stable/app-2')!.tags).sort()).toEqual(['1.0', 'latest']);
  });

  it('a tag whose HEAD fails is reported and keeps what was published for it', async () => {
    const published = images.repositories['stable/app-2']!.tags['1.0'];
    source.setTag('stable/app-2', '1.0', images.repositories['stable/app-1']!.tags['1.0']!);
    source.intercept = (call) => {
      if (call.method === 'headManifest' && call.repository === 'stable/app-2' && call.reference === '1.0')
        throw new RegistryError('HEAD stable/app-2:1.0 answered 503', { status: 503 });
    };
    try {
      const summary = await runSync(config, source);
      expect(summary.result).toBe('partial');
      expect(summary.failures).toEqual([
        expect.objectContaining({ repository: 'stable/app-2', tag: '1.0', code: 'REGISTRY_ERROR' }),
      ]);
      const generation = await readCurrentGeneration(config.storage.metadata);
      expect(generation!.repositories.get('stable/app-2')!.tags['1.0']!.digest).toBe(published);
    } finally {
      source.intercept = undefined;
    }
  });
});

describe('runSync: a new tag whose blob fails', () => {
  it('is counted as failed, not new, and its FAILED rows name the repository and tag', async () => {
    const { source, images } = await FakeSource.fromSpec(SPEC);
    const config = await configFor('failed-blob');
    // A blob only app-2's 1.1 has: that tag fails, app-2's other tags and app-1 publish.
    const only = images.repositories['stable/app-2']!.blobs.find(
      (blob) => !images.repositories['stable/app-1']!.blobs.includes(blob),
    )!;
    source.intercept = (call) => {
      if (call.method === 'openBlob' && call.digest === only) throw new NotFoundError(`blob ${only} is gone`);
    };
    const summary = await runSync(config, source);
    const failedTags = summary.failures.map((f) => [f.repository, f.tag, f.digest]);
    expect(failedTags.length).toBeGreaterThan(0);
    expect(
      failedTags.every(([repository, tag, digest]) => repository === 'stable/app-2' && tag && digest === only),
    ).toBe(true);
    const failed = new Set(failedTags.map(([, tag]) => tag));
    const app2 = summary.plan.find((p) => p.name === 'stable/app-2')!;
    expect(new Set(app2.failed)).toEqual(failed);
    expect(app2.added.filter((tag) => failed.has(tag))).toEqual([]);
    expect(summary.tags).toMatchObject({ failed: failed.size, added: summary.tags.total - failed.size });
  });
});
