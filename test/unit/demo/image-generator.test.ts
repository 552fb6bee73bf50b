import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  demoSpec,
  generateImages,
  type GeneratedImages,
  type ImageSetSpec,
} from '../../../src/demo/image-generator.js';
import { fixtureSpec } from '../../helpers/fixture-spec.js';
import { UsageError } from '../../../src/errors.js';
import type { Digest } from '../../../src/oci/digest.js';
import { isImage, isIndex, parseManifest, type ImageManifest } from '../../../src/oci/manifest.js';
import { MediaType } from '../../../src/oci/media-types.js';
import { layoutBlobPath } from '../../../src/oci-layout/layout-format.js';

const KiB = 1024;
const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'blobmirror-gen-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function readManifest(dir: string, digest: Digest) {
  return parseManifest(await readFile(layoutBlobPath(dir, digest)), undefined, digest);
}

/** The image manifests a tag reaches (the tag's own, or an index's children). */
async function images(dir: string, digest: Digest): Promise<ImageManifest[]> {
  const manifest = await readManifest(dir, digest);
  if (isImage(manifest)) return [manifest];
  if (!isIndex(manifest)) throw new Error(`unexpected ${manifest.kind}`);
  return (await Promise.all(manifest.manifests.map((child) => images(dir, child.digest)))).flat();
}

describe('generateImages with the demo spec', () => {
  let dir: string;
  let result: GeneratedImages;
  beforeAll(async () => {
    dir = join(root, 'demo');
    result = await generateImages(demoSpec(), dir);
  });

  it('writes tags, aliases and a summary that matches the blobs on disk', async () => {
    expect(Object.keys(result.repositories)).toEqual(['stable/base', 'stable/toolbox', 'stable/httpd']);
    const base = result.repositories['stable/base']!;
    expect(base.tags.latest).toBe(base.tags['39']);
    expect(base.tags.stable).toBe(base.tags['39']);
    expect(base.tags['38']).not.toBe(base.tags['39']);
    let bytes = 0;
    for (const digest of result.blobs) {
      const blob = await readFile(layoutBlobPath(dir, digest));
      expect(sha256(blob)).toBe(digest);
      bytes += blob.length;
    }
    expect(bytes).toBe(result.blobBytes);
    expect(result.blobBytes).toBeGreaterThan(5_000_000);
    expect(result.blobBytes).toBeLessThan(15_000_000);
  });

  it('writes real gzipped tars whose diff_ids match, and configs with platform and history', async () => {
    const [amd64, arm64] = await images(dir, result.repositories['stable/base']!.tags['39']!);
    for (const image of [amd64!, arm64!]) {
      const config = JSON.parse((await readFile(layoutBlobPath(dir, image.config.digest))).toString());
      expect(config.os).toBe('linux');
      expect(config.history).toHaveLength(image.layers.length);
      for (const [i, layer] of image.layers.entries()) {
        const path = layoutBlobPath(dir, layer.digest);
        const listing = execFileSync('tar', ['-tzf', path], { encoding: 'utf8' });
        expect(listing).toMatch(/^opt\/blobmirror\/[^/]+\/\nopt\/blobmirror\/[^/]+\/data-0\.bin\n$/);
        expect(sha256(gunzipSync(await readFile(path)))).toBe(config.rootfs.diff_ids[i]);
      }
    }
    const [amd64Config, arm64Config] = await Promise.all(
      [amd64!, arm64!].map(async (m) => JSON.parse((await readFile(layoutBlobPath(dir, m.config.digest))).toString())),
    );
    expect([amd64Config.architecture, amd64Config.variant]).toEqual(['amd64', undefined]);
    expect([arm64Config.architecture, arm64Config.variant]).toEqual(['arm64', 'v8']);
    // base differs per platform, ca-certificates is one blob for both.
    expect(amd64!.layers[0]!.digest).not.toBe(arm64!.layers[0]!.digest);
    expect(amd64!.layers[1]!.digest).toBe(arm64!.layers[1]!.digest);
  });

  it('uses Docker media types for a docker-format repository', async () => {
    const list = await readManifest(dir, result.repositories['stable/httpd']!.tags['2.4']!);
    expect(list.mediaType).toBe(MediaType.dockerList);
    const isIndexList = isIndex(list) ? list.manifests : [];
    expect(isIndexList.map((d) => d.platform)).toEqual([
      { architecture: 'amd64', os: 'linux' },
      { architecture: 'arm64', os: 'linux', variant: 'v8' },
    ]);
    const [image] = await images(dir, isIndexList[0]!.digest);
    expect(image!.mediaType).toBe(MediaType.dockerManifest);
    expect(image!.config.mediaType).toBe(MediaType.dockerConfig);
    expect(image!.layers.every((l) => l.mediaType === MediaType.dockerLayerGzip)).toBe(true);
  });

  it('shares the base layers across repositories', async () => {
    const stacks = await Promise.all(
      [
        result.repositories['stable/base']!.tags['38']!,
        result.repositories['stable/toolbox']!.tags.latest!,
        result.repositories['stable/httpd']!.tags['2.2']!,
      ].map(async (digest) => (await images(dir, digest))[0]!.layers.map((l) => l.digest)),
    );
    expect(new Set(stacks.map((s) => s.slice(0, 2).join()))).toHaveProperty('size', 1);
    expect(stacks[1]![2]).toBe(stacks[2]![2]);
    expect(stacks[1]![3]).not.toBe(stacks[2]![3]);
  });
});

describe('generateImages determinism and scaling', () => {
  const small = (seed?: string): ImageSetSpec =>
    fixtureSpec({
      seed,
      repos: 5,
      candidateRepos: 1,
      tagsPerRepo: 2,
      baseBytes: 96 * KiB,
      repoBytes: 8 * KiB,
      tagBytes: KiB,
      multiPlatform: true,
    });

  it('gives the same digests and index.json for the same spec and seed, others for another seed', async () => {
    const [a, b, c] = await Promise.all([
      generateImages(small(), join(root, 'a'), { concurrency: 1 }),
      generateImages(small(), join(root, 'b')),
      generateImages(small('other'), join(root, 'c')),
    ]);
    expect(b.repositories).toEqual(a.repositories);
    expect(b.blobs).toEqual(a.blobs);
    const index = (dir: string) => readFile(join(dir, 'index.json'), 'utf8');
    expect(await index(b.dir)).toBe(await index(a.dir));
    expect(c.blobs.filter((d) => a.blobs.includes(d))).toEqual([]);
    expect(Object.keys(a.repositories)).toContain('candidate/app-1');
    // 6 repos share base and tools (2 platforms each); every repo adds its own layers.
    const all = Object.values(a.repositories).map((r) => new Set(r.blobs));
    const common = a.blobs.filter((d) => all.every((set) => set.has(d)));
    expect(common).toHaveLength(4);
  });

  it('rejects a spec naming an unknown layer or a bad tag', async () => {
    const unknown = { ...small(), repositories: [{ name: 'x/y', layers: ['nope'], tags: [{ tag: '1' }] }] };
    await expect(generateImages(unknown, join(root, 'bad'))).rejects.toThrow(UsageError);
    const badTag = { ...small(), repositories: [{ name: 'x/y', tags: [{ tag: '-bad' }] }] };
    await expect(generateImages(badTag, join(root, 'bad'))).rejects.toThrow(/invalid tag "-bad"/);
  });
});
