import { WriteStream } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SizeMismatchError } from '../errors.js';

/**
 * Counts bytes as they pass and refuses to pass more than the descriptor's size: a registry that
 * sends more is cut off at once, never written past the promised length.
 */
export class SizeLimiter extends Transform {
  length: number;

  constructor(
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
    callback(null, chunk);
  }
}

// @types/node declares fs.WriteStream without the (path, options) constructor it has.
const FileWriteStream = WriteStream as unknown as new (
  path: string,
  options: { flags: string; highWaterMark: number },
) => WriteStream;

/** An appending file stream that says how long the file is after each write has landed. */
class ReportingAppend extends FileWriteStream {
  constructor(
    file: string,
    private readonly start: number,
    private readonly onWritten: (length: number) => void,
  ) {
    super(file, { flags: 'a', highWaterMark: 1 << 20 });
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    super._write(chunk, encoding, this.#report(callback));
  }

  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    callback: (error?: Error | null) => void,
  ): void {
    super._writev!(chunks, this.#report(callback));
  }

  #report(callback: (error?: Error | null) => void) {
    return (error?: Error | null) => {
      if (!error) this.onWritten(this.start + this.bytesWritten);
      callback(error);
    };
  }
}

/**
 * Append a body to `file` (which holds `limiter.length` bytes already) through the limiter;
 * `onWritten` learns the file's length as writes land, which is what the hash follows.
 */
export async function appendThrough(
  source: NodeJS.ReadableStream,
  limiter: SizeLimiter,
  file: string,
  onWritten: (length: number) => void,
): Promise<void> {
  await pipeline(source, limiter, new ReportingAppend(file, limiter.length, onWritten));
}
