import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SizeMismatchError } from '../errors.js';

/**
 * A digest being computed over a blob's bytes as they arrive: on the main thread
 * (`mainThreadHash`, what sync uses) or on a worker (`HashSession` of `hash-workers`, what
 * `verify --full` uses). `update` returns a promise only when the hasher wants the stream held.
 */
export interface RunningHash {
  update(chunk: Uint8Array): Promise<void> | undefined;
  /** Hash a file's bytes first (what a resumed download already holds). */
  hashFile(file: string): Promise<void>;
  digest(): Promise<string>;
  /** Abandon it (a failed or restarted download); a no-op after digest(). */
  drop(): void;
}

/**
 * Hashing on the main thread, inline with the stream. Measured against hashing on worker
 * threads (1 MiB batches transferred to one worker per core) on the 2-core benchmark machine:
 * the workers cost more than they save there (full sync of the large fixture, 3 interleaved runs:
 * 7.25 s / 9.0 s CPU / 184 MB with workers, 6.42 s / 6.8 s CPU / 133 MB inline), so sync hashes here.
 */
export function mainThreadHash(algorithm: string): RunningHash {
  const hash = createHash(algorithm);
  return {
    update: (chunk) => {
      hash.update(chunk);
      return undefined;
    },
    hashFile: (file) => hashExisting(file, hash),
    digest: () => Promise.resolve(hash.digest('hex')),
    drop: () => {},
  };
}

/**
 * Hashes bytes as they pass (holding the stream while the hasher asks it to) and refuses to pass
 * more than the descriptor's size: a registry that sends more is cut off at once, never written
 * past the promised length.
 */
export class HashingLimiter extends Transform {
  length: number;

  constructor(
    readonly hash: RunningHash,
    start: number,
    private readonly limit: number | undefined,
    private readonly what: string,
    private readonly onBytes: (n: number) => void,
  ) {
    super();
    this.length = start;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.limit !== undefined && this.length + chunk.length > this.limit) {
      callback(new SizeMismatchError(`${this.what}: more bytes than the descriptor's size ${this.limit}`));
      return;
    }
    this.length += chunk.length;
    this.onBytes(chunk.length);
    const busy = this.hash.update(chunk);
    if (busy) busy.then(() => callback(null, chunk), callback);
    else callback(null, chunk);
  }
}

/** Hash what a partial file already holds, so a resumed download continues the same digest. */
export async function hashExisting(file: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
}

export async function appendThrough(
  source: NodeJS.ReadableStream,
  limiter: HashingLimiter,
  file: string,
): Promise<void> {
  await pipeline(source, limiter, createWriteStream(file, { flags: 'a', highWaterMark: 1 << 20 }));
}
