import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HashWorkers } from '../../../src/store/hash-workers.js';

const sha = (algorithm: string, ...parts: Buffer[]) => {
  const hash = createHash(algorithm);
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
};

/** Feed `bytes` in chunks of `size`, honouring the session's backpressure as a stream would. */
async function feed(session: ReturnType<HashWorkers['session']>, bytes: Buffer, size: number): Promise<void> {
  for (let offset = 0; offset < bytes.length; offset += size)
    await session.update(bytes.subarray(offset, offset + size));
}

describe('hash workers', () => {
  const pool = new HashWorkers(2);
  let dir: string;
  const data = randomBytes(5 * 1024 * 1024 + 12345);
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'blobmirror-hash-'));
  });
  afterAll(async () => {
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('digests what it is fed, in chunks smaller and larger than a batch, as node:crypto does', async () => {
    for (const size of [1, 1000, 64 * 1024, 3 * 1024 * 1024]) {
      const input = size === 1 ? data.subarray(0, 4096) : data;
      const session = pool.session('sha256');
      await feed(session, input, size);
      expect(await session.digest()).toBe(sha('sha256', input));
    }
    const sha512 = pool.session('sha512');
    await feed(sha512, data, 100_000);
    expect(await sha512.digest()).toBe(sha('sha512', data));
  });

  it('a chunk the caller reuses after update is already copied', async () => {
    const session = pool.session('sha256');
    const scratch = Buffer.alloc(1000);
    const expected = createHash('sha256');
    for (let i = 0; i < 3000; i++) {
      scratch.fill(i % 251);
      expected.update(scratch);
      await session.update(scratch);
    }
    expect(await session.digest()).toBe(expected.digest('hex'));
  });

  it('continues a resumed download: the partial file first, then the bytes that follow', async () => {
    const file = path.join(dir, 'partial');
    await writeFile(file, data.subarray(0, 2_000_000));
    const session = pool.session('sha256');
    await session.hashFile(file);
    await feed(session, data.subarray(2_000_000), 256 * 1024);
    expect(await session.digest()).toBe(sha('sha256', data));
    expect(await pool.hashFile(file, 'sha256')).toBe(sha('sha256', data.subarray(0, 2_000_000)));
  });

  it('many sessions at once on two threads each get their own digest', async () => {
    const inputs = Array.from({ length: 12 }, (_, i) => data.subarray(i * 1000, i * 1000 + 1_500_000));
    const digests = await Promise.all(
      inputs.map(async (input) => {
        const session = pool.session('sha256');
        await feed(session, input, 64 * 1024);
        return session.digest();
      }),
    );
    expect(digests).toEqual(inputs.map((input) => sha('sha256', input)));
  });

  it('a missing file fails with its system error code; a dropped session frees its thread', async () => {
    await expect(pool.hashFile(path.join(dir, 'nope'), 'sha256')).rejects.toMatchObject({ code: 'ENOENT' });
    const dropped = pool.session('sha256');
    await dropped.update(data.subarray(0, 10));
    dropped.drop();
    expect(await pool.hashFile(path.join(dir, 'partial'), 'sha256')).toMatch(/^[0-9a-f]{64}$/);
  });
});
