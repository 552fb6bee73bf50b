// Issue 8: concurrency. Two syncs started together on one tree (one is refused with exit 3, or
// with --wait-lock both finish one after the other); readers of the metadata, in-process and
// through `blobmirror serve`, never see a half-switched generation while syncs publish new ones.
import { readFile, readlink, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setImmediate as yieldNow } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import { jsonOf, runCli } from '../helpers/cli.js';
import { masterOnlyMirrors } from '../helpers/mirrors-file.js';
import { startServe } from '../helpers/serve-process.js';
import { useTestWorld } from '../helpers/test-world.js';
import { treeProblems } from '../helpers/tree-check.js';
import { readRepositoryFile } from '../helpers/published.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** A config on a shared storage root; `tags` narrows the tags so alternating configs publish new generations. */
async function configAt(
  dir: string,
  name: string,
  registryUrl: string,
  root: string,
  tags?: string[],
): Promise<string> {
  const file = path.join(dir, `${name}.yaml`);
  await writeFile(
    file,
    stringify({
      version: 1,
      source: { type: 'registry', url: registryUrl, insecure: true, retries: 2 },
      repositories: { include: ['stable/**'] },
      ...(tags ? { tags: { include: tags } } : {}),
      storage: { root },
    }),
  );
  return file;
}

describe('concurrent syncs and readers', () => {
  const world = useTestWorld({
    name: 'concurrency',
    proxySeed: 'concurrency',
    spec: fixtureSpec({
      seed: 'concurrency',
      repos: 3,
      tagsPerRepo: 3,
      baseBytes: 1 * MiB,
      repoBytes: 128 * KiB,
      tagBytes: 32 * KiB,
    }),
  });

  it('two syncs started together: one runs, the other is refused with exit 3 and says who holds the lock', async () => {
    const root = path.join(world.work, 'together');
    const config = await configAt(world.work, 'together', world.proxy.url, root);
    // Slow downloads keep the first run holding the lock while the second starts.
    world.proxy.throttle(1 * MiB);
    try {
      const [a, b] = await Promise.all([
        runCli(['sync', '-c', config, '--json']),
        runCli(['sync', '-c', config, '--json']),
      ]);
      const codes = [a.code, b.code].sort();
      expect(codes, a.stderr + b.stderr).toEqual([0, 3]);
      const refused = a.code === 3 ? a : b;
      expect(refused.stderr).toMatch(
        /^blobmirror: error LOCKED: tree is locked by sync \(pid \d+ on [^,]+, since \d{4}-\d\d-\d\dT[\d:.]+Z\); lock file .*\/state\/lock\n$/,
      );
      // --json was asked for: the refused run says so there too.
      expect(JSON.parse(refused.stdout)).toMatchObject({ result: 'failed', error: { code: 'LOCKED' } });
    } finally {
      world.proxy.throttle(undefined);
    }
    expect(await treeProblems(path.join(root, 'tree'))).toEqual([]);
  });

  it('with --wait-lock both complete, one after the other', async () => {
    const root = path.join(world.work, 'queued');
    const config = await configAt(world.work, 'queued', world.proxy.url, root);
    world.proxy.throttle(2 * MiB);
    try {
      const [a, b] = await Promise.all([
        runCli(['sync', '-c', config, '--json', '--wait-lock', '60']),
        runCli(['sync', '-c', config, '--json', '--wait-lock', '60']),
      ]);
      expect(a.code, a.stderr).toBe(0);
      expect(b.code, b.stderr).toBe(0);
      const [first, second] = [jsonOf(a), jsonOf(b)].sort((x, y) => y.blobs.fetched - x.blobs.fetched);
      // The second found everything done by the first: nothing fetched, nothing new to publish.
      expect(first!.blobs.fetched).toBe(world.images.blobs.length);
      expect(second!.blobs.fetched).toBe(0);
      expect(second!.published).toBe(false);
    } finally {
      world.proxy.throttle(undefined);
    }
    expect(await treeProblems(path.join(root, 'tree'))).toEqual([]);
  });

  it('gc and verify while a sync runs: refused with exit 3, or with --wait-lock run after it', async () => {
    const root = path.join(world.work, 'gc-verify');
    const config = await configAt(world.work, 'gc-verify', world.proxy.url, root);
    world.proxy.throttle(MiB / 2);
    try {
      const sync = runCli(['sync', '-c', config, '--json']);
      // Started once the sync holds the lock.
      await vi.waitFor(() => stat(path.join(root, 'state/lock')), { timeout: 30_000, interval: 10 });
      const [gc, verify] = await Promise.all([runCli(['gc', '-c', config]), runCli(['verify', '-c', config])]);
      for (const refused of [gc, verify]) {
        expect(refused.code, refused.stderr).toBe(3);
        expect(refused.stderr).toMatch(/^blobmirror: error LOCKED: tree is locked by sync \(pid \d+ on /);
      }
      const [waitedGc, waitedVerify] = await Promise.all([
        runCli(['gc', '-c', config, '--wait-lock', '60']),
        runCli(['verify', '-c', config, '--full', '--wait-lock', '60', '--json']),
      ]);
      expect((await sync).code).toBe(0);
      expect(waitedGc.code, waitedGc.stderr).toBe(0);
      expect(waitedVerify.code, waitedVerify.stdout + waitedVerify.stderr).toBe(0);
    } finally {
      world.proxy.throttle(undefined);
    }
    expect(await treeProblems(path.join(root, 'tree'))).toEqual([]);
  });

  it('readers never see a half-switched generation while syncs publish', { timeout: 240_000 }, async () => {
    const root = path.join(world.work, 'readers');
    const metadata = path.join(root, 'metadata');
    const narrow = await configAt(world.work, 'narrow', world.proxy.url, root, ['^1\\.0$']);
    const wide = await configAt(world.work, 'wide', world.proxy.url, root);
    const first = await runCli(['sync', '-c', wide]);
    expect(first.code, first.stderr).toBe(0);
    const allTags = Object.keys(world.images.repositories['stable/app-1']!.tags).sort();

    const serve = await startServe([
      '--metadata',
      metadata,
      '--mirrors',
      await masterOnlyMirrors(world.work),
      '--reload-interval',
      '0',
    ]);
    const problems: string[] = [];
    let reads = 0;
    let served = 0;
    let stop = false;

    // In-process reader: resolve `current` once, then read only inside that generation.
    const readLoop = async () => {
      while (!stop) {
        const target = await readlink(path.join(metadata, 'current'));
        const dir = path.resolve(metadata, target);
        try {
          const index = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8'));
          if (index.generation !== path.basename(target))
            problems.push(`index.json of ${target} says generation ${index.generation}`);
          for (const [name, entry] of Object.entries(index.repositories) as [
            string,
            { path: string; tags: number; syncedAt: string },
          ][]) {
            const repo = await readRepositoryFile(metadata, name, path.basename(target));
            if (repo.name !== name || repo.syncedAt !== entry.syncedAt || Object.keys(repo.tags).length !== entry.tags)
              problems.push(`${target}: ${name} disagrees with index.json`);
            for (const blob of Object.values(repo.blobs) as { path: string; size: number }[]) {
              const info = await stat(path.join(root, 'tree', blob.path)).catch(() => undefined);
              if (info?.size !== blob.size)
                problems.push(`${target}: blob ${blob.path} not in the tree with size ${blob.size}`);
            }
          }
          reads++;
        } catch (error) {
          problems.push(`${target}: ${(error as Error).message}`);
        }
        await yieldNow();
      }
    };
    // Through serve: the tags list is always one of the two published sets, never an error.
    const serveLoop = async () => {
      while (!stop) {
        const response = await fetch(`${serve.url}/v2/stable/app-1/tags/list`);
        const body = await response.text();
        if (response.status !== 200) problems.push(`serve answered ${response.status}: ${body.slice(0, 200)}`);
        else {
          const tags = (JSON.parse(body) as { tags: string[] }).tags.sort();
          if (JSON.stringify(tags) !== JSON.stringify(['1.0']) && JSON.stringify(tags) !== JSON.stringify(allTags))
            problems.push(`serve listed ${tags.join(',')}`);
        }
        served++;
      }
    };

    const readers = [readLoop(), serveLoop()];
    const generations: string[] = [];
    try {
      for (let i = 0; i < 12; i++) {
        const result = await runCli(['sync', '-c', i % 2 === 0 ? narrow : wide, '--json']);
        expect(result.code, result.stderr).toBe(0);
        expect(jsonOf(result).published).toBe(true);
        generations.push(jsonOf(result).generation);
      }
    } finally {
      stop = true;
      await Promise.all(readers);
      await serve.stop();
    }
    console.log(
      `concurrency: ${generations.length} generations published; ${reads} consistent metadata reads, ${served} serve answers`,
    );
    expect(problems).toEqual([]);
    expect(new Set(generations).size).toBe(12);
    expect(reads).toBeGreaterThan(50);
    expect(served).toBeGreaterThan(50);
  });
});
