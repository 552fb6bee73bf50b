// Issue 8: disk full. The storage root sits on a small tmpfs (mounted by the test, as root); a
// sync that runs out of space fails with DISK_FULL, the published generation stays intact and
// served, and once space is freed (the tmpfs grown) the next sync completes, resuming the partial
// download. Where mounting is not permitted, ENOSPC is injected into the child's write streams
// by a preloaded test hook (test/helpers/enospc-hook.mjs) instead.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateImages, type GeneratedImages } from '../../src/demo/image-generator.js';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import { jsonOf, runCli, writeTestConfig } from '../helpers/cli.js';
import { pushLayout, retag } from '../helpers/push.js';
import { startRegistry, type RegistryHandle } from '../helpers/registry.js';
import { masterOnlyMirrors } from '../helpers/mirrors-file.js';
import { startServe } from '../helpers/serve-process.js';
import { snapshot, tempFiles, treeProblems } from '../helpers/tree-check.js';

const run = promisify(execFile);
const KiB = 1024;
const MiB = 1024 * KiB;
const spec = () =>
  fixtureSpec({
    seed: 'disk-full',
    repos: 2,
    tagsPerRepo: 1,
    baseBytes: 256 * KiB,
    repoBytes: 64 * KiB,
    tagBytes: 16 * KiB,
  });

async function tryMountTmpfs(dir: string, size: string): Promise<boolean> {
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
    return true;
  } catch {
    return false;
  }
}

describe('disk full', () => {
  let registry: RegistryHandle;
  let work: string;
  let fsDir: string;
  let mounted = false;
  let grown: GeneratedImages;

  beforeAll(async () => {
    registry = await startRegistry();
    work = await mkdtemp(path.join(tmpdir(), 'blobmirror-diskfull-'));
    await generateImages(spec(), path.join(work, 'layout'));
    await pushLayout(registry, path.join(work, 'layout'));
    fsDir = path.join(work, 'fs');
    await mkdir(fsDir);
    mounted = await tryMountTmpfs(fsDir, '2m');
    if (!mounted) console.log('disk-full: cannot mount a tmpfs here; injecting ENOSPC into write streams instead');
  });

  afterAll(async () => {
    if (mounted) await run('umount', ['-l', fsDir]).catch(() => {});
    await registry?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('fails with DISK_FULL, keeps the published generation served, completes once space is freed', async () => {
    const config = await writeTestConfig({ registryUrl: registry.url, include: ['stable/**'] }, fsDir);
    const metadata = path.join(config.root, 'metadata');
    const first = await runCli(['sync', '-c', config.file, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const generation = await readlink(path.join(metadata, 'current'));
    const published = await snapshot(metadata);
    const tree = await snapshot(path.join(config.root, 'tree'));

    // A new tag whose own layer does not fit.
    const bigger = spec();
    bigger.repositories = bigger.repositories.filter((r) => r.name === 'stable/app-1');
    bigger.repositories[0]!.tags = [{ tag: '2.0', unique: [3 * MiB] }];
    grown = await generateImages(bigger, path.join(work, 'layout2'));
    await pushLayout(registry, path.join(work, 'layout2'));

    const env = mounted
      ? {}
      : {
          NODE_OPTIONS: `--import ${path.resolve(import.meta.dirname, '../helpers/enospc-hook.mjs')}`,
          ENOSPC_DIR: path.join(config.root, 'state'),
          ENOSPC_BUDGET: String(1 * MiB),
        };
    const full = await runCli(['sync', '-c', config.file, '--json', '--log-format', 'json'], { env });
    expect(full.code, full.stderr).toBe(1);
    const summary = jsonOf(full);
    expect(summary.result).toBe('partial');
    expect(summary.failures.length).toBeGreaterThan(0);
    for (const failure of summary.failures) {
      expect(failure).toMatchObject({ repository: 'stable/app-1', tag: '2.0', code: 'DISK_FULL' });
      expect(failure.message).toMatch(
        /^no space left on device while writing blob sha256:[0-9a-f]{64} of stable\/app-1$/,
      );
    }
    expect(full.stderr).toMatch(/"code":"DISK_FULL"/);
    expect(full.stdout + full.stderr).not.toMatch(/\n\s+at /);

    // The previous generation is untouched, still current, and still answered by serve.
    expect(await readlink(path.join(metadata, 'current'))).toBe(generation);
    expect(await snapshot(metadata)).toEqual(published);
    // Every published blob unchanged; verified blobs of the failed tag may already be linked.
    expect(await snapshot(path.join(config.root, 'tree'))).toMatchObject(tree);
    expect(await treeProblems(path.join(config.root, 'tree'))).toEqual([]);
    const serve = await startServe(['--metadata', metadata, '--mirrors', await masterOnlyMirrors(work)]);
    try {
      const tags = await fetch(`${serve.url}/v2/stable/app-1/tags/list`).then(
        (r) => r.json() as Promise<{ tags: string[] }>,
      );
      expect(tags.tags.sort()).toEqual(['1.0', 'latest']);
    } finally {
      await serve.stop();
    }

    // Space freed: the next sync resumes the partial download and publishes the new tag.
    if (mounted) await run('mount', ['-o', 'remount,size=64m', fsDir]);
    const freed = await runCli(['sync', '-c', config.file, '--json']);
    expect(freed.code, freed.stderr).toBe(0);
    const after = jsonOf(freed);
    expect(after.published).toBe(true);
    expect(after.tags.added).toBe(1);
    expect(after.bytes.resumed).toBeGreaterThan(0);
    expect(await treeProblems(path.join(config.root, 'tree'))).toEqual([]);
    for (const digest of grown.repositories['stable/app-1']!.blobs) {
      expect(Object.keys(await snapshot(path.join(config.root, 'tree')))).toContain(
        `stable/app-1/_blobs/sha256/${digest.slice(7)}`,
      );
    }
    console.log(
      `disk-full: ${mounted ? 'tmpfs 2 MiB grown to 64 MiB' : 'injected ENOSPC'}; resumed ${after.bytes.resumed} bytes after freeing space`,
    );
  });

  it('a disk that fills up while publishing keeps `current` on a whole generation', async (ctx) => {
    // Needs the real filesystem: the blobs are all there, only metadata has to be written.
    if (!mounted)
      ctx.skip('cannot mount a tmpfs here (not root?): a full disk while publishing needs a real filesystem');
    const config = { file: path.join(fsDir, 'config.yaml'), root: path.join(fsDir, 'mirror') };
    const metadata = path.join(config.root, 'metadata');
    const generation = await readlink(path.join(metadata, 'current'));
    const before = await snapshot(path.join(metadata, generation));
    // A new tag on a manifest the mirror already has: nothing to download, a generation to write.
    await retag(registry, 'stable/app-2', '1.0', '1.0-alias');
    // Fill the filesystem but for one page: room for the lock file, none for the generation.
    const filler = path.join(fsDir, 'filler');
    const reserve = path.join(fsDir, 'reserve');
    await writeFile(reserve, Buffer.alloc(4096));
    await run('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k']).catch(() => {}); // ends with ENOSPC
    // Not even the lock fits: a plain DISK_FULL, and no half-written lock candidate left.
    const noLock = await runCli(['sync', '-c', config.file]);
    expect(noLock.code).toBe(1);
    expect(noLock.stderr).toMatch(
      /^blobmirror: error DISK_FULL: no space left on device while writing the lock file \S+\/state\/lock\.\d+$/m,
    );
    expect(await tempFiles(config.root)).toEqual([]);
    await rm(reserve);
    const full = await runCli(['sync', '-c', config.file, '--json']);
    expect(full.code, full.stderr).toBe(1);
    expect(full.stderr).toMatch(/^blobmirror: error DISK_FULL: no space left on device while writing \S+$/m);
    expect(full.stderr).not.toMatch(/\n\s+at /);
    expect(await readlink(path.join(metadata, 'current'))).toBe(generation);
    expect(await snapshot(path.join(metadata, generation))).toEqual(before);
    expect(await treeProblems(path.join(config.root, 'tree'))).toEqual([]);

    await rm(filler);
    const freed = await runCli(['sync', '-c', config.file, '--json']);
    expect(freed.code, freed.stderr).toBe(0);
    expect(jsonOf(freed).tags.added).toBe(1);
    expect(await readlink(path.join(metadata, 'current'))).not.toBe(generation);
    // What the failed publish left (a staging directory, temp files) is gone.
    expect(await tempFiles(config.root)).toEqual([]);
  });
});
