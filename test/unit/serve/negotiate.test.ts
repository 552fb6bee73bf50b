import { describe, expect, it } from 'vitest';
import type { Digest } from '../../../src/oci/digest.js';
import { MediaType } from '../../../src/oci/media-types.js';
import type { ManifestEntry, ServedRepository } from '../../../src/serve/metadata-schema.js';
import { acceptedTypes, negotiateManifest } from '../../../src/serve/negotiate.js';

const d = (c: string) => `sha256:${c.repeat(64)}` as Digest;

function entry(digest: Digest, mediaType: string, extra: Partial<ManifestEntry> = {}): ManifestEntry {
  return { digest, mediaType, size: 1, path: 'manifests/x', manifests: [], blobs: [], ...extra };
}

function repo(...entries: ManifestEntry[]): ServedRepository {
  return {
    name: 'r',
    tagNames: [],
    tags: new Map(),
    manifests: new Map(entries.map((e) => [e.digest, e])),
    blobs: new Map(),
    attachments: new Map(),
    syncedAt: '2026-11-22T16:29:58.120Z',
    history: new Map(),
  };
}

const arm = entry(d('1'), MediaType.ociManifest, { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
const amd = entry(d('2'), MediaType.ociManifest, { platform: { os: 'linux', architecture: 'amd64' } });
const attestation = entry(d('3'), MediaType.ociManifest, { platform: { os: 'unknown', architecture: 'unknown' } });
const index = entry(d('a'), MediaType.ociIndex, { manifests: [arm.digest, attestation.digest, amd.digest] });
const armOnly = entry(d('b'), MediaType.dockerList, { manifests: [arm.digest] });
const r = repo(arm, amd, attestation, index, armOnly);

describe('Accept parsing', () => {
  it('collects types from lists and repeated headers, ignoring parameters', () => {
    expect(acceptedTypes([`${MediaType.ociIndex}; q=0.5, ${MediaType.dockerManifest}`, 'application/JSON'])).toEqual(
      new Set([MediaType.ociIndex, MediaType.dockerManifest, 'application/json']),
    );
  });

  it('drops types refused with q=0 and copes with no header', () => {
    expect(acceptedTypes(`${MediaType.ociIndex};q=0, ${MediaType.ociManifest}`)).toEqual(
      new Set([MediaType.ociManifest]),
    );
    expect(acceptedTypes(undefined).size).toBe(0);
    expect(acceptedTypes(' , ;q=1').size).toBe(0);
  });
});

describe('manifest negotiation', () => {
  it('serves an index to a client that accepts its exact type', () => {
    expect(negotiateManifest(r, index.digest, new Set([MediaType.ociIndex]))).toBe(index.digest);
  });

  it('gives the linux/amd64 image to a client that does not accept the index type', () => {
    expect(negotiateManifest(r, index.digest, new Set())).toBe(amd.digest);
    expect(negotiateManifest(r, index.digest, new Set(['*/*', MediaType.dockerList]))).toBe(amd.digest);
  });

  it('finds nothing when the index has no linux/amd64 image here', () => {
    expect(negotiateManifest(r, armOnly.digest, new Set([MediaType.ociIndex]))).toBeUndefined();
  });

  it('serves image manifests as stored whatever Accept says, and unknown digests not at all', () => {
    expect(negotiateManifest(r, arm.digest, new Set())).toBe(arm.digest);
    expect(negotiateManifest(r, d('f'), new Set([MediaType.ociIndex]))).toBeUndefined();
  });
});
