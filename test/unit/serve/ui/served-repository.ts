import type { Digest } from '../../../../src/oci/digest.js';
import type { ManifestEntry, ServedRepository } from '../../../../src/serve/metadata-schema.js';
import type { AttachmentEntry, BlobEntry, HistoryEntry } from '../../../../src/publish/metadata-types.js';

// ServedRepository values for the status page's pure tests, built the way toServedRepository
// builds them.

export const digestOf = (c: string): Digest => `sha256:${c.repeat(64).slice(0, 64)}` as Digest;

export function served(
  name: string,
  parts: {
    tags?: Record<string, Digest>;
    manifests?: Array<Partial<ManifestEntry> & { digest: Digest }>;
    blobs?: Record<string, number>;
    history?: Record<string, HistoryEntry[]>;
    attachments?: Record<string, AttachmentEntry[]>;
  },
): ServedRepository {
  const tags = new Map(Object.entries(parts.tags ?? {}));
  const manifests = new Map(
    (parts.manifests ?? []).map((m) => [
      m.digest,
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        size: 500,
        path: 'manifests/x',
        manifests: [],
        blobs: [],
        ...m,
      },
    ]),
  );
  const blobs = new Map<Digest, BlobEntry>(
    Object.entries(parts.blobs ?? {}).map(([d, size]) => [
      d as Digest,
      { size, path: `${name}/_blobs/x`, modules: {} },
    ]),
  );
  return {
    name,
    tagNames: [...tags.keys()].sort(),
    tags,
    manifests,
    blobs,
    attachments: new Map(Object.entries(parts.attachments ?? {}) as Array<[Digest, AttachmentEntry[]]>),
    syncedAt: '2026-11-22T16:29:58.120Z',
    history: new Map(Object.entries(parts.history ?? {})),
  };
}
