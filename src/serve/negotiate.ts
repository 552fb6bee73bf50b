import type { Digest } from '../oci/digest.js';
import { INDEX_TYPES } from '../oci/media-types.js';
import { platformMatches } from '../oci/platform.js';
import type { ServedRepository } from './metadata-schema.js';

// Content negotiation as docker-distribution does it: an index / manifest list is served only to
// a client that names its exact media type in Accept; any other client gets the linux/amd64 image
// of it (old docker clients, curl). Wildcards do not count, as in distribution. Image manifests
// are served as stored whatever Accept says: there is nothing to convert them to.

export const DEFAULT_PLATFORM = 'linux/amd64';

/** Media types a request's Accept header(s) name with a non-zero quality. */
export function acceptedTypes(accept: string | string[] | undefined): Set<string> {
  const types = new Set<string>();
  const values = accept === undefined ? [] : Array.isArray(accept) ? accept : [accept];
  for (const value of values) {
    for (const item of value.split(',')) {
      const [type, ...params] = item.split(';').map((part) => part.trim());
      if (!type) continue;
      const q = params.find((p) => /^q\s*=/i.test(p));
      if (q !== undefined && !(Number(q.split('=')[1]) > 0)) continue;
      types.add(type.toLowerCase());
    }
  }
  return types;
}

/**
 * The digest to answer with for `digest`: itself, or for an index the client does not accept its
 * linux/amd64 child (the first one in index order). Undefined when there is no such child here.
 */
export function negotiateManifest(
  repository: ServedRepository,
  digest: Digest,
  accepted: ReadonlySet<string>,
): Digest | undefined {
  const entry = repository.manifests.get(digest);
  if (!entry) return undefined;
  if (!INDEX_TYPES.includes(entry.mediaType) || accepted.has(entry.mediaType)) return digest;
  return entry.manifests.find((child) => {
    const platform = repository.manifests.get(child)?.platform;
    return platform !== undefined && platformMatches(DEFAULT_PLATFORM, platform);
  });
}
