import { makeDigest, parseDigest, type Digest, type DigestAlgorithm } from './digest.js';

// PURE: how artifacts are attached to an image (docs/formats.md, "Attachments"). Two schemes:
// cosign's tags `<alg>-<hex>.sig|.att|.sbom` next to the image, and OCI 1.1 referrers (manifests
// whose `subject` is the image), listed by the referrers API or, on registries without it, by an
// index under the fallback tag `<alg>-<hex>`.

export const COSIGN_SUFFIXES = ['sig', 'att', 'sbom'] as const;
export type CosignSuffix = (typeof COSIGN_SUFFIXES)[number];

/**
 * The artifact type a cosign tag's content stands for, so one `artifactTypes` filter narrows both
 * schemes (cosign uses these names when it stores the same artifacts as OCI 1.1 referrers).
 */
export const COSIGN_ARTIFACT_TYPES: Record<CosignSuffix, string> = {
  sig: 'application/vnd.dev.cosign.artifact.sig.v1+json',
  att: 'application/vnd.dev.cosign.artifact.att.v1+json',
  sbom: 'application/vnd.dev.cosign.artifact.sbom.v1+json',
};

const ATTACHMENT_TAG = /^(sha256-[0-9a-f]{64}|sha512-[0-9a-f]{128})(?:\.(sig|att|sbom))?$/;

/** `sha256:<hex>` -> `sha256-<hex>`: the referrers fallback tag, and the stem of cosign's tags. */
export function fallbackTag(digest: Digest): string {
  const { algorithm, hex } = parseDigest(digest);
  return `${algorithm}-${hex}`;
}

export function cosignTag(digest: Digest, suffix: CosignSuffix): string {
  return `${fallbackTag(digest)}.${suffix}`;
}

/** What an attachment-shaped tag says: the subject digest, and the cosign suffix if any. */
export function parseAttachmentTag(tag: string): { subject: Digest; suffix: CosignSuffix | undefined } | undefined {
  const match = ATTACHMENT_TAG.exec(tag);
  if (!match) return undefined;
  const [algorithm, hex] = match[1]!.split('-') as [DigestAlgorithm, string];
  return { subject: makeDigest(algorithm, hex), suffix: match[2] as CosignSuffix | undefined };
}

/** An empty filter keeps every type. */
export function artifactTypeSelected(filter: readonly string[], artifactType: string | undefined): boolean {
  return filter.length === 0 || (artifactType !== undefined && filter.includes(artifactType));
}
