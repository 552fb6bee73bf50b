// Issue 17: metadata format 2. Repository files are content-addressed and shared between
// generations: a generation costs the files of what changed plus its index, older generations
// still serve byte for byte, pruning and gc remove only what no kept generation names, and a
// tree published in format 1 keeps serving until the next sync writes format 2.
import { readdir, rename, symlink, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import { jsonOf, runCli } from '../helpers/cli.js';
import { masterOnlyMirrors } from '../helpers/mirrors-file.js';
import { readIndex, repositoryFiles, rewriteAsFormat1 } from '../helpers/published.js';
import { retag } from '../helpers/push.js';
import { servedRepositories } from '../helpers/served.js';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';
import { useTestWorld } from '../helpers/test-world.js';

const REPOS = ['stable/app-1', 'stable/app-2', 'stable/app-3'];
const spec = (seed: string) =>
  fixtureSpec({ seed, repos: 3, tagsPerRepo: 2, baseBytes: 32 * 1024, repoBytes: 4096, tagBytes: 2048 });

/** Point `current` at generation `id`, atomically, as an operator rolling back would. */
async function pointCurrentAt(metadata: string, id: string): Promise<void> {
  const temp = path.join(metadata, `current.rollback-${id}`);
  await symlink(`generations/${id}`, temp);
  await rename(temp, path.join(metadata, 'current'));
}

function useServe(metadata: () => string, work: () => string): () => ServeProcess {
  let serve: ServeProcess | undefined;
  beforeAll(async () => {
    // Reload interval 0: every request reads `current`, so a switch is seen at once.
    serve = await startServe([
      '--metadata',
      metadata(),
      '--mirrors',
      await masterOnlyMirrors(work()),
      '--reload-interval',
      '0',
    ]);
  });
  afterAll(async () => {
    await serve?.stop();
  });
  return () => serve!;
}

describe('metadata format 2: repository files shared between generations', () => {
  const world = useTestWorld({
    name: 'metadata-sharing',
    spec: spec('metadata-sharing'),
    synced: { dir: 'master', config: { extra: { metadata: { keepGenerations: 2 } } } },
  });
  const metadata = () => path.join(world.config.root, 'metadata');
  const serve = useServe(metadata, () => world.work);
  let first: Record<string, unknown>;

  it('a generation that changed one repository writes that repository file and its index alone', async () => {
    first = await servedRepositories(serve().url, REPOS);
    const before = await repositoryFiles(metadata());
    expect(before).toHaveLength(3);
    const old = await readIndex(metadata());
    expect(old.formatVersion).toBe(2);

    await retag(world.registry, 'stable/app-1', '1.0', 'extra');
    const result = jsonOf(await runCli(['sync', '-c', world.config.file, '--json']));
    expect(result.generation).toBe('0000000002');

    const after = await repositoryFiles(metadata());
    const added = after.filter((file) => !before.includes(file));
    expect(added).toHaveLength(1);
    expect(after).toEqual(expect.arrayContaining(before));
    const index = await readIndex(metadata());
    expect(index.repositories['stable/app-1']!.path).toBe(`repositories/${added[0]}`);
    for (const repo of ['stable/app-2', 'stable/app-3'])
      expect(index.repositories[repo]!.digest).toBe(old.repositories[repo]!.digest);
    // The generation directory holds its index (and its file lists' record), nothing per repository.
    expect((await readdir(path.join(metadata(), 'generations', '0000000002'))).sort()).toEqual([
      'file-lists.json',
      'index.json',
    ]);
    const served = await servedRepositories(serve().url, REPOS);
    expect(served['stable/app-1:extra']).toEqual(served['stable/app-1:1.0']);
  });

  it('an older generation still serves byte for byte (rolled back to)', async () => {
    await pointCurrentAt(metadata(), '0000000001');
    try {
      expect(await servedRepositories(serve().url, REPOS)).toEqual(first);
    } finally {
      await pointCurrentAt(metadata(), '0000000002');
    }
    expect((await servedRepositories(serve().url, REPOS))['stable/app-1:extra']).toMatchObject({ status: 200 });
  });

  it('pruning and gc remove only the repository files no kept generation names', async () => {
    const named = async (id: string) =>
      Object.values((await readIndex(metadata(), id)).repositories).map((ref) =>
        ref.path.slice('repositories/'.length),
      );
    const second = await named('0000000002');
    const firstOnly = (await named('0000000001')).filter((file) => !second.includes(file));
    expect(firstOnly).toHaveLength(1);

    await retag(world.registry, 'stable/app-2', '1.0', 'extra');
    expect(jsonOf(await runCli(['sync', '-c', world.config.file, '--json'])).generation).toBe('0000000003');
    // keepGenerations 2: generation 1 went, with the one file only it named.
    expect(await readdir(path.join(metadata(), 'generations'))).not.toContain('0000000001');
    const kept = new Set([...(await named('0000000002')), ...(await named('0000000003'))]);
    expect(await repositoryFiles(metadata())).toEqual([...kept].sort());

    // A file no generation names (a run killed after writing it) is gc's to remove; named ones stay.
    const stray = `sha256/00/${'0'.repeat(64)}.json`;
    await mkdir(path.join(metadata(), 'repositories', 'sha256', '00'), { recursive: true });
    await writeFile(path.join(metadata(), 'repositories', stray), '{}\n');
    const gc = jsonOf(await runCli(['gc', '-c', world.config.file, '--json']));
    expect(gc).toMatchObject({ repositoryFilesRemoved: 1, generationsRemoved: 0 });
    expect(await repositoryFiles(metadata())).toEqual([...kept].sort());
    const served = await servedRepositories(serve().url, REPOS);
    for (const repo of REPOS)
      expect(served[`${repo}:extra`] ?? served[`${repo}:latest`]).toMatchObject({ status: 200 });
  });
});

describe('the upgrade from metadata format 1', () => {
  const world = useTestWorld({ name: 'metadata-upgrade', spec: spec('metadata-upgrade'), synced: { dir: 'master' } });
  const metadata = () => path.join(world.config.root, 'metadata');
  let published: Record<string, unknown>;

  beforeAll(async () => {
    // What serve answered from the tree as synced, before it is turned into format 1.
    const serve = await startServe(['--metadata', metadata(), '--mirrors', await masterOnlyMirrors(world.work)]);
    try {
      published = await servedRepositories(serve.url, REPOS);
    } finally {
      await serve.stop();
    }
    await rewriteAsFormat1(metadata());
  });
  const serve = useServe(metadata, () => world.work);

  it('a format-1 tree is served, the next sync writes format 2, and that is served the same', async () => {
    expect((await readIndex(metadata())).formatVersion).toBe(1);
    expect(await servedRepositories(serve().url, REPOS)).toEqual(published);

    // Nothing changed in the registry: the sync still publishes, to move the tree to format 2.
    const result = jsonOf(await runCli(['sync', '-c', world.config.file, '--json']));
    expect(result).toMatchObject({ generation: '0000000002', published: true, blobs: { fetched: 0 } });
    const index = await readIndex(metadata());
    expect(index.formatVersion).toBe(2);
    expect(await repositoryFiles(metadata())).toHaveLength(3);
    expect(await servedRepositories(serve().url, REPOS)).toEqual(published);

    // The format-1 generation is still kept, and still serves when rolled back to.
    await pointCurrentAt(metadata(), '0000000001');
    expect(await servedRepositories(serve().url, REPOS)).toEqual(published);
    await pointCurrentAt(metadata(), '0000000002');
    // And the next no-op sync publishes nothing: format 2 is the state now.
    expect(jsonOf(await runCli(['sync', '-c', world.config.file, '--json']))).toMatchObject({
      generation: '0000000002',
      published: false,
    });
  });
});
