import type { Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SizeMismatchError } from '../errors.js';
import type { HashSession } from './hash-workers.js';

/**
 * Hashes bytes as they pass (on a worker thread: `hash` is a session of the hash pool, whose
 * backpressure holds the stream while every batch is being hashed) and refuses to pass more than
 * the descriptor's size: a registry that sends more is cut off at once, never written past the
 * promised length.
 */
export class HashingLimiter extends Transform {
  length: number;

  constructor(
    readonly hash: HashSession,
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
