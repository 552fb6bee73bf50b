import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Digest } from '../../../src/oci/digest.js';
import { readCurrentGeneration, readGeneration, readGenerationIndex } from '../../../src/publish/generations.js';
import type { GenerationIndex, RepositoryMetadata } from '../../../src/publish/metadata-types.js';
import {
  publishGeneration,
  pruneGenerations,
  type PublishedRepository,
} from '../../../src/publish/publish-generation.js';
import { MetadataFixture } from '../../helpers/metadata-fixture.js';
import { repositoryFiles } from '../../helpers/published.js';

const digest = (c: string) => `sha256:${c.repeat(64)}` as Digest;

function repository(name: string, tag: string): RepositoryMetadata {
  return {
    formatVersion: 1,
    name,
    syncedAt: '2026-12-01T00:00:00.000Z',
    tags: { [tag]: { digest: digest('a') } },
    manifests: {},
    blobs: {},
    history: {},
  };
}

describe('publishing generations (metadata format 2)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'blobmirror-publish-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const publish = (repositories: PublishedRepository[], keepGenerations = 5) =>
    publishGeneration(dir, {
      modules: { containers: { root: '' } },
      totals: { tags: 0, blobs: 0, uniqueBytes: 0, referencedBytes: 0 },
      source: 'test',
      generator: 'test',
      createdAt: '2026-12-01T00:00:00.000Z',
      repositories,
      keepGenerations,
    });
  const refs = async (id: string) =>
    ((await readGenerationIndex(dir, id)) as GenerationIndex).repositories as GenerationIndex['repositories'];

  it('writes a file for each repository without a ref, names the others by theirs, and reads both back', async () => {
    await publish([{ metadata: repository('r/a', '1') }, { metadata: repository('r/b', '1') }]);
    const first = await refs('0000000001');
    expect(await repositoryFiles(dir)).toHaveLength(2);

    await publish([{ metadata: repository('r/a', '2') }, { name: 'r/b', ref: first['r/b']! }]);
    expect(await repositoryFiles(dir)).toHaveLength(3);
    expect((await refs('0000000002'))['r/b']).toEqual(first['r/b']);
    const current = (await readCurrentGeneration(dir))!;
    expect(current.id).toBe('0000000002');
    expect(Object.keys(current.repositories.get('r/a')!.tags)).toEqual(['2']);
    expect(Object.keys(current.repositories.get('r/b')!.tags)).toEqual(['1']);
    expect(await readdir(current.dir)).toEqual(['index.json']);
  });

  it('a repository file with the same content as an existing one is not written again', async () => {
    await publish([{ metadata: repository('r/a', '1') }]);
    await publish([{ metadata: repository('r/a', '2') }]);
    // Back to what generation 1 said: the same bytes, the same file.
    await publish([{ metadata: repository('r/a', '1') }]);
    expect(await repositoryFiles(dir)).toHaveLength(2);
    expect((await refs('0000000003'))['r/a']).toEqual((await refs('0000000001'))['r/a']);
  });

  it('pruning removes a generation with the files only it named, and keeps those a kept generation names', async () => {
    await publish([{ metadata: repository('r/a', '1') }, { metadata: repository('r/b', '1') }]);
    const first = await refs('0000000001');
    await publish([{ metadata: repository('r/a', '2') }, { name: 'r/b', ref: first['r/b']! }], 1);
    expect(await readdir(path.join(dir, 'generations'))).toEqual(['0000000002']);
    const second = await refs('0000000002');
    expect(await repositoryFiles(dir)).toEqual(
      [second['r/a']!.path, second['r/b']!.path].map((p) => p.slice('repositories/'.length)).sort(),
    );
    expect((await readGeneration(dir, '0000000002')).repositories.size).toBe(2);
  });

  it('when a kept index cannot be read, pruning removes the old generation but leaves every file to gc', async () => {
    await publish([{ metadata: repository('r/a', '1') }]);
    await publish([{ metadata: repository('r/a', '2') }]);
    await publish([{ metadata: repository('r/a', '3') }]);
    await writeFile(path.join(dir, 'generations', '0000000002', 'index.json'), '{');
    expect(await pruneGenerations(dir, 2)).toEqual(['0000000001']);
    expect(await repositoryFiles(dir)).toHaveLength(3);
  });

  it('a kept index naming a file by a digest that is no digest counts as unreadable: no file goes', async () => {
    await publish([{ metadata: repository('r/a', '1') }]);
    await publish([{ metadata: repository('r/a', '2') }]);
    await publish([{ metadata: repository('r/a', '3') }]);
    const file = path.join(dir, 'generations', '0000000002', 'index.json');
    const index = (await readGenerationIndex(dir, '0000000002')) as GenerationIndex;
    index.repositories['r/a']!.digest = '../../../index.json' as Digest;
    await writeFile(file, JSON.stringify(index));
    expect(await pruneGenerations(dir, 2)).toEqual(['0000000001']);
    expect(await repositoryFiles(dir)).toHaveLength(3);
  });

  it('a format-1 tree is read as it is, and a format-2 generation published over it', async () => {
    const fixture = new MetadataFixture(dir);
    fixture.tag('r/a', '1', fixture.image('r/a', 'one').digest);
    await fixture.publish('0000000001', { format: 1 });
    const old = (await readCurrentGeneration(dir))!;
    expect(old.index.formatVersion).toBe(1);
    expect(Object.keys(old.repositories.get('r/a')!.tags)).toEqual(['1']);

    await publish([{ metadata: old.repositories.get('r/a')! }], 1);
    const upgraded = (await readCurrentGeneration(dir))!;
    expect(upgraded.index.formatVersion).toBe(2);
    expect(upgraded.repositories.get('r/a')!.tags).toEqual(old.repositories.get('r/a')!.tags);
    // The format-1 generation went with its own files; no shared file was named by it.
    expect(await readdir(path.join(dir, 'generations'))).toEqual(['0000000002']);
    expect(await repositoryFiles(dir)).toHaveLength(1);
  });
});
