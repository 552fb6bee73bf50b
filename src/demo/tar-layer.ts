import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, createGzip } from 'node:zlib';
import { makeDigest, type Digest } from '../oci/digest.js';
import type { OciLayoutWriter } from '../oci-layout/write-layout.js';

const BLOCK = 512;
const CHUNK = 1024 * 1024;
// Big layers are split into a few files, as real images have more than one file per layer.
const MAX_FILE_BYTES = 256 * 1024 * 1024;
const ZEROS = Buffer.alloc(CHUNK);

export interface GeneratedLayer {
  /** Digest and size of the gzip blob. */
  digest: Digest;
  size: number;
  /** sha256 of the uncompressed tar: the image config's `rootfs.diff_ids` entry. */
  diffId: Digest;
}

export interface LayerContent {
  /** Everything about the bytes derives from this string. */
  seed: string;
  /** Bytes of file content in the layer (the tar adds headers and padding). */
  contentBytes: number;
  /** Shown in file names, e.g. `base` or `stable/httpd:2.4`. */
  label: string;
  /** Seconds since the epoch for every tar entry. */
  mtime: number;
}

/**
 * Writes one layer blob: a ustar archive of pseudo-random files, gzipped, streamed chunk by chunk
 * so a layer of any size costs a few MiB of memory.
 */
export async function writeTarLayer(writer: OciLayoutWriter, content: LayerContent): Promise<GeneratedLayer> {
  const diffHash = createHash('sha256');
  const tar = Readable.from(hashed(tarChunks(content), diffHash));
  // Random data does not compress, and deflate's match search on it runs at ~55 MiB/s even at
  // level 1; Huffman-only skips that search (~4x faster) and is still plain gzip to every reader.
  const gzip = createGzip({ level: 1, strategy: constants.Z_HUFFMAN_ONLY, chunkSize: CHUNK });
  const [, blob] = await Promise.all([pipeline(tar, gzip), writer.writeBlob(gzip)]);
  return { ...blob, diffId: makeDigest('sha256', diffHash.digest('hex')) };
}

function* hashed(chunks: Iterable<Buffer>, hash: ReturnType<typeof createHash>): Generator<Buffer> {
  for (const chunk of chunks) {
    hash.update(chunk);
    yield chunk;
  }
}

function* tarChunks({ seed, contentBytes, label, mtime }: LayerContent): Generator<Buffer> {
  const dir = `opt/blobmirror/${slug(label, seed)}/`;
  yield tarHeader(dir, 0, '5', 0o755, mtime);
  const random = keystream(seed);
  const files = Math.max(1, Math.ceil(contentBytes / MAX_FILE_BYTES));
  let left = contentBytes;
  for (let i = 0; i < files; i++) {
    const size = Math.ceil(left / (files - i));
    left -= size;
    yield tarHeader(`${dir}data-${i}.bin`, size, '0', 0o644, mtime);
    for (let done = 0; done < size; done += CHUNK) yield random(Math.min(CHUNK, size - done));
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (pad > 0) yield Buffer.alloc(pad);
  }
  // End of archive: two zero blocks.
  yield Buffer.alloc(2 * BLOCK);
}

/** AES-128-CTR over zeros: seeded, fast (GB/s with AES-NI), and incompressible like real layers. */
function keystream(seed: string): (length: number) => Buffer {
  const material = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-128-ctr', material.subarray(0, 16), material.subarray(16, 32));
  return (length) => cipher.update(ZEROS.subarray(0, length));
}

// A readable, unique, short path component: tar's plain ustar name field holds 100 bytes.
function slug(label: string, seed: string): string {
  const readable = label
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .slice(0, 40);
  return `${readable}-${createHash('sha256').update(seed).digest('hex').slice(0, 8)}`;
}

function tarHeader(name: string, size: number, type: '0' | '5', mode: number, mtime: number): Buffer {
  const header = Buffer.alloc(BLOCK);
  header.write(name, 0, 100, 'utf8');
  octal(header, 100, 8, mode);
  octal(header, 108, 8, 0); // uid
  octal(header, 116, 8, 0); // gid
  octal(header, 124, 12, size);
  octal(header, 136, 12, mtime);
  header.write(type, 156, 1, 'latin1');
  header.write('ustar\0' + '00', 257, 8, 'latin1');
  header.write('root', 265, 32, 'latin1');
  header.write('root', 297, 32, 'latin1');
  octal(header, 329, 8, 0); // devmajor
  octal(header, 337, 8, 0); // devminor
  // The checksum is computed with its own field read as eight spaces.
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return header;
}

function octal(header: Buffer, offset: number, length: number, value: number): void {
  header.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'latin1');
}
