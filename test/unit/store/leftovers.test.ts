import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLeftover, sweepLeftovers } from '../../../src/store/leftovers.js';

// Above Linux's largest pid_max (2^22): never a live process.
const DEAD = 2 ** 22 + 1;

describe('leftovers of killed runs', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'blobmirror-leftovers-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('names: temp files and .current links of dead writers only', () => {
    expect(isLeftover(`abc.tmp-${DEAD}-x1y2z3`)).toBe(true);
    expect(isLeftover(`abc.link-${DEAD}-x1y2z3`)).toBe(true);
    expect(isLeftover(`.blobmirror-linkcheck-${DEAD}`)).toBe(true);
    expect(isLeftover(`.linkcheck-${DEAD}`)).toBe(true);
    expect(isLeftover(`.current-${DEAD}`)).toBe(true);
    expect(isLeftover(`lock.${DEAD}`)).toBe(true);
    expect(isLeftover(`lock.${process.pid}`)).toBe(false);
    expect(isLeftover(`abc.tmp-${process.pid}-x1y2z3`)).toBe(false);
    expect(isLeftover(`abc.tmp-${process.ppid}-x1y2z3`)).toBe(false);
    for (const name of [
      'current',
      'index.json',
      'a'.repeat(64),
      'lock',
      'lock.takeover',
      `lock.${DEAD}.x`,
      `xlock.${DEAD}`,
      'x.tmp-',
      `.staging-0000000001-${DEAD}`,
    ])
      expect(isLeftover(name), name).toBe(false);
  });

  it('sweeps the top level, or deep when asked, and nothing else', async () => {
    const shard = path.join(dir, 'manifests', 'sha256', 'aa');
    await mkdir(shard, { recursive: true });
    await writeFile(path.join(shard, `aa11.tmp-${DEAD}-q`), 'x');
    await writeFile(path.join(shard, 'aa11'), 'kept');
    await writeFile(path.join(dir, `.blobmirror-linkcheck-${DEAD}`), '');
    await writeFile(path.join(dir, `mine.tmp-${process.pid}-q`), 'in flight');
    await symlink('generations/0000000001', path.join(dir, `.current-${DEAD}`));
    // A run killed between writing its lock candidate and removing it; the lock itself stays.
    await writeFile(path.join(dir, `lock.${DEAD}`), '{}');
    await writeFile(path.join(dir, 'lock'), '{}');
    const removed = await sweepLeftovers([{ dir }, { dir: path.join(dir, 'manifests'), deep: true }]);
    expect(removed.map((f) => path.relative(dir, f)).sort()).toEqual([
      `.blobmirror-linkcheck-${DEAD}`,
      `.current-${DEAD}`,
      `lock.${DEAD}`,
      `manifests/sha256/aa/aa11.tmp-${DEAD}-q`,
    ]);
    expect((await readdir(dir)).sort()).toEqual(['lock', 'manifests', `mine.tmp-${process.pid}-q`]);
    expect(await readdir(shard)).toEqual(['aa11']);
    // A directory that does not exist yet is nothing to sweep.
    expect(await sweepLeftovers([{ dir: path.join(dir, 'missing'), deep: true }])).toEqual([]);
  });
});
