import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Digest } from '../../../src/oci/digest.js';
import { ObjectStore } from '../../../src/store/object-store.js';
import { partialPath } from '../../../src/store/paths.js';

const digestOf = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest;

/** A source serving `bytes` from the asked offset, in 64 KiB chunks (`honourRange: false` starts at 0). */
function serving(bytes: Buffer, options: { honourRange?: boolean; extra?: Buffer } = {}) {
  const asked: number[] = [];
  const open = async (offset: number) => {
    asked.push(offset);
    const start = options.honourRange === false ? 0 : offset;
    const body = Buffer.concat([bytes.subarray(start), options.extra ?? Buffer.alloc(0)]);
    const chunks = Array.from({ length: Math.ceil(body.length / 65536) }, (_, i) =>
      body.subarray(i * 65536, (i + 1) * 65536),
    );
    return { stream: Readable.from(chunks), start };
  };
  return { open, asked };
}

describe('object store ingest', () => {
  let dir: string;
  let store: ObjectStore;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'blobmirror-store-'));
    store = new ObjectStore(path.join(dir, 'state'), path.join(dir, 'tree'));
    await store.init();
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('stores a blob verified, byte for byte', async () => {
    const bytes = randomBytes(9 << 20);
    const digest = digestOf(bytes);
    const result = await store.ingest(digest, bytes.length, 'blob', serving(bytes).open, () => {});
    expect(result).toEqual({ fetched: bytes.length, resumedFrom: 0 });
    expect((await readFile(store.objectPath(digest))).equals(bytes)).toBe(true);
  });

  it('stores an empty blob (no byte to write, still a file)', async () => {
    const empty = Buffer.alloc(0);
    await store.ingest(digestOf(empty), 0, 'blob', serving(empty).open, () => {});
    expect((await stat(store.objectPath(digestOf(empty)))).size).toBe(0);
  });

  it('continues a partial file with Range and hashes its bytes too', async () => {
    const bytes = randomBytes(6 << 20);
    const digest = digestOf(bytes);
    await writeFile(partialPath(store.layout, digest), bytes.subarray(0, 5 << 20));
    const source = serving(bytes);
    const result = await store.ingest(digest, bytes.length, 'blob', source.open, () => {});
    expect(source.asked).toEqual([5 << 20]);
    expect(result).toEqual({ fetched: 1 << 20, resumedFrom: 5 << 20 });
    expect((await readFile(store.objectPath(digest))).equals(bytes)).toBe(true);
  });

  it('a source that ignores Range restarts the partial from zero', async () => {
    const bytes = randomBytes(3 << 20);
    const digest = digestOf(bytes);
    await writeFile(partialPath(store.layout, digest), bytes.subarray(0, 1 << 20));
    const source = serving(bytes, { honourRange: false });
    await store.ingest(digest, bytes.length, 'blob', source.open, () => {});
    expect(source.asked).toEqual([1 << 20, 0]);
    expect((await readFile(store.objectPath(digest))).equals(bytes)).toBe(true);
  });

  it('a partial holding wrong bytes is fetched again from zero once, then stored right', async () => {
    const bytes = randomBytes(2 << 20);
    const digest = digestOf(bytes);
    await writeFile(partialPath(store.layout, digest), randomBytes(1 << 20));
    const source = serving(bytes);
    await store.ingest(digest, bytes.length, 'blob', source.open, () => {});
    expect(source.asked).toEqual([1 << 20, 0]);
    expect((await readFile(store.objectPath(digest))).equals(bytes)).toBe(true);
  });

  it('more bytes than the size: SIZE_MISMATCH, no object and no partial left', async () => {
    const bytes = randomBytes(100_000);
    const digest = digestOf(bytes);
    const source = serving(bytes, { extra: Buffer.from('x') });
    await expect(store.ingest(digest, bytes.length, 'blob b', source.open, () => {})).rejects.toMatchObject({
      code: 'SIZE_MISMATCH',
      message: "blob b: more bytes than the descriptor's size 100000",
    });
    await expect(stat(store.objectPath(digest))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(stat(partialPath(store.layout, digest))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
