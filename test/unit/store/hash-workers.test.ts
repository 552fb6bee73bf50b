import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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
});
