import type { Digest } from '../oci/digest.js';
import type { MetadataReader, Generation } from './metadata-reader.js';
import type { ServedRepository } from './metadata-schema.js';
import type { MirrorStateWatch } from './mirror-state-watch.js';
import { blobUrlsFor, chooseBlob, type Freshness } from './mirrors.js';
import type { MirrorConfig } from '../mirror-list/mirror-config.js';
import { DEFAULT_PLATFORM, negotiateManifest } from './negotiate.js';
import { serveReferrers } from './referrers.js';
import { jsonResponse, registryError, type ServeResponse } from './responses.js';
import type { Page, Route } from './routes.js';
import type { ServeMetrics } from './serve-metrics.js';
import { rewritesFor, type RepositoryRewrites } from './urls-mode.js';

// One function per endpoint. Each gets the generation the request resolved once, so everything
// in a response comes from that generation.

export type ServeMode = 'redirect' | 'urls';

export interface ServeContext {
  reader: MetadataReader;
  mirrors: MirrorConfig;
  mode: ServeMode;
  /** Freshness routing (the mirror list has `check:`): the checker's state. */
  mirrorState?: MirrorStateWatch;
  metrics?: ServeMetrics;
}

export interface ClientInfo {
  /** Accept header media types, from acceptedTypes(). */
  accepted: ReadonlySet<string>;
  /** What stable mirror choice hashes: the client's address. */
  clientKey: string;
  country: string | undefined;
}

const DEFAULT_PAGE_SIZE = 100;
const BLOB_REDIRECT_STATUS = 307;

/** One page of sorted `names` after `last`, and the Link header when more follow. */
function paginate(
  names: readonly string[],
  page: Page,
  linkPath: string,
): { items: string[]; headers: Record<string, string> } {
  const n = page.n ?? DEFAULT_PAGE_SIZE;
  const last = page.last;
  // Names are sorted and unique, so "after last" is a binary search away.
  let lo = 0;
  if (last !== undefined) {
    let hi = names.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (names[mid]! <= last) lo = mid + 1;
      else hi = mid;
    }
  }
  const items = names.slice(lo, lo + n);
  const more = n > 0 && lo + n < names.length;
  const next = `${linkPath}?n=${n}&last=${encodeURIComponent(items.at(-1) ?? '')}`;
  return { items, headers: more ? { Link: `<${next}>; rel="next"` } : {} };
}

function nameUnknown(name: string): ServeResponse {
  return registryError(404, 'NAME_UNKNOWN', 'repository name not known to registry', { name });
}

function manifestUnknown(name: string, reference: string): ServeResponse {
  return registryError(404, 'MANIFEST_UNKNOWN', 'manifest unknown', { name, reference });
}

function manifestResponse(digest: Digest, mediaType: string, bytes: Buffer): ServeResponse {
  return {
    status: 200,
    headers: { 'Content-Type': mediaType, 'Docker-Content-Digest': digest, ETag: `"${digest}"` },
    body: bytes,
  };
}

/** Which stored manifest a reference names, and whether the client gets its rewritten form. */
async function resolveReference(
  repository: ServedRepository,
  reference: { tag: string } | { digest: Digest },
  rewrites: RepositoryRewrites | undefined,
): Promise<{ original: Digest; rewrite: boolean } | undefined> {
  if ('tag' in reference) {
    const original = repository.tags.get(reference.tag);
    return original === undefined ? undefined : { original, rewrite: rewrites !== undefined };
  }
  // A pull by original digest gets the original bytes: they are what that digest names.
  if (repository.manifests.has(reference.digest)) return { original: reference.digest, rewrite: false };
  const rewritten = await rewrites?.byRewrittenDigest(reference.digest);
  return rewritten ? { original: rewritten.original, rewrite: true } : undefined;
}

function freshnessFor(ctx: ServeContext, generation: Generation): Freshness | undefined {
  return ctx.mirrorState ? { view: ctx.mirrorState.current(), generation: generation.id } : undefined;
}

async function serveManifest(
  ctx: ServeContext,
  generation: Generation,
  repository: ServedRepository,
  route: Extract<Route, { kind: 'manifest' }>,
  client: ClientInfo,
): Promise<ServeResponse> {
  const asked = 'tag' in route.reference ? route.reference.tag : route.reference.digest;
  const freshness = freshnessFor(ctx, generation);
  const rewrites =
    ctx.mode === 'urls'
      ? rewritesFor(
          {
            repository,
            bytesOf: (entry) => ctx.reader.manifestBytes(entry),
            urlsFor: (digest, blob) =>
              blobUrlsFor(ctx.mirrors, repository.name, digest, blob, ctx.mirrors.urlsPerBlob, freshness),
          },
          freshness?.view,
        )
      : undefined;
  const resolved = await resolveReference(repository, route.reference, rewrites);
  if (!resolved || !repository.manifests.has(resolved.original)) return manifestUnknown(repository.name, asked);
  const chosen = negotiateManifest(repository, resolved.original, client.accepted);
  if (chosen === undefined) {
    return registryError(
      404,
      'MANIFEST_UNKNOWN',
      `the index has no ${DEFAULT_PLATFORM} image for a client that does not accept indexes`,
      { name: repository.name, reference: asked },
    );
  }
  const entry = repository.manifests.get(chosen)!;
  if (resolved.rewrite && rewrites) {
    const rewritten = await rewrites.of(chosen)!;
    return manifestResponse(rewritten.digest, entry.mediaType, rewritten.bytes);
  }
  return manifestResponse(entry.digest, entry.mediaType, await ctx.reader.manifestBytes(entry));
}

function serveBlob(
  ctx: ServeContext,
  generation: Generation,
  repository: ServedRepository,
  digest: Digest,
  client: ClientInfo,
): ServeResponse {
  const blob = repository.blobs.get(digest);
  if (!blob) return registryError(404, 'BLOB_UNKNOWN', 'blob unknown to registry', { name: repository.name, digest });
  const choice = chooseBlob(
    ctx.mirrors,
    repository.name,
    blob,
    client.clientKey,
    client.country,
    freshnessFor(ctx, generation),
  );
  ctx.metrics?.blobChosen(choice);
  return {
    status: BLOB_REDIRECT_STATUS,
    headers: { Location: choice.url, 'Docker-Content-Digest': digest },
    body: Buffer.alloc(0),
  };
}

/** Answer one routed request from one generation. */
export async function handleRoute(
  ctx: ServeContext,
  generation: Generation,
  route: Route,
  client: ClientInfo,
): Promise<ServeResponse> {
  switch (route.kind) {
    case 'base':
      return jsonResponse(200, {});
    case 'catalog': {
      const { items, headers } = paginate(generation.repositoryNames, route.page, '/v2/_catalog');
      return jsonResponse(200, { repositories: items }, headers);
    }
    default: {
      const pending = generation.repository(route.name);
      if (!pending) return nameUnknown(route.name);
      const repository = await pending;
      if (route.kind === 'tags') {
        const { items, headers } = paginate(repository.tagNames, route.page, `/v2/${route.name}/tags/list`);
        return jsonResponse(200, { name: route.name, tags: items }, headers);
      }
      if (route.kind === 'manifest') return serveManifest(ctx, generation, repository, route, client);
      if (route.kind === 'referrers') return serveReferrers(repository, route);
      return serveBlob(ctx, generation, repository, route.digest, client);
    }
  }
}
