import { ManifestInvalidError, SizeMismatchError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { manifestBlobs, type BlobRef, type Descriptor } from '../oci/manifest.js';
import { selectedByPlatforms, type Platform } from '../oci/platform.js';
import type { ManifestEntry } from '../publish/metadata-types.js';
import { manifestRelPath } from '../publish/metadata-paths.js';
import type { FetchedManifest, Source } from '../source/source.js';
import { SingleFlight } from './single-flight.js';

/** Indexes of indexes exist; deeper nesting than this is hostile. */
const MAX_DEPTH = 4;

/** A tag's manifests as fetched now: entries for metadata, bytes to store, blobs to ensure. */
export interface ResolvedTag {
  manifests: Map<Digest, ManifestEntry>;
  bytes: Map<Digest, Buffer>;
  blobs: Map<Digest, BlobRef>;
  /** Image manifests without a platform from an index -> their config blob (says the platform). */
  configs: Map<Digest, Digest>;
}

/** Shares manifest GETs across repositories and tags within one run (content-addressed). */
export class ManifestCache {
  readonly #gets = new SingleFlight<Digest, FetchedManifest>();

  get(source: Source, repository: string, digest: Digest): Promise<FetchedManifest> {
    return this.#gets.run(digest, () => source.getManifest(repository, digest));
  }
}

/**
 * Fetch the manifest a tag points at and, for an index, the children the platform filter keeps
 * (non-image entries such as attestations are always kept). Every manifest is fetched by digest,
 * so a tag that moves mid-run cannot mix two images.
 */
export async function resolveTag(
  source: Source,
  cache: ManifestCache,
  repository: string,
  root: Digest,
  platforms: readonly string[],
): Promise<ResolvedTag> {
  const resolved: ResolvedTag = { manifests: new Map(), bytes: new Map(), blobs: new Map(), configs: new Map() };
  const visit = async (digest: Digest, depth: number, parent: Descriptor | undefined): Promise<void> => {
    if (resolved.manifests.has(digest)) return;
    if (depth > MAX_DEPTH)
      throw new ManifestInvalidError(`manifest ${repository}@${root}: indexes nested deeper than ${MAX_DEPTH}`);
    const fetched = await cache.get(source, repository, digest);
    if (parent && parent.size !== fetched.bytes.length) {
      throw new SizeMismatchError(
        `manifest ${repository}@${digest}: ${fetched.bytes.length} bytes, but its index entry says ${parent.size}`,
      );
    }
    const { manifest } = fetched;
    const children =
      manifest.kind === 'index' ? manifest.manifests.filter((d) => selectedByPlatforms(platforms, d.platform)) : [];
    const blobs = manifestBlobs(manifest);
    const platform = parent?.platform
      ? pickPlatform(parent.platform)
      : manifest.kind === 'schema1' && manifest.architecture
        ? { architecture: manifest.architecture, os: 'linux' }
        : undefined;
    if (!platform && manifest.kind === 'image') resolved.configs.set(digest, manifest.config.digest);
    resolved.manifests.set(digest, {
      mediaType: fetched.mediaType,
      size: fetched.bytes.length,
      path: manifestRelPath(digest),
      ...(platform ? { platform } : {}),
      manifests: [...new Set(children.map((d) => d.digest))],
      blobs: blobs.map((b) => b.digest),
    });
    resolved.bytes.set(digest, fetched.bytes);
    for (const blob of blobs) resolved.blobs.set(blob.digest, blob);
    for (const child of children) await visit(child.digest, depth + 1, child);
  };
  await visit(root, 0, undefined);
  return resolved;
}

function pickPlatform(platform: Platform): Platform {
  const { architecture, os, variant } = platform;
  const version = platform['os.version'];
  return { architecture, os, ...(variant ? { variant } : {}), ...(version ? { 'os.version': version } : {}) };
}
