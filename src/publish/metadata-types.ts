import { z } from 'zod';
import { isDigest, type Digest } from '../oci/digest.js';
import { repositoryFileRelPath } from './metadata-paths.js';
import type { Platform } from '../oci/platform.js';
import { isRepositoryName, isTag } from '../oci/reference.js';

// Types and readers' schema of the metadata format (docs/formats.md). Version 2 changed only
// the generation index and where repository files live (content-addressed, shared between
// generations); the repository file itself is still its version 1.

/** The generation index sync writes. */
export const FORMAT_VERSION = 2;
/** The repository file's own version: unchanged by metadata format 2. */
export const REPOSITORY_FORMAT_VERSION = 1;

export interface ManifestEntry {
  mediaType: string;
  size: number;
  /** Relative to the metadata directory. */
  path: string;
  platform?: Platform;
  manifests: Digest[];
  blobs: Digest[];
}

export interface BlobEntry {
  size: number;
  mediaType?: string;
  /** Relative to the tree root: the path in the first module (by name). */
  path: string;
  /** Every module holding the blob -> its path there, relative to the tree root. */
  modules: Record<string, string>;
  /** Module -> the generation since which the blob is at that path (publish/first-generation.ts). */
  firstGeneration?: Record<string, string>;
}

/** When a tag pointed at which digest (null: it left the selection), oldest first. */
export interface HistoryEntry {
  digest: Digest | null;
  since: string;
}

/** An artifact attached to a manifest of the repository (docs/formats.md, "Attachments"). */
export interface AttachmentEntry {
  /** The artifact's manifest; in `manifests`. */
  digest: Digest;
  /** `referrer`: an OCI 1.1 referrer (its `subject` is the image), listed by serve's referrers API; `cosign`: under a cosign tag. */
  kind: 'referrer' | 'cosign';
  /** The source's tag it came under (a cosign tag, or the referrers fallback tag); absent: the referrers API listed it. */
  tag?: string;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface RepositoryMetadata {
  formatVersion: 1;
  name: string;
  syncedAt: string;
  tags: Record<string, { digest: Digest }>;
  manifests: Record<string, ManifestEntry>;
  blobs: Record<string, BlobEntry>;
  history: Record<string, HistoryEntry[]>;
  /** Subject manifest digest -> what is attached to it; absent when nothing is. */
  attachments?: Record<string, AttachmentEntry[]>;
}

/** Format 1: the repository's file inside the generation directory. */
export interface IndexEntryV1 {
  /** Relative to the generation directory. */
  path: string;
  tags: number;
  syncedAt: string;
}

/** Format 2: the repository's content-addressed file, shared by every generation naming it. */
export interface RepositoryRef {
  /** sha256 of the file's bytes; the file's name. */
  digest: Digest;
  size: number;
  /** Relative to the metadata directory. */
  path: string;
  tags: number;
  syncedAt: string;
}

interface IndexHead {
  generation: string;
  createdAt: string;
  generator: string;
  source: string;
  blobPathTemplate: string;
  /** Module name -> its root relative to the tree ('' for the tree itself). */
  modules: Record<string, { root: string }>;
}

/**
 * Tree-wide figures of a generation (format 2; absent in indexes written before them), so a
 * `sync --repo` summary and the status page need no repository file of the untouched ones.
 */
export interface GenerationTotals {
  /** Tags of every repository. */
  tags: number;
  /** Distinct blob digests. */
  blobs: number;
  /** Each distinct blob's size once: what the tree holds on disk. */
  uniqueBytes: number;
  /** Every repository's blobs summed. */
  referencedBytes: number;
}

export type GenerationIndexV1 = IndexHead & { formatVersion: 1; repositories: Record<string, IndexEntryV1> };
export type GenerationIndex = IndexHead & {
  formatVersion: 2;
  totals?: GenerationTotals;
  repositories: Record<string, RepositoryRef>;
};
/** What readers accept during the upgrade: a format-1 tree keeps serving until the next sync. */
export type AnyGenerationIndex = GenerationIndexV1 | GenerationIndex;

const digest = z.string().refine(isDigest, 'invalid digest');
const digestKeyed = <T extends z.ZodTypeAny>(value: T) =>
  z.record(z.string().refine(isDigest, 'invalid digest key'), value);

/**
 * An object keyed by tag. z.record skips a key named `__proto__`, which is a valid tag; this keeps
 * every key, in an object without a prototype, where such a key is plain data.
 */
const tagKeyed = <T extends z.ZodTypeAny>(value: T) =>
  z
    .custom<Record<string, unknown>>(
      (raw) => typeof raw === 'object' && raw !== null && !Array.isArray(raw),
      'expected an object keyed by tag',
    )
    .transform((raw, ctx) => {
      const out = Object.create(null) as Record<string, z.output<T>>;
      for (const [key, item] of Object.entries(raw)) {
        if (!isTag(key)) ctx.addIssue({ code: 'custom', path: [key], message: 'invalid tag' });
        const parsed = value.safeParse(item);
        if (parsed.success) out[key] = parsed.data;
        else
          for (const issue of parsed.error.issues)
            ctx.addIssue({ code: 'custom', path: [key, ...issue.path], message: issue.message });
      }
      return out;
    });

// Metadata on disk is ours, but it is read back after crashes and by other tools: validate it.
export const repositorySchema = z.object({
  formatVersion: z.literal(REPOSITORY_FORMAT_VERSION),
  name: z.string().refine(isRepositoryName, 'invalid repository name'),
  syncedAt: z.string(),
  tags: tagKeyed(z.object({ digest })),
  manifests: digestKeyed(
    z.object({
      mediaType: z.string(),
      size: z.number().int().nonnegative(),
      path: z.string(),
      platform: z
        .object({
          architecture: z.string(),
          os: z.string(),
          variant: z.string().optional(),
          'os.version': z.string().optional(),
        })
        .optional(),
      manifests: z.array(digest),
      blobs: z.array(digest),
    }),
  ),
  blobs: digestKeyed(
    z.object({
      size: z.number().int().nonnegative(),
      mediaType: z.string().optional(),
      path: z.string(),
      modules: z.record(z.string(), z.string()),
      firstGeneration: z.record(z.string(), z.string().regex(/^\d{10}$/)).optional(),
    }),
  ),
  history: tagKeyed(z.array(z.object({ digest: digest.nullable(), since: z.string() }))),
  attachments: digestKeyed(
    z.array(
      z.object({
        digest,
        kind: z.enum(['referrer', 'cosign']),
        tag: z.string().refine(isTag, 'invalid tag').optional(),
        artifactType: z.string().optional(),
        annotations: z.record(z.string(), z.string()).optional(),
      }),
    ),
  ).optional(),
});

const indexHead = {
  generation: z.string().regex(/^\d{10}$/),
  createdAt: z.string(),
  generator: z.string(),
  source: z.string(),
  blobPathTemplate: z.string(),
  modules: z.record(z.string(), z.object({ root: z.string() })),
};
const repositoryNameKeyed = <T extends z.ZodTypeAny>(value: T) =>
  z.record(z.string().refine(isRepositoryName, 'invalid repository name'), value);

export const indexSchema = z.discriminatedUnion('formatVersion', [
  z.object({
    formatVersion: z.literal(1),
    ...indexHead,
    repositories: repositoryNameKeyed(z.object({ path: z.string(), tags: z.number(), syncedAt: z.string() })),
  }),
  z.object({
    formatVersion: z.literal(FORMAT_VERSION),
    ...indexHead,
    totals: z
      .object({
        tags: z.number().int().nonnegative(),
        blobs: z.number().int().nonnegative(),
        uniqueBytes: z.number().int().nonnegative(),
        referencedBytes: z.number().int().nonnegative(),
      })
      .optional(),
    repositories: repositoryNameKeyed(
      z
        .object({
          digest,
          size: z.number().int().nonnegative(),
          path: z.string(),
          tags: z.number(),
          syncedAt: z.string(),
        })
        // The file is named by its digest: any other path is not one of ours.
        .refine((ref) => ref.path === repositoryFileRelPath(ref.digest as Digest), {
          message: 'expected the path repositories/<algorithm>/<hh>/<hex>.json of the digest',
          path: ['path'],
        }),
    ),
  }),
]);

/**
 * THE decision that the published generation must be written again even if nothing changed:
 * an older format, or a format-2 index without totals. The reason, or undefined when it is current.
 */
export function rewriteReason(index: AnyGenerationIndex): string | undefined {
  if (index.formatVersion !== FORMAT_VERSION)
    return `generation ${index.generation} is metadata format ${index.formatVersion}: written again in format ${FORMAT_VERSION}`;
  if (!index.totals) return `generation ${index.generation} has no totals in its index: written again with them`;
  return undefined;
}
