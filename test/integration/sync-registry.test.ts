// Issue 2 acceptance: blobmirror sync against Debian's real docker-registry.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, readdir, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateImages, type GeneratedImages } from '../../src/demo/image-generator.js';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import { pushLayout } from '../helpers/push.js';
import { startRegistry, type RegistryHandle } from '../helpers/registry.js';
import { jsonOf, runCli, writeTestConfig } from '../helpers/cli.js';
import { readRepositoryFile } from '../helpers/published.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

describe('sync from a real docker-registry', () => {
  let registry: RegistryHandle;
  let work: string;
  let generated: GeneratedImages;
  let config: { file: string; root: string };
  const stable = () => Object.keys(generated.repositories).filter((r) => r.startsWith('stable/'));

  beforeAll(async () => {
    registry = await startRegistry();
    work = await mkdtemp(path.join(tmpdir(), 'blobmirror-sync-it-'));
    const spec = fixtureSpec({ repos: 6, candidateRepos: 2, tagsPerRepo: 3, baseBytes: 12 * MiB, multiPlatform: true });
    // A Docker-format repository with a manifest list on the same base.
    spec.repositories.push({
      name: 'stable/docker-app',
      format: 'docker',
      layers: ['base', 'tools'],
      unique: [256 * 1024],
      tags: [{ tag: '2.0', aliases: ['latest'], multiPlatform: true }, { tag: '1.0' }],
    });
    generated = await generateImages(spec, path.join(work, 'layout'));
    await pushLayout(registry, path.join(work, 'layout'));
    config = await writeTestConfig({ registryUrl: registry.url, include: ['stable/**'] }, work);
  });

  afterAll(async () => {
    await registry?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('dry run prints the plan and writes nothing', async () => {
    const result = await runCli(['sync', '-c', config.file, '--dry-run', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const summary = jsonOf(result);
    expect(summary.dryRun).toBe(true);
    expect(summary.plan.map((p: { name: string }) => p.name)).toEqual(stable().sort());
    expect(summary.blobs.toFetch).toBe(new Set(stable().flatMap((r) => generated.repositories[r]!.blobs)).size);
    await expect(stat(config.root)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('full sync: every selected blob at its tree path with the right content; candidates absent', async () => {
    await registry.mark();
    const result = await runCli(['sync', '-c', config.file, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const summary = jsonOf(result);
    expect(summary.result).toBe('ok');
    expect(summary.repositories).toEqual({
      selected: stable().length,
      synced: stable().length,
      failed: 0,
      empty: 0,
      carried: 0,
    });
    const tree = path.join(config.root, 'tree');
    for (const repo of stable()) {
      for (const digest of generated.repositories[repo]!.blobs) {
        const file = path.join(tree, repo, '_blobs', 'sha256', digest.slice(7));
        expect(await sha256File(file), `${repo} ${digest}`).toBe(digest.slice(7));
      }
    }
    // Nothing else in the tree but the module's file list: no candidates, no temp files.
    const all = (await listFiles(tree)).map((f) => path.relative(tree, f));
    expect(all).toContain('fullfiletimelist-containers');
    const files = all.filter((f) => f !== 'fullfiletimelist-containers');
    const expected = stable().flatMap((repo) =>
      generated.repositories[repo]!.blobs.map((d) => `${repo}/_blobs/sha256/${d.slice(7)}`),
    );
    expect(files.sort()).toEqual([...new Set(expected)].sort());
    expect((await readdir(tree)).sort()).toEqual(['fullfiletimelist-containers', 'stable']);
    // Each distinct blob crossed the wire exactly once, shared base included.
    const blobGets = await registry.countRequests({ method: 'GET', pathPattern: /\/blobs\/sha256:/ });
    expect(blobGets).toBe(new Set(expected.map((p) => path.basename(p))).size);
    expect(summary.blobs.fetched).toBe(blobGets);
  });

  it('metadata: tags, byte-exact manifests, blob paths, a current generation', async () => {
    const metadata = path.join(config.root, 'metadata');
    const current = await readlink(path.join(metadata, 'current'));
    const index = JSON.parse(await readFile(path.join(metadata, current, 'index.json'), 'utf8'));
    expect(index.formatVersion).toBe(2);
    expect(Object.keys(index.repositories).sort()).toEqual(stable().sort());
    for (const repo of stable()) {
      const meta = await readRepositoryFile(metadata, repo);
      expect(
        Object.fromEntries(Object.entries(meta.tags).map(([t, v]) => [t, (v as { digest: string }).digest])),
      ).toEqual(generated.repositories[repo]!.tags);
      for (const [digest, entry] of Object.entries(meta.manifests) as [string, { path: string; size: number }][]) {
        const bytes = await readFile(path.join(metadata, entry.path));
        expect(bytes.length).toBe(entry.size);
        expect(`sha256:${createHash('sha256').update(bytes).digest('hex')}`).toBe(digest);
      }
      expect(Object.keys(meta.blobs).sort()).toEqual([...generated.repositories[repo]!.blobs].sort());
    }
    // Both index kinds kept both platforms.
    const dockerApp = await readRepositoryFile(metadata, 'stable/docker-app');
    const list = dockerApp.manifests[dockerApp.tags['2.0'].digest];
    expect(list.mediaType).toBe('application/vnd.docker.distribution.manifest.list.v2+json');
    expect(list.manifests.map((d: string) => dockerApp.manifests[d].platform.architecture).sort()).toEqual([
      'amd64',
      'arm64',
    ]);
  });

  it('a blob shared by N repositories is one inode; disk and rsync -aH hold it once', async () => {
    const tree = path.join(config.root, 'tree');
    const counts = new Map<string, number>();
    for (const repo of stable())
      for (const d of generated.repositories[repo]!.blobs) counts.set(d, (counts.get(d) ?? 0) + 1);
    const [shared, n] = [...counts].sort(([, a], [, b]) => b - a)[0]!;
    expect(n).toBeGreaterThanOrEqual(5);
    const inodes = new Set<number>();
    for (const repo of stable()) {
      const info = await stat(path.join(tree, repo, '_blobs', 'sha256', shared.slice(7)));
      inodes.add(info.ino);
      expect(info.nlink).toBeGreaterThanOrEqual(n);
    }
    expect(inodes.size).toBe(1);

    const unique = [...new Set(stable().flatMap((r) => generated.repositories[r]!.blobs))];
    let uniqueBytes = 0;
    for (const d of unique)
      uniqueBytes += (
        await stat(
          path.join(
            tree,
            stable().find((r) => generated.repositories[r]!.blobs.includes(d))!,
            '_blobs',
            'sha256',
            d.slice(7),
          ),
        )
      ).size;
    const du = Number((await run('du', ['-sb', tree])).stdout.split('\t')[0]);
    expect(Math.abs(du - uniqueBytes) / uniqueBytes).toBeLessThan(0.01);

    const mirror = await mkdtemp(path.join(tmpdir(), 'blobmirror-rsync-'));
    try {
      const { stdout } = await run('rsync', ['-aH', '--stats', `${tree}/`, `${mirror}/`]);
      const transferred = Number(/Total transferred file size: ([\d,]+)/.exec(stdout)![1]!.replace(/,/g, ''));
      expect(Math.abs(transferred - uniqueBytes) / uniqueBytes).toBeLessThan(0.01);
      const mirrored = new Set<number>();
      for (const repo of stable())
        mirrored.add((await stat(path.join(mirror, repo, '_blobs', 'sha256', shared.slice(7)))).ino);
      expect(mirrored.size).toBe(1);
    } finally {
      await rm(mirror, { recursive: true, force: true });
    }
  });

  it('an immediate re-sync fetches no blob and GETs no manifest', async () => {
    await registry.mark();
    const result = await runCli(['sync', '-c', config.file, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const summary = jsonOf(result);
    expect(summary.blobs.fetched).toBe(0);
    expect(summary.published).toBe(false);
    expect(await registry.countRequests({ method: 'GET', pathPattern: /\/manifests\// })).toBe(0);
    expect(await registry.countRequests({ method: 'GET', pathPattern: /\/blobs\// })).toBe(0);
    expect(await registry.countRequests({ method: 'HEAD', pathPattern: /\/manifests\// })).toBe(summary.tags.total);
  });

  it('a new tag fetches only its new blobs; a removed tag leaves the metadata', async () => {
    const layout = path.join(work, 'layout2');
    const spec = fixtureSpec({ repos: 6, candidateRepos: 2, tagsPerRepo: 3, baseBytes: 12 * MiB, multiPlatform: true });
    spec.repositories = spec.repositories.filter((r) => r.name === 'stable/app-1');
    spec.repositories[0]!.tags = [{ tag: '2.0', unique: [300 * 1024] }];
    const added = await generateImages(spec, layout);
    await pushLayout(registry, layout);
    const before = new Set(stable().flatMap((r) => generated.repositories[r]!.blobs));
    const newBlobs = added.repositories['stable/app-1']!.blobs.filter((d) => !before.has(d));
    expect(newBlobs.length).toBe(2); // its config and its own layer
    await registry.mark();
    const result = await runCli(['sync', '-c', config.file, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const summary = jsonOf(result);
    expect(summary.tags.added).toBe(1);
    expect(summary.blobs.fetched).toBe(newBlobs.length);
    const gets = (await registry.requests({ method: 'GET', pathPattern: /\/blobs\// })).map((r) =>
      r.path.split('/').pop(),
    );
    expect(gets.sort()).toEqual([...newBlobs].sort());
    expect(await registry.countRequests({ method: 'GET', pathPattern: /\/manifests\// })).toBe(1);

    const { deleteTag } = await import('../helpers/push.js');
    await deleteTag(registry, 'stable/app-1', '2.0');
    const again = jsonOf(await runCli(['sync', '-c', config.file, '--json']));
    expect(again.tags.removed).toBe(1);
    const metadata = path.join(config.root, 'metadata');
    const repo = await readRepositoryFile(metadata, 'stable/app-1');
    expect(Object.keys(repo.tags)).not.toContain('2.0');
    // Deleting blobs is gc's job: the blob stays in the tree for mirrors still on older metadata.
    await expect(
      stat(path.join(config.root, 'tree/stable/app-1/_blobs/sha256', newBlobs[0]!.slice(7))),
    ).resolves.toBeTruthy();
  });

  it('follows catalog pagination (Link, n=2) to the same selection', async () => {
    const paged = await writeTestConfig(
      { registryUrl: registry.url, include: ['stable/**'], extraSource: { catalogPageSize: 2 } },
      path.join(work, 'paged'),
    );
    await registry.mark();
    const result = await runCli(['sync', '-c', paged.file, '--dry-run', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(jsonOf(result).plan.map((p: { name: string }) => p.name)).toEqual(stable().sort());
    // 9 repositories (7 stable, 2 candidates) in pages of 2.
    expect(await registry.countRequests({ method: 'GET', pathPattern: /^\/v2\/_catalog\?/ })).toBeGreaterThanOrEqual(5);
  });

  it('a second writer is refused with exit 3 while the lock is held', async () => {
    const { acquireLock } = await import('../../src/store/lock.js');
    const lock = await acquireLock(path.join(config.root, 'state', 'lock'), { command: 'test' });
    try {
      const result = await runCli(['sync', '-c', config.file]);
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(/locked by test \(pid \d+/);
    } finally {
      await lock.release();
    }
  });
});

describe('storage layout and catalog paging', () => {
  it('refuses a tree and store on different filesystems with a clear message and exit 2, writing nothing', async () => {
    const { stringify } = await import('yaml');
    const { writeFile, mkdir } = await import('node:fs/promises');
    const work = await mkdtemp(path.join(tmpdir(), 'blobmirror-xdev-'));
    // /dev/shm is a tmpfs; the work dir is on the disk.
    const state = await mkdtemp('/dev/shm/blobmirror-state-');
    try {
      await generateImages(
        fixtureSpec({ repos: 1, tagsPerRepo: 1, baseBytes: 4096, repoBytes: 1024, tagBytes: 1024 }),
        path.join(work, 'layout'),
      );
      await mkdir(path.join(work, 'tree'));
      const file = path.join(work, 'config.yaml');
      await writeFile(
        file,
        stringify({
          version: 1,
          source: { type: 'oci-layout', path: 'layout' },
          repositories: { include: ['stable/**'] },
          storage: { tree: 'tree', metadata: 'metadata', state },
        }),
      );
      const result = await runCli(['sync', '-c', file]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(
        /^blobmirror: error CROSS_DEVICE: the store .* and the tree .* are on different filesystems/m,
      );
      expect(await listFiles(path.join(work, 'tree'))).toEqual([]);
    } finally {
      await rm(work, { recursive: true, force: true });
      await rm(state, { recursive: true, force: true });
    }
  });
});
