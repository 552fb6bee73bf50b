// Issue 4: retention and garbage collection against the real registry, with an injected clock.
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import { retag, deleteTag } from '../helpers/push.js';
import { jsonOf, runCli } from '../helpers/cli.js';
import { useTestWorld } from '../helpers/test-world.js';
import { readIndex, readRepositoryFile } from '../helpers/published.js';

const DAY = 86_400_000;

async function treeFiles(tree: string): Promise<string[]> {
  const entries = await readdir(tree, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(tree, path.join(e.parentPath, e.name)))
    .filter((f) => f.includes('/_blobs/'))
    .sort();
}

async function currentPaths(root: string): Promise<string[]> {
  const metadata = path.join(root, 'metadata');
  const index = await readIndex(metadata);
  const paths = new Set<string>();
  for (const name of Object.keys(index.repositories)) {
    const repo = await readRepositoryFile(metadata, name);
    for (const blob of Object.values(repo.blobs) as { modules: Record<string, string> }[])
      for (const p of Object.values(blob.modules)) paths.add(p);
  }
  return [...paths].sort();
}

describe('gc', () => {
  const world = useTestWorld({
    name: 'gc',
    spec: fixtureSpec({ repos: 2, tagsPerRepo: 2, baseBytes: 128 * 1024, repoBytes: 16 * 1024, tagBytes: 48 * 1024 }),
    synced: { dir: 'master', config: { extra: { metadata: { keepGenerations: 1 }, retention: { graceDays: 7 } } } },
  });

  it('keeps unreferenced links for the grace period, then removes them and frees the objects', async () => {
    // latest moves from 1.1 to 1.0 and 1.1 disappears: 1.1's own config and layer lose their links.
    await retag(world.registry, 'stable/app-1', world.images.repositories['stable/app-1']!.tags['1.0']!, 'latest');
    await deleteTag(world.registry, 'stable/app-1', '1.1');
    const moved = await runCli(['sync', '-c', world.config.file, '--json']);
    expect(moved.code, moved.stderr).toBe(0);
    const current = await currentPaths(world.config.root);
    const tree = path.join(world.config.root, 'tree');
    const stale = (await treeFiles(tree)).filter((f) => !current.includes(f));
    expect(stale.length).toBe(2);
    const staleObjects = await Promise.all(stale.map(async (f) => (await stat(path.join(tree, f))).size));

    const t0 = new Date();
    const early = jsonOf(await runCli(['gc', '-c', world.config.file, '--json', '--now', t0.toISOString()]));
    expect(early).toMatchObject({ linksRemoved: 0, linksPending: 2, objectsRemoved: 0 });
    expect(await treeFiles(tree)).toEqual(expect.arrayContaining(stale));

    const dry = jsonOf(
      await runCli([
        'gc',
        '-c',
        world.config.file,
        '--json',
        '--dry-run',
        '--now',
        new Date(t0.getTime() + 8 * DAY).toISOString(),
      ]),
    );
    expect(dry).toMatchObject({ dryRun: true, linksRemoved: 2, objectsRemoved: 2 });
    expect(await treeFiles(tree)).toEqual(expect.arrayContaining(stale));

    const late = jsonOf(
      await runCli(['gc', '-c', world.config.file, '--json', '--now', new Date(t0.getTime() + 8 * DAY).toISOString()]),
    );
    expect(late).toMatchObject({ linksRemoved: 2, linksPending: 0, objectsRemoved: 2 });
    expect(late.bytesFreed).toBeGreaterThanOrEqual(staleObjects.reduce((a, b) => a + b, 0));
    // The tree is exactly what the current generation references; its objects are intact.
    expect(await treeFiles(tree)).toEqual(current);
    for (const f of current) expect((await stat(path.join(tree, f))).nlink).toBeGreaterThanOrEqual(2);
    // A re-sync has nothing to fetch: gc removed nothing the published tags need.
    const again = jsonOf(await runCli(['sync', '-c', world.config.file, '--json']));
    expect(again.blobs.fetched).toBe(0);
  });

  it('tag history records the move', async () => {
    const metadata = path.join(world.config.root, 'metadata');
    const repo = await readRepositoryFile(metadata, 'stable/app-1');
    expect(repo.history.latest.map((h: { digest: string }) => h.digest)).toEqual([
      world.images.repositories['stable/app-1']!.tags['1.1'],
      world.images.repositories['stable/app-1']!.tags['1.0'],
    ]);
    expect(repo.history['1.1'].at(-1).digest).toBeNull();
  });

  it('refuses to run beside a writer holding the lock', async () => {
    const { acquireLock } = await import('../../src/store/lock.js');
    const lock = await acquireLock(path.join(world.config.root, 'state', 'lock'), { command: 'sync' });
    try {
      const result = await runCli(['gc', '-c', world.config.file]);
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(/locked by sync/);
    } finally {
      await lock.release();
    }
  });
});

describe('gc explains metadata.keepGenerations and clears unfinished generations', () => {
  const world = useTestWorld({
    name: 'gc-keep',
    spec: fixtureSpec({ repos: 1, tagsPerRepo: 2, baseBytes: 64 * 1024, repoBytes: 16 * 1024, tagBytes: 32 * 1024 }),
    synced: { dir: 'master', config: { extra: { metadata: { keepGenerations: 3 } } } },
  });

  it('says which generations it kept and what only an older one still references', async () => {
    // 1.1 disappears: the current generation drops its config and layer; generation 1 keeps them.
    await deleteTag(world.registry, 'stable/app-1', '1.1');
    await retag(world.registry, 'stable/app-1', world.images.repositories['stable/app-1']!.tags['1.0']!, 'latest');
    expect((await runCli(['sync', '-c', world.config.file])).code).toBe(0);
    const json = jsonOf(await runCli(['gc', '-c', world.config.file, '--json']));
    expect(json).toMatchObject({
      linksRemoved: 0,
      objectsRemoved: 0,
      generationsRemoved: 0,
      retained: { keepGenerations: 3, generations: ['0000000001', '0000000002'], olderOnly: { blobs: 2 } },
    });
    const text = await runCli(['gc', '-c', world.config.file]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(
      'kept 2 generations (0000000001..0000000002): metadata.keepGenerations 3 keeps the newest 3, and there are only 2\n',
    );
    expect(text.stdout).toMatch(
      /^kept 2 blobs \([\d.]+ kB\) the current generation no longer uses: an older kept generation references them$/m,
    );
  });

  it('lists and removes the staging directory a killed first publish left', async () => {
    // What a publish killed (or out of space) before its rename leaves: a half-written generation.
    const staging = path.join(world.config.root, 'metadata/generations/.staging-0000000003-999999');
    await mkdir(path.join(staging, 'repositories'), { recursive: true });
    await writeFile(path.join(staging, 'repositories/half.json'), '{"name": "stable/ap');
    const dry = await runCli(['gc', '-c', world.config.file, '--dry-run']);
    expect(dry.stdout).toContain(', 1 unfinished generation directories, ');
    expect(dry.stdout).toContain(`  staging ${staging} (a generation a killed or failed publish never switched to)\n`);
    expect(await readdir(staging)).toEqual(['repositories']);
    const done = jsonOf(await runCli(['gc', '-c', world.config.file, '--json']));
    expect(done).toMatchObject({ stagingRemoved: 1, bytesFreed: 19 });
    await expect(stat(staging)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
