// Attached artifacts follow their images through a sync: cosign tags and OCI 1.1 referrers (here
// through the fallback tag, as on a registry without the referrers API), whatever the tag filters
// say, recursively, and late ones on a run where every tag is unchanged.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig, type Config } from '../../../src/config/load.js';
import { type GeneratedImages } from '../../../src/demo/image-generator.js';
import { fixtureSpec } from '../../helpers/fixture-spec.js';
import { cosignTag, fallbackTag } from '../../../src/oci/attachments.js';
import type { Digest } from '../../../src/oci/digest.js';
import { MediaType } from '../../../src/oci/media-types.js';
import { readCurrentGeneration } from '../../../src/publish/generations.js';
import { runSync } from '../../../src/sync/run.js';
import { cosignSignature, fallbackIndex, referrer, type Artifact } from '../../helpers/artifacts.js';
import { FakeSource } from '../../helpers/fake-source.js';

const KiB = 1024;
const REPO = 'stable/app-1';
const SPEC = fixtureSpec({
  seed: 'attachments',
  repos: 1,
  tagsPerRepo: 2,
  baseBytes: 16 * KiB,
  repoBytes: 4 * KiB,
  tagBytes: 1 * KiB,
});
const SBOM = 'application/spdx+json';
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'blobmirror-attachments-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Only `latest` by the tag filter: every attachment tag would be dropped by it. */
async function configFor(name: string, attachments: Record<string, unknown> = {}): Promise<Config> {
  const dir = await mkdtemp(path.join(work, `${name}-`));
  const body = {
    version: 1,
    source: { type: 'oci-layout', path: 'unused' },
    repositories: { include: [REPO] },
    tags: { include: ['^latest$'] },
    attachments,
    storage: { root: path.join(dir, 'mirror') },
  };
  return parseConfig(stringify(body), path.join(dir, 'config.yaml'));
}

function add(source: FakeSource, artifact: Artifact, tag?: string): Digest {
  source.content.set(artifact.descriptor.digest, artifact.bytes);
  for (const [digest, bytes] of artifact.blobs) source.content.set(digest, bytes);
  if (tag) source.setTag(REPO, tag, artifact.descriptor.digest);
  return artifact.descriptor.digest;
}

const subjectOf = (images: GeneratedImages, tag: string) => ({
  mediaType: MediaType.ociManifest,
  digest: images.repositories[REPO]!.tags[tag]!,
  size: 0,
});

describe('sync: attachments follow their image', () => {
  let source: FakeSource;
  let images: GeneratedImages;
  let latest: Digest;
  let signature: Digest;
  let sbom: Artifact;
  let sbomSignature: Digest;

  beforeAll(async () => {
    ({ source, images } = await FakeSource.fromSpec(SPEC));
    latest = images.repositories[REPO]!.tags.latest!;
    signature = add(
      source,
      cosignSignature(privateKey, [{ dockerReference: `x/${REPO}`, digest: latest }]),
      cosignTag(latest, 'sig'),
    );
    sbom = referrer(subjectOf(images, 'latest'), SBOM, Buffer.from('{"spdxVersion":"SPDX-2.3"}'), {
      'org.example': 'yes',
    });
    add(source, sbom);
    add(source, fallbackIndex([sbom]), fallbackTag(latest));
    // A signature of the SBOM: an attachment of an attachment.
    sbomSignature = add(
      source,
      cosignSignature(privateKey, [{ dockerReference: `x/${REPO}`, digest: sbom.descriptor.digest }]),
      cosignTag(sbom.descriptor.digest, 'sig'),
    );
    // The image 1.0 is not kept, so neither is its signature.
    const old = images.repositories[REPO]!.tags['1.0']!;
    add(source, cosignSignature(privateKey, [{ dockerReference: `x/${REPO}`, digest: old }]), cosignTag(old, 'sig'));
  });

  it('keeps the cosign tags, the fallback tag and their blobs, recursively, and records what is attached to what', async () => {
    const config = await configFor('follow');
    const summary = await runSync(config, source);
    expect(summary.failures).toEqual([]);
    const repo = (await readCurrentGeneration(config.storage.metadata))!.repositories.get(REPO)!;
    expect(Object.keys(repo.tags).sort()).toEqual(
      [cosignTag(latest, 'sig'), fallbackTag(latest), cosignTag(sbom.descriptor.digest, 'sig'), 'latest'].sort(),
    );
    expect(repo.attachments).toEqual({
      [latest]: expect.arrayContaining([
        {
          digest: signature,
          kind: 'cosign',
          tag: cosignTag(latest, 'sig'),
          artifactType: expect.stringContaining('sig'),
        },
        {
          digest: sbom.descriptor.digest,
          kind: 'referrer',
          tag: fallbackTag(latest),
          artifactType: SBOM,
          annotations: { 'org.example': 'yes' },
        },
      ]),
      [sbom.descriptor.digest]: [
        expect.objectContaining({
          digest: sbomSignature,
          kind: 'cosign',
          tag: cosignTag(sbom.descriptor.digest, 'sig'),
        }),
      ],
    });
    for (const blob of sbom.blobs.keys())
      await expect(stat(path.join(config.storage.tree, REPO, '_blobs', 'sha256', blob.slice(7)))).resolves.toBeTruthy();
  });

  it('a run where nothing changed costs a tags list and a HEAD per tag and attachment tag, no GET', async () => {
    const config = await configFor('noop');
    await runSync(config, source);
    const before = { ...source.stats };
    const summary = await runSync(config, source);
    expect(summary.published).toBe(false);
    expect(source.stats.tagLists - before.tagLists).toBe(1);
    expect(source.stats.manifestHeads - before.manifestHeads).toBe(4);
    expect(source.stats.manifestGets - before.manifestGets).toBe(0);
    expect(source.stats.blobGets - before.blobGets).toBe(0);
  });

  it('a signature pushed after the image was mirrored arrives with the next run, every other tag unchanged', async () => {
    const config = await configFor('late');
    await runSync(config, source);
    const attestation = add(
      source,
      cosignSignature(privateKey, [{ dockerReference: `late/${REPO}`, digest: latest }]),
      cosignTag(latest, 'att'),
    );
    try {
      const summary = await runSync(config, source);
      expect(summary.published).toBe(true);
      expect(summary.plan[0]!.added).toEqual([cosignTag(latest, 'att')]);
      const repo = (await readCurrentGeneration(config.storage.metadata))!.repositories.get(REPO)!;
      expect(repo.tags[cosignTag(latest, 'att')]).toEqual({ digest: attestation });
      expect(repo.attachments![latest]!.map((e) => e.digest)).toContain(attestation);
    } finally {
      source.deleteTag(REPO, cosignTag(latest, 'att'));
    }
  });

  it('artifactTypes narrows what follows: the SBOM alone, untagged, without its fallback tag', async () => {
    const config = await configFor('filtered', { artifactTypes: [SBOM] });
    const summary = await runSync(config, source);
    expect(summary.failures).toEqual([]);
    const repo = (await readCurrentGeneration(config.storage.metadata))!.repositories.get(REPO)!;
    expect(Object.keys(repo.tags)).toEqual(['latest']);
    expect(repo.manifests[sbom.descriptor.digest]).toBeDefined();
    expect(repo.attachments).toEqual({
      [latest]: [expect.objectContaining({ digest: sbom.descriptor.digest, artifactType: SBOM })],
    });
  });

  it('switched off, the tag filters alone decide (and drop every attachment tag)', async () => {
    const config = await configFor('off', { enabled: false });
    await runSync(config, source);
    const repo = (await readCurrentGeneration(config.storage.metadata))!.repositories.get(REPO)!;
    expect(Object.keys(repo.tags)).toEqual(['latest']);
    expect(repo.attachments).toBeUndefined();
  });

  it('attachments go when their image goes', async () => {
    const config = await configFor('removed');
    await runSync(config, source);
    source.setTag(REPO, 'latest', images.repositories[REPO]!.tags['1.0']!);
    try {
      const summary = await runSync(config, source);
      const repo = (await readCurrentGeneration(config.storage.metadata))!.repositories.get(REPO)!;
      // 1.0's own signature follows it now; latest's attachments left with latest's image.
      const old = images.repositories[REPO]!.tags['1.0']!;
      expect(Object.keys(repo.tags).sort()).toEqual([cosignTag(old, 'sig'), 'latest'].sort());
      expect(summary.plan[0]!.removed.sort()).toEqual(
        [cosignTag(latest, 'sig'), fallbackTag(latest), cosignTag(sbom.descriptor.digest, 'sig')].sort(),
      );
      expect(repo.manifests[sbom.descriptor.digest]).toBeUndefined();
    } finally {
      source.setTag(REPO, 'latest', latest);
    }
  });
});
