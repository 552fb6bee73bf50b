import { link, mkdir, rename, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DigestMismatchError, IntegrityError, SizeMismatchError, StoreError, fsError, isRetryable } from '../errors.js';
import { parseDigest, type Digest } from '../oci/digest.js';
import type { BlobStream } from '../source/source.js';
import { fsyncPath, replaceWithLink } from './fs-durable.js';
import { objectPath, partialPath, stateLayout, type StateLayout } from './paths.js';
import { HashWorkers, type FollowedHash } from './hash-workers.js';
import { LimitedAppend } from './limited-append.js';

export interface IngestResult {
  /** Bytes received from the source in this call. */
  fetched: number;
  /** Bytes of an earlier interrupted download that were reused. */
  resumedFrom: number;
}

export type LinkOutcome = 'created' | 'present' | 'replaced';

/** Times a broken stream is resumed with Range before the blob counts as failed. */
const STREAM_ATTEMPTS = 6;

/**
 * Where downloads are hashed: one pool per process, its threads started on first use and idle
 * (not holding the process open) between downloads. One thread fewer than the cores: the main
 * thread keeps one busy with HTTP and writes, and every thread costs memory (docs/benchmarks.md).
 */
const sharedHashWorkers = new HashWorkers(Math.max(1, availableParallelism() - 1));

/**
 * The content-addressed store plus the tree it links into. Objects appear only verified
 * (size and digest checked while streaming, fsync, rename); tree paths are hardlinks to them.
 */
export class ObjectStore {
  readonly layout: StateLayout;
  readonly #madeDirs = new Set<string>();
  readonly #touchedDirs = new Set<string>();

  constructor(
    stateDir: string,
    readonly treeDir: string,
    /** Hashes a download by following its partial file on another thread (docs/benchmarks.md). */
    private readonly hashers: HashWorkers = sharedHashWorkers,
  ) {
    this.layout = stateLayout(stateDir);
  }

  async init(): Promise<void> {
    for (const dir of [this.layout.objects, this.layout.partial, this.layout.tmp, this.treeDir]) await this.#mkdir(dir);
  }

  objectPath(digest: Digest): string {
    return objectPath(this.layout, digest);
  }

  /** Present and of the expected size (a cheap check; `verify --full` re-hashes). */
  async has(digest: Digest, size: number | undefined): Promise<boolean> {
    try {
      const info = await stat(this.objectPath(digest));
      return size === undefined || info.size === size;
    } catch {
      return false;
    }
  }

  /**
   * Download a blob into the store. A partial file left by an earlier attempt or a killed run is
   * continued with Range (its bytes hashed by the same follower as the new ones); a source that
   * ignores Range restarts it from zero.
   */
  async ingest(
    digest: Digest,
    size: number | undefined,
    what: string,
    open: (offset: number) => Promise<BlobStream>,
    onBytes: (n: number) => void,
    /** Called once with the bytes of a partial file this download continues from. */
    onResumed: (n: number) => void = () => {},
  ): Promise<IngestResult> {
    return this.#ingest(digest, size, what, open, onBytes, false, onResumed);
  }

  async #ingest(
    digest: Digest,
    size: number | undefined,
    what: string,
    open: (offset: number) => Promise<BlobStream>,
    onBytes: (n: number) => void,
    refetched: boolean,
    onResumed: (n: number) => void = () => {},
  ): Promise<IngestResult> {
    const partial = partialPath(this.layout, digest);
    let { hash, length } = await this.#resumeState(partial, digest, size);
    try {
      const resumedFrom = length;
      if (resumedFrom > 0) onResumed(resumedFrom);
      let fetched = 0;
      // A run killed after the last byte but before the rename left a complete partial file.
      let done = size !== undefined && length === size;
      // An empty blob has no byte to write, but its object is a file all the same.
      if (done && length === 0) await writeFile(partial, new Uint8Array(), { flag: 'a' });
      for (let attempt = 1; !done; attempt++) {
        let file: LimitedAppend | undefined;
        try {
          const { stream, start } = await open(length);
          if (start === 0 && length > 0) {
            stream.destroy();
            // Before the file shrinks: the worker must not read the next download's bytes as these.
            hash.drop();
            await truncate(partial, 0);
            return await this.#restart(digest, size, what, open, onBytes, { fetched, refetched });
          }
          file = new LimitedAppend(
            partial,
            length,
            size,
            what,
            (n) => {
              fetched += n;
              onBytes(n);
            },
            (n) => hash.written(n),
          );
          await pipeline(stream, file);
          length = file.length;
          // Without a size (schema1) one complete body is the blob; otherwise resume a short one.
          done = size === undefined || length === size;
          if (!done && attempt >= STREAM_ATTEMPTS)
            throw new SizeMismatchError(`${what}: body ended at ${length} of ${size} bytes`);
        } catch (error) {
          if (error instanceof IntegrityError) {
            await unlink(partial).catch(() => {});
            throw error;
          }
          // The transport already retried opening: only a body that broke mid-way is resumed here.
          if (!file || !isRetryable(error) || attempt >= STREAM_ATTEMPTS) throw fsError('writing', what, error);
          // Go on from what the file really holds (all of it when the connection dropped after the
          // last byte). The hash carries on: it was told only lengths that had landed, and the
          // file only grows.
          ({ hash, length } = await this.#resumeState(partial, digest, size, hash));
          done = size !== undefined && length === size;
        }
      }
      const actual = await hash.digest(length).catch((error: unknown) => {
        throw fsError('hashing', what, error);
      });
      if (actual !== parseDigest(digest).hex) {
        await unlink(partial).catch(() => {});
        // One download from zero decides: a partial file from an earlier run may hold bytes that
        // were never the blob's (a power loss keeps a file's length, not always its data), and a
        // byte damaged in transit (a bad NIC, a proxy) is rarely damaged twice the same way.
        if (!refetched) return await this.#restart(digest, size, what, open, onBytes, { fetched, refetched: true });
        throw new DigestMismatchError(
          `${what}: content hashes to ${parseDigest(digest).algorithm}:${actual}, not ${digest}`,
        );
      }
      await this.#commit(partial, digest, what);
      return { fetched, resumedFrom };
    } finally {
      // A session not digested (a failure, a restart) is abandoned; after digest() this is a no-op.
      hash.drop();
    }
  }

  /** The partial file's length and the hash following it (`kept`, unless the file had to be emptied). */
  async #resumeState(
    partial: string,
    digest: Digest,
    size: number | undefined,
    kept?: FollowedHash,
  ): Promise<{ hash: FollowedHash; length: number }> {
    let length = await stat(partial).then(
      (s) => s.size,
      () => 0,
    );
    if (size !== undefined && length > size) {
      kept?.drop();
      kept = undefined;
      await truncate(partial, 0);
      length = 0;
    }
    // What a partial file already holds is hashed by the same follower, behind the new bytes.
    const hash = kept ?? this.hashers.follow(partial, parseDigest(digest).algorithm);
    hash.written(length);
    return { hash, length };
  }

  /** Start over from byte 0; the bytes already received still count as fetched. */
  async #restart(
    digest: Digest,
    size: number | undefined,
    what: string,
    open: (offset: number) => Promise<BlobStream>,
    onBytes: (n: number) => void,
    earlier: { fetched: number; refetched: boolean },
  ): Promise<IngestResult> {
    const result = await this.#ingest(digest, size, what, open, onBytes, earlier.refetched);
    return { fetched: earlier.fetched + result.fetched, resumedFrom: 0 };
  }

  async #commit(partial: string, digest: Digest, what: string): Promise<void> {
    const target = this.objectPath(digest);
    try {
      await fsyncPath(partial);
      await this.#mkdir(path.dirname(target));
      await rename(partial, target);
      this.#touchedDirs.add(path.dirname(target));
    } catch (error) {
      throw fsError('storing', what, error);
    }
  }

  /**
   * Make `<tree>/<relativePath>` (a path built by `blobPaths` from a validated repository name and
   * digest) a hardlink of the stored object.
   */
  async linkIntoTree(relativePath: string, digest: Digest): Promise<LinkOutcome> {
    const source = this.objectPath(digest);
    const target = path.join(this.treeDir, relativePath);
    const dir = path.dirname(target);
    try {
      await this.#mkdir(dir);
      this.#touchedDirs.add(dir);
      try {
        await link(source, target);
        return 'created';
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const [a, b] = await Promise.all([stat(source), stat(target)]);
      if (a.ino === b.ino && a.dev === b.dev) return 'present';
      // A copy (restored without -H) or a stray file: replace it by the verified object.
      await replaceWithLink(source, target, this.layout.tmp);
      return 'replaced';
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        throw new StoreError(`object ${digest} vanished from the store while linking it to ${relativePath}`);
      throw fsError('linking', `${digest} to ${relativePath}`, error);
    }
  }

  /** Make every new object and tree link durable before metadata points at them. */
  async syncDirectories(): Promise<void> {
    for (const dir of this.#touchedDirs) await fsyncPath(dir);
    this.#touchedDirs.clear();
  }

  async #mkdir(dir: string): Promise<void> {
    if (this.#madeDirs.has(dir)) return;
    await mkdir(dir, { recursive: true }).catch((error: unknown) => {
      throw fsError('creating', dir, error);
    });
    this.#madeDirs.add(dir);
  }
}
