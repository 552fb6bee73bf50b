import { z } from 'zod';
import type { Digest } from '../oci/digest.js';
import { isMediaType } from '../oci/media-types.js';
import {
  indexSchema as formatIndexSchema,
  repositorySchema as formatRepositorySchema,
  type AttachmentEntry,
  type BlobEntry,
  type HistoryEntry,
  type ManifestEntry as FormatManifestEntry,
} from '../publish/metadata-types.js';

// serve's view of the metadata format (docs/formats.md; the schemas are publish's, one definition
// of the format). On top it checks what serving relies on: every path stays inside its directory
// and media types are safe to send as Content-Type. Lookup tables become Maps, so a tag called
// `constructor` (a valid tag) can never reach Object.prototype.

/** A relative path under `prefix` with no absolute, empty, `.` or `..` segments. */
function isContainedPath(value: string, prefix: string): boolean {
  return (
    value.startsWith(prefix) &&
    value.split('/').every((s) => s !== '' && s !== '.' && s !== '..' && !s.includes('\\') && !s.includes('\0'))
  );
}

function checkPath(ctx: z.RefinementCtx, value: string, prefix: string, at: PropertyKey[]): void {
  if (!isContainedPath(value, prefix))
    ctx.addIssue({
      code: 'custom',
      path: at,
      message: `expected a relative path under ${prefix || 'the tree root'} without ".." segments`,
    });
}

export const indexSchema = formatIndexSchema.superRefine((index, ctx) => {
  for (const [name, entry] of Object.entries(index.repositories))
    checkPath(ctx, entry.path, 'repositories/', ['repositories', name, 'path']);
});

export const repositorySchema = formatRepositorySchema.superRefine((repo, ctx) => {
  for (const [digest, entry] of Object.entries(repo.manifests)) {
    checkPath(ctx, entry.path, 'manifests/', ['manifests', digest, 'path']);
    if (!isMediaType(entry.mediaType))
      ctx.addIssue({ code: 'custom', path: ['manifests', digest, 'mediaType'], message: 'expected a media type' });
  }
  for (const [digest, entry] of Object.entries(repo.blobs)) checkPath(ctx, entry.path, '', ['blobs', digest, 'path']);
});

export type ManifestEntry = FormatManifestEntry & { digest: Digest };

/** One repository of one generation, as the handlers use it. */
export interface ServedRepository {
  name: string;
  /** Sorted, as the format promises; pagination relies on it. */
  tagNames: string[];
  tags: Map<string, Digest>;
  manifests: Map<Digest, ManifestEntry>;
  blobs: Map<Digest, BlobEntry>;
  /** Subject digest -> what is attached to it. */
  attachments: Map<Digest, AttachmentEntry[]>;
  /** For the status page: when the repository was synced and each tag's history. */
  syncedAt: string;
  history: Map<string, HistoryEntry[]>;
}

export function toServedRepository(parsed: z.output<typeof repositorySchema>): ServedRepository {
  const tags = new Map(Object.entries(parsed.tags).map(([tag, { digest }]) => [tag, digest as Digest] as const));
  return {
    name: parsed.name,
    tagNames: [...tags.keys()].sort(compareNames),
    tags,
    manifests: new Map(
      Object.entries(parsed.manifests).map(
        ([digest, entry]) => [digest as Digest, { ...entry, digest: digest as Digest } as ManifestEntry] as const,
      ),
    ),
    blobs: new Map(Object.entries(parsed.blobs).map(([digest, entry]) => [digest as Digest, entry] as const)),
    attachments: new Map(
      Object.entries(parsed.attachments ?? {}).map(([digest, entries]) => [digest as Digest, entries] as const),
    ),
    syncedAt: parsed.syncedAt,
    history: new Map(Object.entries(parsed.history).map(([tag, entries]) => [tag, entries as HistoryEntry[]] as const)),
  };
}

/** Code-unit order, the order `last=` pagination compares in (locale order would differ by host). */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
