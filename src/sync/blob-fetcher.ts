import { stat } from 'node:fs/promises';
import { SizeMismatchError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import type { BlobRef } from '../oci/manifest.js';
import type { Source } from '../source/source.js';
import type { ObjectStore } from '../store/object-store.js';
import type { SyncEvents } from './events.js';
import { SingleFlight } from './single-flight.js';

export interface FetchCounters {
  fetched: number;
  reused: number;
  bytesFetched: number;
  bytesResumed: number;
}

/**
 * Single-flight blob fetching: however many repositories and tags need a blob in one run, it is
 * downloaded at most once, and never when the store already has it.
 */
export class BlobFetcher {
  readonly counters: FetchCounters = { fetched: 0, reused: 0, bytesFetched: 0, bytesResumed: 0 };
  readonly #inflight = new SingleFlight<Digest, number>();

  constructor(
    private readonly source: Source,
    private readonly store: ObjectStore,
    private readonly events: SyncEvents,
  ) {}

  /** Resolves to the blob's size once it is in the store; `repository` is the pull scope. */
  async ensure(repository: string, blob: BlobRef): Promise<number> {
    const size = await this.#inflight.run(blob.digest, () => this.#fetch(repository, blob));
    // Two manifests naming one digest with different sizes: one of them lies.
    if (blob.size !== undefined && blob.size !== size) {
      throw new SizeMismatchError(
        `blob ${blob.digest} in ${repository}: descriptor says ${blob.size} bytes, the verified blob has ${size}`,
      );
    }
    return size;
  }

  async #fetch(repository: string, blob: BlobRef): Promise<number> {
    if (await this.store.has(blob.digest, blob.size)) {
      this.counters.reused++;
      return blob.size ?? (await stat(this.store.objectPath(blob.digest))).size;
    }
    const what = `blob ${blob.digest} of ${repository}`;
    this.events.blobStarted?.(blob.digest, blob.size);
    // One deadline for every attempt and resume of this blob: retries are bounded in time too.
    const deadline = this.source.blobDeadline?.(what);
    const result = await this.store.ingest(
      blob.digest,
      blob.size,
      what,
      (offset) => this.source.openBlob(repository, blob.digest, offset, deadline),
      (n) => this.events.bytes?.(n),
      (n) => this.events.bytesResumed?.(n),
    );
    this.counters.fetched++;
    this.counters.bytesFetched += result.fetched;
    this.counters.bytesResumed += result.resumedFrom;
    this.events.blobDone?.(blob.digest);
    return blob.size ?? (await stat(this.store.objectPath(blob.digest))).size;
  }
}
