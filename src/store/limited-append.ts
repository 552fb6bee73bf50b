import { WriteStream } from 'node:fs';
import { SizeMismatchError } from '../errors.js';

// @types/node declares fs.WriteStream without the (path, options) constructor it has.
const FileWriteStream = WriteStream as unknown as new (
  path: string,
  options: { flags: string; highWaterMark: number },
) => WriteStream;

type Callback = (error?: Error | null) => void;

/**
 * The file a download appends to, as one stream stage (each stage costs every 64 KiB chunk some
 * callbacks): it refuses bytes past the descriptor's size before they are written (a registry
 * that sends more is cut off at once), counts what passes, and reports the file's length each
 * time a write has landed, which is what the hash follows.
 */
export class LimitedAppend extends FileWriteStream {
  /** The file's length once every accepted byte has landed. */
  length: number;

  constructor(
    file: string,
    private readonly start: number,
    private readonly limit: number | undefined,
    private readonly what: string,
    private readonly onBytes: (n: number) => void,
    private readonly onWritten: (length: number) => void,
  ) {
    super(file, { flags: 'a', highWaterMark: 1 << 20 });
    this.length = start;
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: Callback): void {
    if (this.#accept(chunk.length, callback)) super._write(chunk, encoding, this.#landed(callback));
  }

  override _writev(chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>, callback: Callback): void {
    const bytes = chunks.reduce((sum, { chunk }) => sum + chunk.length, 0);
    if (this.#accept(bytes, callback)) super._writev!(chunks, this.#landed(callback));
  }

  #accept(bytes: number, callback: Callback): boolean {
    if (this.limit !== undefined && this.length + bytes > this.limit) {
      callback(new SizeMismatchError(`${this.what}: more bytes than the descriptor's size ${this.limit}`));
      return false;
    }
    this.length += bytes;
    this.onBytes(bytes);
    return true;
  }

  #landed(callback: Callback): Callback {
    return (error) => {
      if (!error) this.onWritten(this.start + this.bytesWritten);
      callback(error);
    };
  }
}
