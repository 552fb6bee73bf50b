import { matchesAnyRepoPattern } from '../config/repo-pattern.js';
import { joinUrl, type Mirror, type MirrorSet } from '../mirror-list/mirrors.js';
import type { FreshnessView } from './freshness.js';

// Pure mirror selection. Weighted rendezvous (highest random weight) hashing: every mirror gets a
// score from hash(key, mirror) scaled by its weight and the best score wins. That makes the choice
// stable for a key (a client keeps its mirror, and its HTTP caches stay warm), proportional to the
// weights, and disturbs only the clients of a mirror that is added or removed.

/** Where a blob lives: its first module's path, and its path in every module holding it. */
export interface BlobLocation {
  path: string;
  modules: Record<string, string>;
  /** Module -> the generation since which the blob is there (docs/formats.md). */
  firstGeneration?: Record<string, string>;
}

/** Freshness routing on: the checker's view and the generation the request is answered from. */
export interface Freshness {
  view: FreshnessView;
  generation: string;
}

/** Where one blob request goes, and why: for the metrics. */
export interface BlobChoice {
  url: string;
  /** undefined: the master. */
  mirror: Mirror | undefined;
  /** Mirrors ranked above the chosen one that were skipped as not verified to hold the blob. */
  keptOffStale: Mirror[];
}

/**
 * A number in (0, 1) from the key and the mirror, uniform enough for weighting: cyrb53 (two
 * 32-bit multiply-xorshift lanes, 52 of its 53 bits used). It need not be cryptographic, only well spread,
 * and it is computed for every mirror on every blob request: sha256 here held blob redirects to
 * about 3,900/s with 100 mirrors (docs/benchmarks.md, "Mirror freshness").
 */
function unitHash(key: string, mirrorUrl: string): number {
  const text = `${key}\0${mirrorUrl}`;
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  // 52 bits, so that bits + 0.5 is exact: shifted off 0 and 1, the logarithm below is finite and nonzero.
  const bits = 4294967296 * (h2 & 0xfffff) + (h1 >>> 0);
  return (bits + 0.5) / 2 ** 52;
}

function score(key: string, mirror: Mirror): number {
  // -w / ln(u): the probability that a mirror wins is its share of the total weight.
  return -mirror.weight / Math.log(unitHash(key, mirror.url));
}

export function mirrorsCarrying(set: MirrorSet, repository: string): Mirror[] {
  return set.mirrors.filter((mirror) => matchesAnyRepoPattern(mirror.repositories, repository));
}

/** The modules holding the blob that this mirror carries, by name. */
function modulesOnMirror(mirror: Mirror, blob: BlobLocation): string[] {
  const names = Object.keys(blob.modules).sort();
  return mirror.modules ? names.filter((name) => mirror.modules!.includes(name)) : names;
}

/** The blob's path on this mirror: in the first module (by name) the mirror carries, if any. */
export function pathOnMirror(mirror: Mirror, blob: BlobLocation): string | undefined {
  if (!mirror.modules) return blob.path;
  const carried = modulesOnMirror(mirror, blob)[0];
  return carried === undefined ? undefined : blob.modules[carried];
}

/**
 * The blob's path on this mirror when the mirror may be sent the blob: without freshness, as
 * pathOnMirror; with it, in the first carried module where the checker verified it.
 */
function placeOnMirror(
  mirror: Mirror,
  blob: BlobLocation,
  freshness: Freshness | undefined,
): { path: string } | { skipped: 'stale' | 'out' } | undefined {
  if (!freshness) {
    const at = pathOnMirror(mirror, blob);
    return at === undefined ? undefined : { path: at };
  }
  const candidates = modulesOnMirror(mirror, blob);
  if (!candidates.length) return undefined;
  const verdict = freshness.view.verdict(mirror.url, blob, candidates, freshness.generation);
  if (!verdict.ok) return { skipped: verdict.why };
  // The single-module layout has the blob at `path` (modules may be absent in old metadata).
  return { path: blob.modules[verdict.module] ?? blob.path };
}

/**
 * Mirrors that carry `repository`, best first for `key`. When the client's country is known,
 * mirrors in it come first (then the rest, so a country with one mirror still has fallbacks).
 */
export function rankMirrors(
  set: MirrorSet,
  repository: string,
  key: string,
  country?: string,
  blob?: BlobLocation,
): Mirror[] {
  const carrying = mirrorsCarrying(set, repository).filter(
    (mirror) => !blob || pathOnMirror(mirror, blob) !== undefined,
  );
  const scored = carrying.map((mirror) => ({ mirror, score: score(key, mirror) }));
  const local = country?.toUpperCase();
  const rank = (m: Mirror) => (local !== undefined && m.country === local ? 0 : 1);
  scored.sort((a, b) => rank(a.mirror) - rank(b.mirror) || b.score - a.score);
  return scored.map((s) => s.mirror);
}

/** Where a client is sent for a blob: its best mirror that may have it, or the master when none may. */
export function chooseBlob(
  set: MirrorSet,
  repository: string,
  blob: BlobLocation,
  clientKey: string,
  country?: string,
  freshness?: Freshness,
): BlobChoice {
  const keptOffStale: Mirror[] = [];
  for (const mirror of rankMirrors(set, repository, clientKey, country, blob)) {
    const place = placeOnMirror(mirror, blob, freshness);
    if (place && 'path' in place) return { url: joinUrl(mirror.url, place.path), mirror, keptOffStale };
    if (place?.skipped === 'stale') keptOffStale.push(mirror);
  }
  return { url: joinUrl(set.master, blob.path), mirror: undefined, keptOffStale };
}

export function chooseBlobUrl(
  set: MirrorSet,
  repository: string,
  blob: BlobLocation,
  clientKey: string,
  country?: string,
  freshness?: Freshness,
): string {
  return chooseBlob(set, repository, blob, clientKey, country, freshness).url;
}

/**
 * The `urls` of a blob descriptor in urls mode: the best `count` mirrors that may have the blob,
 * then the master. Keyed by the blob, not the client, so every client sees the same manifest
 * bytes (and so the same digest) while the blobs of one image still spread over the mirrors.
 */
export function blobUrlsFor(
  set: MirrorSet,
  repository: string,
  blobDigest: string,
  blob: BlobLocation,
  count: number,
  freshness?: Freshness,
): string[] {
  const urls: string[] = [];
  for (const mirror of rankMirrors(set, repository, blobDigest, undefined, blob)) {
    if (urls.length === count) break;
    const place = placeOnMirror(mirror, blob, freshness);
    if (place && 'path' in place) urls.push(joinUrl(mirror.url, place.path));
  }
  return [...urls, joinUrl(set.master, blob.path)];
}
