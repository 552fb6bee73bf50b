// PURE: a repository's tags against the previous generation, and the closures (manifests and
// blobs) that carry a tag over unchanged.
import type { Digest } from '../oci/digest.js';
import type { AttachmentEntry, BlobEntry, ManifestEntry, RepositoryMetadata } from '../publish/metadata-types.js';

export interface TagPlan {
  added: string[];
  changed: string[];
  unchanged: string[];
  /** In the previous generation, no longer selected or no longer in the source. */
  removed: string[];
}

export interface Closure {
  manifests: Map<Digest, ManifestEntry>;
  blobs: Map<Digest, BlobEntry>;
}

export const emptyClosure = (): Closure => ({ manifests: new Map(), blobs: new Map() });

/** Every manifest and blob reachable from `root` in a previous generation, or undefined if any is missing. */
export function previousClosure(
  previous: RepositoryMetadata,
  root: Digest,
  into: Closure = emptyClosure(),
): Closure | undefined {
  const stack: Digest[] = [root];
  while (stack.length) {
    const digest = stack.pop()!;
    if (into.manifests.has(digest)) continue;
    const entry = previous.manifests[digest];
    if (!entry) return undefined;
    into.manifests.set(digest, entry);
    stack.push(...entry.manifests);
    for (const blob of entry.blobs) {
      const blobEntry = previous.blobs[blob];
      if (!blobEntry) return undefined;
      into.blobs.set(blob, blobEntry);
    }
  }
  return into;
}

/** Compare the tags' current digests (from HEAD) with the previous generation. */
export function planTags(heads: ReadonlyMap<string, Digest>, previous: RepositoryMetadata | undefined): TagPlan {
  const plan: TagPlan = { added: [], changed: [], unchanged: [], removed: [] };
  for (const [tag, digest] of [...heads].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const before = previous?.tags[tag]?.digest;
    if (before === undefined) plan.added.push(tag);
    else if (before !== digest || !previousClosure(previous!, digest)) plan.changed.push(tag);
    else plan.unchanged.push(tag);
  }
  plan.removed = Object.keys(previous?.tags ?? {})
    .filter((tag) => !heads.has(tag))
    .sort();
  return plan;
}

/** Assemble a repository's metadata; keys sorted so equal content gives equal bytes. */
export function buildRepositoryMetadata(
  name: string,
  syncedAt: string,
  tags: ReadonlyMap<string, Digest>,
  closure: Closure,
  history: RepositoryMetadata['history'] = {},
  attachments: ReadonlyMap<Digest, AttachmentEntry[]> = new Map(),
): RepositoryMetadata {
  const sorted = <T>(map: ReadonlyMap<string, T>) =>
    Object.fromEntries([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return {
    formatVersion: 1,
    name,
    syncedAt,
    tags: sorted(new Map([...tags].map(([tag, digest]) => [tag, { digest }]))),
    manifests: sorted(closure.manifests),
    blobs: sorted(closure.blobs),
    history,
    // Absent when empty, so metadata without attachments reads as it did before they existed.
    ...(attachments.size ? { attachments: sorted(attachments) } : {}),
  };
}
