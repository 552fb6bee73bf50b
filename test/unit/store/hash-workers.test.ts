import { createHash, randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HashWorkers } from '../../../src/store/hash-workers.js';

const sha = (algorithm: string, bytes: Buffer) => createHash(algorithm).update(bytes).digest('hex');

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

  it('digests whole files as node:crypto does, sha256 and sha512', async () => {
    const file = path.join(dir, 'blob');
    await writeFile(file, data);
    expect(await pool.hashFile(file, 'sha256')).toBe(sha('sha256', data));
    expect(await pool.hashFile(file, 'sha512')).toBe(sha('sha512', data));
  });

  it('many files at once on two threads each get their own digest', async () => {
    const inputs = Array.from({ length: 12 }, (_, i) => data.subarray(i * 1000, i * 1000 + 1_500_000));
    const files = await Promise.all(
      inputs.map(async (input, i) => {
        const file = path.join(dir, `part-${i}`);
        await writeFile(file, input);
        return file;
      }),
    );
    expect(await Promise.all(files.map((file) => pool.hashFile(file, 'sha256')))).toEqual(
      inputs.map((input) => sha('sha256', input)),
    );
  });

  it('a missing file fails with its system error code, and the pool goes on', async () => {
    await expect(pool.hashFile(path.join(dir, 'nope'), 'sha256')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await pool.hashFile(path.join(dir, 'blob'), 'sha256')).toBe(sha('sha256', data));
  });

  it('follows a file as it is appended and digests the bytes it was told of', async () => {
    const file = path.join(dir, 'growing');
    const job = pool.follow(file, 'sha256');
    // The file does not exist until the first write lands: the worker opens it on first read.
    // Steps crossing the 4 MiB a follower lets pile up, so the worker hashes while the file grows.
    const big = Buffer.concat([data, data]);
    let length = 0;
    for (const size of [300_000, 3_500_000, 2_000_000, 3_000_000, 1_200_000, 7]) {
      await appendFile(file, big.subarray(length, length + size));
      length += size;
      job.written(length);
    }
    // Bytes beyond the length asked for (a later write) are not part of the digest.
    await appendFile(file, Buffer.from('trailing'));
    expect(length).toBeGreaterThan(8 << 20);
    expect(await job.digest(length)).toBe(sha('sha256', big.subarray(0, length)));
  });

  it('a file shorter than the length asked for fails as ESHORT; a dropped job cannot be digested', async () => {
    const file = path.join(dir, 'short');
    await writeFile(file, data.subarray(0, 1000));
    const job = pool.follow(file, 'sha256');
    await expect(job.digest(2000)).rejects.toMatchObject({ code: 'ESHORT' });
    const dropped = pool.follow(file, 'sha256');
    dropped.written(1000);
    dropped.drop();
    await expect(dropped.digest(1000)).rejects.toThrow(/dropped/);
    expect(await pool.follow(file, 'sha256').digest(1000)).toBe(sha('sha256', data.subarray(0, 1000)));
  });

  it('a thread that dies fails its jobs instead of leaving them waiting; the next job gets a new thread', async () => {
    const file = path.join(dir, 'blob');
    const own = new HashWorkers(1);
    const job = own.follow(file, 'sha256');
    job.written(data.length);
    await own.close();
    await expect(job.digest()).rejects.toThrow(/exited/);
    expect(await own.hashFile(file, 'sha256')).toBe(sha('sha256', data));
    await own.close();
  });
});
