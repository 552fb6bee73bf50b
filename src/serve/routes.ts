import { isDigest, type Digest } from '../oci/digest.js';
import { isRepositoryName, isTag, MAX_REPOSITORY_LENGTH } from '../oci/reference.js';
import { registryError, type ServeResponse } from './responses.js';

// Pure URL -> route parsing. Everything taken from a URL is validated against the OCI grammars
// here, before any handler runs, so handlers only ever see names, tags and digests that cannot
// spell a path (no "..", no "/" smuggled in as %2F, no NUL, no backslash).

export const MAX_URL_LENGTH = 4096;
export const MAX_PAGE_SIZE = 1000;

export type Route =
  | { kind: 'base' }
  | { kind: 'catalog'; page: Page }
  | { kind: 'tags'; name: string; page: Page }
  | { kind: 'manifest'; name: string; reference: { tag: string } | { digest: Digest } }
  | { kind: 'blob'; name: string; digest: Digest }
  | { kind: 'referrers'; name: string; digest: Digest; artifactType: string | undefined };

export interface Page {
  /** Entries wanted; undefined: the server's default page size. */
  n: number | undefined;
  /** Answer entries strictly after this one. */
  last: string | undefined;
}

export type RouteResult = { route: Route } | { error: ServeResponse };

const fail = (error: ServeResponse): RouteResult => ({ error });

function decodeSegments(rawPath: string): string[] | undefined {
  const segments: string[] = [];
  for (const raw of rawPath.split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    // An encoded "/" or "\" would let one URL segment become two path components.
    if (
      segment.includes('/') ||
      segment.includes('\\') ||
      segment.includes('\0') ||
      segment === '.' ||
      segment === '..'
    )
      return undefined;
    segments.push(segment);
  }
  return segments;
}

function parsePage(query: URLSearchParams): Page | ServeResponse {
  const nText = query.get('n');
  let n: number | undefined;
  if (nText !== null) {
    if (!/^\d{1,9}$/.test(nText))
      return registryError(
        400,
        'PAGINATION_NUMBER_INVALID',
        `invalid n=${JSON.stringify(nText.slice(0, 20))}: expected a whole number`,
      );
    // Clamped rather than refused: a client asking for more simply follows the Link header.
    n = Math.min(Number(nText), MAX_PAGE_SIZE);
  }
  return { n, last: query.get('last') ?? undefined };
}

function invalidName(name: string): ServeResponse {
  return registryError(400, 'NAME_INVALID', 'invalid repository name', {
    name: name.slice(0, MAX_REPOSITORY_LENGTH + 1),
    rule: 'lowercase components [a-z0-9] joined by "/", with ".", "_", "__" or "-" inside',
  });
}

/** Parse a request target (`/v2/...?...`). Only the path and the paging query are used. */
export function parseRoute(target: string): RouteResult {
  if (target.length > MAX_URL_LENGTH)
    return fail(registryError(414, 'UNSUPPORTED', `URL longer than ${MAX_URL_LENGTH} characters`));
  if (!target.startsWith('/')) return fail(registryError(400, 'UNSUPPORTED', 'the request target must be a path'));
  const queryAt = target.indexOf('?');
  const rawPath = queryAt < 0 ? target : target.slice(0, queryAt);
  const query = new URLSearchParams(queryAt < 0 ? '' : target.slice(queryAt + 1));
  const segments = decodeSegments(rawPath.slice(1));
  if (!segments)
    return fail(
      registryError(
        400,
        'NAME_INVALID',
        'the path has an encoded "/", "\\", NUL, "." or ".." segment or bad percent-encoding',
      ),
    );
  if (segments.at(-1) === '' && segments.length > 1) segments.pop();
  if (segments[0] !== 'v2')
    return fail(registryError(404, 'UNSUPPORTED', 'not a registry API path; the API is under /v2/'));
  const rest = segments.slice(1);
  if (rest.length === 0) return { route: { kind: 'base' } };
  if (rest.length === 1 && rest[0] === '_catalog') {
    const page = parsePage(query);
    return 'status' in page ? fail(page) : { route: { kind: 'catalog', page } };
  }
  if (rest.length >= 3 && rest.at(-2) === 'tags' && rest.at(-1) === 'list') {
    const name = rest.slice(0, -2).join('/');
    if (!isRepositoryName(name)) return fail(invalidName(name));
    const page = parsePage(query);
    return 'status' in page ? fail(page) : { route: { kind: 'tags', name, page } };
  }
  if (rest.length >= 3 && rest.at(-2) === 'referrers') {
    const name = rest.slice(0, -2).join('/');
    const digest = rest.at(-1)!;
    if (!isRepositoryName(name)) return fail(invalidName(name));
    if (!isDigest(digest))
      return fail(registryError(400, 'DIGEST_INVALID', 'invalid manifest digest', { digest: digest.slice(0, 140) }));
    return { route: { kind: 'referrers', name, digest, artifactType: query.get('artifactType') ?? undefined } };
  }
  if (rest.length >= 3 && (rest.at(-2) === 'manifests' || rest.at(-2) === 'blobs')) {
    const name = rest.slice(0, -2).join('/');
    const reference = rest.at(-1)!;
    const shown = reference.slice(0, 140);
    if (!isRepositoryName(name)) return fail(invalidName(name));
    if (rest.at(-2) === 'blobs') {
      if (!isDigest(reference))
        return fail(registryError(400, 'DIGEST_INVALID', 'invalid blob digest', { digest: shown }));
      return { route: { kind: 'blob', name, digest: reference } };
    }
    if (reference.includes(':')) {
      if (!isDigest(reference))
        return fail(registryError(400, 'DIGEST_INVALID', 'invalid manifest digest', { digest: shown }));
      return { route: { kind: 'manifest', name, reference: { digest: reference } } };
    }
    // distribution answers a reference that is no tag as an unknown manifest.
    if (!isTag(reference)) return fail(registryError(404, 'MANIFEST_UNKNOWN', 'invalid tag', { tag: shown }));
    return { route: { kind: 'manifest', name, reference: { tag: reference } } };
  }
  return fail(registryError(404, 'UNSUPPORTED', 'unknown registry API endpoint'));
}
