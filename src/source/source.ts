import type { Readable } from 'node:stream';
import type { TooLargeError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import type { Descriptor, Manifest } from '../oci/manifest.js';

/** What a HEAD of a tag tells: enough to decide whether the tag moved. */
export interface ManifestHead {
  digest: Digest;
  mediaType: string;
}

/** A manifest whose bytes were verified against `digest`. */
export interface FetchedManifest {
  digest: Digest;
  mediaType: string;
  bytes: Buffer;
  manifest: Manifest;
}

export interface BlobStream {
  stream: Readable;
  /** Offset of the first byte of `stream`: the asked offset, or 0 when the source ignored Range. */
  start: number;
}

/**
 * What the caller will keep of a listing, so that a hostile one costs no more than that: once more
 * than `max` distinct entries satisfy `counts`, a paged listing stops reading (no further page, no
 * names kept) and throws `refuse()`. A source whose listing is in memory already may return it
 * whole; the caller checks what it selects again.
 */
export interface ListingLimit {
  max: number;
  counts(entry: string): boolean;
  refuse(): TooLargeError;
}

/** Request counters, reported in the summary and used by tests. */
export interface SourceStats {
  manifestHeads: number;
  manifestGets: number;
  blobGets: number;
  tagLists: number;
  catalogPages: number;
  /** Referrers API requests (pages), including the one that finds the source has no such API. */
  referrers: number;
}

/**
 * One set of verbs for every backend (registry, OCI layout), so sync never cares where images
 * come from. Every method validates what it returns; blob bytes are verified by the store.
 */
export interface Source {
  /** Human description without credentials, e.g. `https://registry.example.org`. */
  readonly description: string;
  readonly stats: SourceStats;
  /** Catalog entries, not yet validated as repository names (the caller skips bad ones). */
  listRepositories(): Promise<string[]>;
  listTags(repository: string, limit?: ListingLimit): Promise<string[]>;
  headManifest(repository: string, tag: string): Promise<ManifestHead>;
  /** `reference` is a tag or a digest; with a digest the bytes must hash to it. */
  getManifest(repository: string, reference: string): Promise<FetchedManifest>;
  /**
   * OCI 1.1 referrers of a manifest (descriptors of the artifacts whose `subject` it is), or
   * undefined when the source has no referrers API: the caller then reads the fallback tag.
   */
  listReferrers(repository: string, digest: Digest): Promise<Descriptor[] | undefined>;
  /**
   * Bytes of a blob from `offset`; sources honour Range where they can. An aborted `signal` ends
   * the request and the stream with its reason.
   */
  openBlob(repository: string, digest: Digest, offset: number, signal?: AbortSignal): Promise<BlobStream>;
  /** A signal bounding one blob's whole transfer (`what` names it), for sources that have a deadline. */
  blobDeadline?(what: string): AbortSignal;
  close(): Promise<void>;
}

export function emptyStats(): SourceStats {
  return { manifestHeads: 0, manifestGets: 0, blobGets: 0, tagLists: 0, catalogPages: 0, referrers: 0 };
}
