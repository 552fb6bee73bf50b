import { formatBytes } from '../../../format.js';
import { parseAttachmentTag, type CosignSuffix } from '../../../oci/attachments.js';
import type { Digest } from '../../../oci/digest.js';
import type { AttachmentEntry } from '../../../publish/metadata-types.js';
import { formatPlatform, isImagePlatform } from '../../../oci/platform.js';
import type { ServedRepository } from '../../metadata-schema.js';
import type { RepositoryFacts } from './facts.js';

// PURE: the repository list (with its search) and one repository's page, also served as
// /api/repositories and /api/repositories/<name>.

export interface RepositoryListModel {
  generation: string;
  query: string;
  total: number;
  /** `size`: `bytes` for people, so the page's script shows what the server renders. */
  repositories: Array<RepositoryFacts & { size: string }>;
}

/** Case-insensitive substring match of every word of the query. */
export function repositoryListModel(
  generation: string,
  all: readonly RepositoryFacts[],
  query: string,
): RepositoryListModel {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const hits = words.length ? all.filter((r) => words.every((w) => r.name.includes(w))) : all;
  const repositories = hits.map((r) => ({ ...r, size: formatBytes(r.bytes) }));
  return { generation, query, total: all.length, repositories };
}

export interface TagView {
  tag: string;
  digest: Digest;
  mediaType: string;
  kind: 'index' | 'image';
  platforms: string[];
  /** Manifests and distinct blobs of the tag (all platforms). */
  bytes: number;
  /** Entries of the index that are not images (build attestations, SBOMs). */
  attestations: number;
  /** Artifacts the metadata records as attached to this digest or a manifest of its index. */
  attached: AttachedView[];
  pull: string;
  history: Array<{ digest: Digest | null; since: string }>;
}

export interface AttachedView {
  /** The artifact's manifest. */
  digest: Digest;
  /** For people: signature, attestation, SBOM, or the artifact type. */
  kind: string;
  /** `cosign` (a tag beside the image) or `referrer` (OCI 1.1 subject). */
  scheme: AttachmentEntry['kind'];
  /** The tag it came under, when one (a cosign tag; the referrers fallback tag). */
  tag?: string;
  artifactType?: string;
  /** What it is attached to: the tag's digest, or one platform's manifest of its index. */
  subject: Digest;
}

export interface RepositoryModel {
  generation: string;
  name: string;
  syncedAt: string;
  bytes: number;
  tags: TagView[];
}

const COSIGN_KIND: Record<CosignSuffix, string> = { sig: 'signature', att: 'attestation', sbom: 'SBOM' };

/** What an attachment is, in a word: cosign's tag suffix says it, else its artifact type does. */
export function attachmentKind(entry: Pick<AttachmentEntry, 'tag' | 'artifactType'>): string {
  const suffix = entry.tag === undefined ? undefined : parseAttachmentTag(entry.tag)?.suffix;
  if (suffix) return COSIGN_KIND[suffix];
  const type = entry.artifactType ?? '';
  if (/spdx|cyclonedx|sbom/i.test(type)) return 'SBOM';
  if (/in-toto|attestation|provenance/i.test(type)) return 'attestation';
  if (/sig(nature)?\b|sigstore/i.test(type)) return 'signature';
  return type || 'artifact';
}

function manifestTree(repo: ServedRepository, root: Digest): { digests: Set<Digest>; blobs: Set<Digest> } {
  const digests = new Set<Digest>();
  const blobs = new Set<Digest>();
  const visit = (digest: Digest) => {
    const entry = repo.manifests.get(digest);
    if (!entry || digests.has(digest)) return;
    digests.add(digest);
    for (const blob of entry.blobs) blobs.add(blob);
    for (const child of entry.manifests) visit(child);
  };
  visit(root);
  return { digests, blobs };
}

function tagView(repo: ServedRepository, tag: string, digest: Digest, host: string): TagView {
  const entry = repo.manifests.get(digest);
  const { digests, blobs } = manifestTree(repo, digest);
  let bytes = 0;
  for (const d of digests) bytes += repo.manifests.get(d)?.size ?? 0;
  for (const b of blobs) bytes += repo.blobs.get(b)?.size ?? 0;
  const children = (entry?.manifests ?? []).map((d) => repo.manifests.get(d)?.platform);
  const platforms = entry?.manifests.length
    ? children.filter(isImagePlatform).map(formatPlatform)
    : entry?.platform
      ? [formatPlatform(entry.platform)]
      : [];
  return {
    tag,
    digest,
    mediaType: entry?.mediaType ?? 'unknown',
    kind: entry?.manifests.length ? 'index' : 'image',
    platforms,
    bytes,
    attestations: children.filter((p) => !isImagePlatform(p)).length,
    attached: [...digests].flatMap((subject) =>
      (repo.attachments.get(subject) ?? []).map((a): AttachedView => ({
        digest: a.digest,
        kind: attachmentKind(a),
        scheme: a.kind,
        ...(a.tag === undefined ? {} : { tag: a.tag }),
        ...(a.artifactType === undefined ? {} : { artifactType: a.artifactType }),
        subject,
      })),
    ),
    pull: `podman pull ${host}/${repo.name}:${tag}`,
    history: repo.history.get(tag) ?? [],
  };
}

/** `host` is the address clients reach serve at (the request's Host). */
export function repositoryModel(generation: string, repo: ServedRepository, host: string): RepositoryModel {
  let bytes = 0;
  for (const blob of repo.blobs.values()) bytes += blob.size;
  return {
    generation,
    name: repo.name,
    syncedAt: repo.syncedAt,
    bytes,
    tags: repo.tagNames.map((tag) => tagView(repo, tag, repo.tags.get(tag)!, host)),
  };
}
