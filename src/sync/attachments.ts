import {
  COSIGN_ARTIFACT_TYPES,
  COSIGN_SUFFIXES,
  artifactTypeSelected,
  cosignTag,
  fallbackTag,
  parseAttachmentTag,
} from '../oci/attachments.js';
import type { Digest } from '../oci/digest.js';
import { parseManifest, type Descriptor } from '../oci/manifest.js';
import type { AttachmentEntry } from '../publish/metadata-types.js';
import type { Source } from '../source/source.js';
import { failure, type Failure } from '../report/failure.js';

// Attached artifacts follow their image, whatever the tag filters say: for every manifest kept,
// the cosign tags next to it and its OCI 1.1 referrers (from the referrers API, or the fallback
// tag's index where the source has no API), then theirs in turn, down to `maxDepth` levels.

export interface AttachmentOptions {
  enabled: boolean;
  artifactTypes: readonly string[];
  maxDepth: number;
}

/**
 * Whether `tag` is the tag filters' to select: with attachments on, an attachment-shaped tag (the
 * referrers fallback tag `sha256-<hex>`, cosign's `sha256-<hex>.sig` and kin) is not; it follows its image.
 */
export function isOrdinaryTag(tag: string, options: AttachmentOptions): boolean {
  return !options.enabled || !parseAttachmentTag(tag);
}

/** The tags of a listing the tag filters select from: all of them, less the attachment-shaped ones with attachments on. */
export function ordinaryTags(listing: readonly string[], options: AttachmentOptions): string[] {
  return listing.filter((tag) => isOrdinaryTag(tag, options));
}

/** What the discovery needs from resolve-repository: resolving found things the way tags are. */
export interface AttachmentHooks {
  source: Source;
  repository: string;
  /** Every tag the source lists. */
  listing: ReadonlySet<string>;
  /** HEAD and resolve these tags like selected ones; those that resolved (failures are the hook's to record). */
  resolveTags(tags: string[]): Promise<Map<string, Resolved>>;
  /** Resolve untagged referrers by digest; those that resolved. */
  resolveUntagged(digests: Digest[]): Promise<Map<Digest, Resolved>>;
  /** The bytes of a resolved manifest (fetched now, or stored by an earlier run). */
  manifestBytes(digest: Digest): Promise<Buffer | undefined>;
}

/** A resolved root: its digest and every manifest of its closure. */
export interface Resolved {
  digest: Digest;
  manifests: Digest[];
}

export interface AttachmentResult {
  attachments: Map<Digest, AttachmentEntry[]>;
  failures: Failure[];
}

const referrerEntry = (d: Descriptor, tag?: string): AttachmentEntry => ({
  digest: d.digest,
  kind: 'referrer',
  ...(tag ? { tag } : {}),
  ...(d.artifactType ? { artifactType: d.artifactType } : {}),
  ...(d.annotations ? { annotations: d.annotations } : {}),
});

/** Follow attachments from `roots` (the kept manifests), level by level. */
export async function followAttachments(
  hooks: AttachmentHooks,
  options: AttachmentOptions,
  roots: Iterable<Digest>,
): Promise<AttachmentResult> {
  const result: AttachmentResult = { attachments: new Map(), failures: [] };
  const seen = new Set(roots);
  const add = (subject: Digest, entry: AttachmentEntry) =>
    result.attachments.set(subject, [...(result.attachments.get(subject) ?? []), entry]);
  const selected = (type: string | undefined) => artifactTypeSelected(options.artifactTypes, type);
  // A fallback tag is mirrored as it is only when nothing it lists is filtered out.
  const wholeFallback = options.artifactTypes.length === 0;
  let frontier = [...seen];
  for (let depth = 0; depth < options.maxDepth && frontier.length; depth++) {
    const tags = new Map<string, { subject: Digest; artifactType: string }>();
    const untagged = new Map<Digest, { subject: Digest; entry: AttachmentEntry }>();
    const fallbacks = new Map<string, Digest>();
    await Promise.all(
      frontier.map(async (subject) => {
        for (const suffix of COSIGN_SUFFIXES) {
          const tag = cosignTag(subject, suffix);
          const artifactType = COSIGN_ARTIFACT_TYPES[suffix];
          if (hooks.listing.has(tag) && selected(artifactType)) tags.set(tag, { subject, artifactType });
        }
        let referrers: Descriptor[] | undefined;
        try {
          referrers = await hooks.source.listReferrers(hooks.repository, subject);
        } catch (error) {
          result.failures.push(failure(error, { repository: hooks.repository, digest: subject }));
          return;
        }
        if (referrers) {
          for (const d of referrers.filter((r) => selected(r.artifactType)))
            untagged.set(d.digest, { subject, entry: referrerEntry(d) });
        } else if (hooks.listing.has(fallbackTag(subject))) {
          fallbacks.set(fallbackTag(subject), subject);
        }
      }),
    );
    const resolvedTags = await hooks.resolveTags([...tags.keys(), ...(wholeFallback ? fallbacks.keys() : [])]);
    for (const [tag, subject] of fallbacks) {
      try {
        for (const d of await fallbackReferrers(hooks, tag, resolvedTags.get(tag)?.digest))
          if (selected(d.artifactType)) untagged.set(d.digest, { subject, entry: referrerEntry(d, tag) });
      } catch (error) {
        result.failures.push(failure(error, { repository: hooks.repository, tag }));
      }
    }
    const resolvedUntagged = await hooks.resolveUntagged([...untagged.keys()]);
    const next: Digest[] = [];
    const reached = (resolved: Resolved | undefined): resolved is Resolved => {
      for (const digest of resolved?.manifests ?? []) if (!seen.has(digest) && seen.add(digest)) next.push(digest);
      return resolved !== undefined;
    };
    for (const [tag, { subject, artifactType }] of tags) {
      const resolved = resolvedTags.get(tag);
      if (reached(resolved)) add(subject, { digest: resolved.digest, kind: 'cosign', tag, artifactType });
    }
    for (const tag of fallbacks.keys()) reached(resolvedTags.get(tag));
    for (const [digest, { subject, entry }] of untagged) if (reached(resolvedUntagged.get(digest))) add(subject, entry);
    frontier = next;
  }
  for (const [subject, entries] of result.attachments)
    result.attachments.set(
      subject,
      entries.sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0)),
    );
  return result;
}

/** The attachments to publish: those whose subject and artifact are both in the repository's closure. */
export function publishedAttachments(
  found: ReadonlyMap<Digest, AttachmentEntry[]>,
  closure: { manifests: ReadonlyMap<Digest, unknown> },
): Map<Digest, AttachmentEntry[]> {
  const out = new Map<Digest, AttachmentEntry[]>();
  for (const [subject, entries] of found) {
    const kept = closure.manifests.has(subject) ? entries.filter((e) => closure.manifests.has(e.digest)) : [];
    if (kept.length) out.set(subject, kept);
  }
  return out;
}

/** The referrers a fallback tag's index lists: from the tag resolved now, else one GET of it. */
async function fallbackReferrers(
  hooks: AttachmentHooks,
  tag: string,
  digest: Digest | undefined,
): Promise<Descriptor[]> {
  const bytes = digest ? await hooks.manifestBytes(digest) : undefined;
  const what = `${hooks.repository}:${tag}`;
  const manifest = bytes
    ? parseManifest(bytes, undefined, what)
    : (await hooks.source.getManifest(hooks.repository, tag)).manifest;
  return manifest.kind === 'index' ? manifest.manifests : [];
}
