import { MediaType } from '../oci/media-types.js';
import type { ServedRepository } from './metadata-schema.js';
import type { ServeResponse } from './responses.js';
import type { Route } from './routes.js';

// GET /v2/<name>/referrers/<digest>[?artifactType=]: the OCI 1.1 referrers API, answered from the
// attachments the metadata records (distribution-spec 1.1). Any digest gets an index, empty when
// nothing refers to it: never 404, which clients read as "this registry has no referrers API"
// and fall back to the tag scheme.

export function serveReferrers(
  repository: ServedRepository,
  route: Extract<Route, { kind: 'referrers' }>,
): ServeResponse {
  const referrers = (repository.attachments.get(route.digest) ?? []).filter(
    (entry) =>
      entry.kind === 'referrer' && (route.artifactType === undefined || entry.artifactType === route.artifactType),
  );
  const manifests = referrers.flatMap((entry) => {
    const manifest = repository.manifests.get(entry.digest);
    if (!manifest) return [];
    return [
      {
        mediaType: manifest.mediaType,
        digest: entry.digest,
        size: manifest.size,
        ...(entry.artifactType ? { artifactType: entry.artifactType } : {}),
        ...(entry.annotations ? { annotations: entry.annotations } : {}),
      },
    ];
  });
  const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }));
  return {
    status: 200,
    headers: {
      'Content-Type': MediaType.ociIndex,
      ...(route.artifactType === undefined ? {} : { 'OCI-Filters-Applied': 'artifactType' }),
    },
    body,
  };
}
