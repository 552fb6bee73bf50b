// Issue 17: a `sync --repo` run costs O(that repository). It reads only the targeted
// repositories' files (the others' index entries are reused by digest), takes the tree-wide
// totals from the index and the blob census, and updates the file lists from the previous ones
// and what it linked instead of walking the tree; each of these falls back to the whole when
// what it relies on is missing.
import { mkdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mkdtemp } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/load.js';
import type { GeneratedImages } from '../../../src/demo/image-generator.js';
import { BLOB_CENSUS_FILE } from '../../../src/publish/blob-census.js';
import { markFileListsStale } from '../../../src/publish/file-list-record.js';
import { writeFileLists } from '../../../src/publish/file-list.js';
import { readCurrentGeneration } from '../../../src/publish/generations.js';
import type { GenerationIndex } from '../../../src/publish/metadata-types.js';
import { planRun, runSync } from '../../../src/sync/run.js';
import { fakeSourceConfig } from '../../helpers/fake-config.js';
import { FakeSource } from '../../helpers/fake-source.js';
import { fixtureSpec } from '../../helpers/fixture-spec.js';
import { readIndex, repositoryFilePath } from '../../helpers/published.js';

const KiB = 1024;
const SPEC = fixtureSpec({
  seed: 'targeted-run',
  repos: 3,
  tagsPerRepo: 2,
  baseBytes: 8 * KiB,
  repoBytes: 2 * KiB,
  tagBytes: KiB,
});
const LIST = 'fullfiletimelist-containers';

let work: string;
let source: FakeSource;
let images: GeneratedImages;
let config: Config;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'blobmirror-targeted-'));
  ({ source, images } = await FakeSource.fromSpec(SPEC));
  config = await fakeSourceConfig(work, 'targeted');
  expect((await runSync(config, source)).result).toBe('ok');
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const metadata = () => config.storage.metadata;
const syncRepo = (...repositories: string[]) => runSync(config, source, {}, { repositories });
const tagOf = (repository: string, tag: string) => images.repositories[repository]!.tags[tag]!;

/** Replace a repository's file with other bytes at the same path; returns the undo. */
async function corrupt(name: string): Promise<() => Promise<void>> {
  const file = await repositoryFilePath(metadata(), name);
  const bytes = await readFile(file);
  await writeFile(file, '{"not": "this repository"}\n');
  return () => writeFile(file, bytes);
}

const censusFile = () => path.join(config.storage.state, BLOB_CENSUS_FILE);

/** A --repo run reads every repository file (it refuses another's corrupt one), then writes the census again. */
async function expectReadsEveryFile() {
  const undo = await corrupt('stable/app-3');
  try {
    await expect(syncRepo('stable/app-1')).rejects.toMatchObject({ code: 'METADATA_INVALID' });
  } finally {
    await undo();
  }
  expect((await syncRepo('stable/app-1')).published).toBe(false);
  const written = JSON.parse(await readFile(censusFile(), 'utf8')) as { generation: string };
  expect(written.generation).toBe((await readIndex(metadata())).generation);
}

/** Totals counted over every repository file of the current generation, as a full run would. */
const countedTotals = () => countedTotalsOf(config);

async function countedTotalsOf(of: Config) {
  const generation = (await readCurrentGeneration(of.storage.metadata))!;
  const sizes = new Map<string, number>();
  let tags = 0;
  let referencedBytes = 0;
  for (const repo of generation.repositories.values()) {
    tags += Object.keys(repo.tags).length;
    for (const [digest, blob] of Object.entries(repo.blobs)) {
      sizes.set(digest, blob.size);
      referencedBytes += blob.size;
    }
  }
  const uniqueBytes = [...sizes.values()].reduce((sum, size) => sum + size, 0);
  return { tags, blobs: sizes.size, uniqueBytes, referencedBytes };
}

describe('sync --repo reads only its repositories', () => {
  it('publishes with a corrupt file of another repository it never reads, reusing that entry as it is', async () => {
    const undo = await corrupt('stable/app-3');
    try {
      const before = (await readIndex(metadata())) as unknown as GenerationIndex;
      source.setTag('stable/app-1', '1.0', tagOf('stable/app-2', '1.0'));
      const summary = await syncRepo('stable/app-1');
      expect(summary).toMatchObject({ result: 'ok', published: true, tags: { changed: 1 } });
      const after = (await readIndex(metadata())) as unknown as GenerationIndex;
      expect(after.repositories['stable/app-3']).toEqual(before.repositories['stable/app-3']);
      expect(after.repositories['stable/app-2']).toEqual(before.repositories['stable/app-2']);
      expect(after.repositories['stable/app-1']!.digest).not.toBe(before.repositories['stable/app-1']!.digest);
      // A full run reads every file, and refuses the corrupt one.
      await expect(runSync(config, source)).rejects.toMatchObject({ code: 'METADATA_INVALID' });
    } finally {
      await undo();
    }
  });

  it('takes the totals from the index and the census: the same as counting every file', async () => {
    // app-2 loses its own tag 1.1 and takes app-3's: blobs leave it, and others come.
    source.deleteTag('stable/app-2', '1.1');
    source.setTag('stable/app-2', '2.0', tagOf('stable/app-3', '1.1'));
    const summary = await syncRepo('stable/app-2');
    expect(summary).toMatchObject({ result: 'ok', published: true, tags: { added: 1, removed: 1 } });
    const counted = await countedTotals();
    expect((await readIndex(metadata())).totals).toEqual(counted);
    expect(summary.blobs.referenced).toBe(counted.blobs);
    expect(summary.bytes).toMatchObject({ unique: counted.uniqueBytes, referenced: counted.referencedBytes });
    // A run that changes nothing reports the same totals, from the index.
    const noop = await syncRepo('stable/app-2');
    expect(noop).toMatchObject({ published: false, blobs: { referenced: counted.blobs } });
    expect(noop.bytes).toMatchObject({ unique: counted.uniqueBytes, referenced: counted.referencedBytes });
  });

  it('without the census of the current generation, reads every file (and writes the census again)', async () => {
    const census = censusFile();
    await unlink(census);
    await expectReadsEveryFile();
  });

  it('publishes when the census cannot be written, warns, and the next --repo run reads every file', async () => {
    const census = censusFile();
    const before = await readFile(census, 'utf8');
    // A directory where the census goes: its rename fails after `current` switched.
    await unlink(census);
    await mkdir(census);
    const warnings: string[] = [];
    try {
      source.setTag('stable/app-1', '4.0', tagOf('stable/app-2', '1.1'));
      const summary = await runSync(
        config,
        source,
        { warn: (m) => warnings.push(m) },
        { repositories: ['stable/app-1'] },
      );
      expect(summary).toMatchObject({ result: 'ok', published: true, tags: { added: 1 } });
      expect(warnings).toEqual([
        expect.stringMatching(/^blob census not written \(.+\): the next --repo run reads every repository file$/),
      ]);
    } finally {
      await rm(census, { recursive: true });
    }
    // What a failed write leaves: the census of the generation before, which no --repo run takes.
    await writeFile(census, before);
    await expectReadsEveryFile();
  });

  it("an index without totals is written again, by the plan's one decision, with the totals counted", async () => {
    const current = path.join(metadata(), 'current', 'index.json');
    const index = JSON.parse(await readFile(current, 'utf8')) as GenerationIndex;
    delete index.totals;
    await writeFile(current, `${JSON.stringify(index, null, 1)}\n`);
    const { plan } = await planRun(config, source, {}, { repositories: ['stable/app-1'] });
    expect(plan.generation).toMatchObject({
      rewrite: true,
      publish: true,
      why: `generation ${index.generation} has no totals in its index: written again with them`,
    });
    const summary = await syncRepo('stable/app-1');
    expect(summary).toMatchObject({ published: true, tags: { added: 0, changed: 0, removed: 0 } });
    expect((await readIndex(metadata())).totals).toEqual(await countedTotals());
  });
});

describe('sync --repo updates the file lists instead of walking the tree', () => {
  const treeFile = (relative: string) => path.join(config.storage.tree, relative);
  /** The list a walk of the tree writes now (it rewrites the file only if it differs). */
  const walked = async () => {
    const [written] = await writeFileLists(config.storage.tree, undefined);
    return { changed: written!.changed, text: await readFile(treeFile(LIST), 'utf8') };
  };

  it('lists a new repository as a walk does, with the new ctime of every path it shares an inode with', async () => {
    // One second on, so a link's new ctime shows in the list's whole seconds.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    for (const tag of ['1.0', '1.1']) source.setTag('stable/app-9', tag, tagOf('stable/app-1', tag));
    const before = await readFile(treeFile(LIST), 'utf8');
    expect((await syncRepo('stable/app-9')).published).toBe(true);
    const updated = await readFile(treeFile(LIST), 'utf8');
    const shared = (text: string) => text.split('\n').filter((line) => line.includes('stable/app-1/_blobs/'));
    expect(shared(updated)).not.toEqual(shared(before));
    expect(updated).toContain('\tstable/app-9/_blobs/sha256/');
    expect(await walked()).toEqual({ changed: false, text: updated });
  });

  it('does not walk: a file put into the tree by hand is listed by the next full run, not by --repo', async () => {
    await writeFile(treeFile('stable/app-1/by-hand'), 'x');
    try {
      source.setTag('stable/app-1', '3.0', tagOf('stable/app-3', '1.0'));
      expect((await syncRepo('stable/app-1')).published).toBe(true);
      expect(await readFile(treeFile(LIST), 'utf8')).not.toContain('stable/app-1/by-hand');
      await runSync(config, source);
      expect(await readFile(treeFile(LIST), 'utf8')).toContain('stable/app-1/by-hand');
    } finally {
      await unlink(treeFile('stable/app-1/by-hand'));
      await runSync(config, source);
    }
  });

  it('walks while a writer has marked the tree stale (a run that died after linking), then clears the mark', async () => {
    await writeFile(treeFile('stable/app-2/left-by-a-dead-run'), 'x');
    try {
      await markFileListsStale(config.storage.state);
      await syncRepo('stable/app-2');
      expect(await readFile(treeFile(LIST), 'utf8')).toContain('stable/app-2/left-by-a-dead-run');
      await expect(readFile(path.join(config.storage.state, 'file-lists-stale'))).rejects.toMatchObject({
        code: 'ENOENT',
      });
    } finally {
      await unlink(treeFile('stable/app-2/left-by-a-dead-run'));
      await runSync(config, source);
    }
  });

  it('walks a module whose list on disk is not the one recorded for the generation', async () => {
    // An entry gone from the list on disk: an update from that list would keep it missing.
    const lines = (await readFile(treeFile(LIST), 'utf8')).split('\n');
    const dropped = lines.findIndex((line) => line.includes('\tstable/app-3/_blobs/'));
    await writeFile(treeFile(LIST), lines.filter((_, i) => i !== dropped).join('\n'));
    await syncRepo('stable/app-3');
    expect(await readFile(treeFile(LIST), 'utf8')).toContain(lines[dropped]!.split('\t')[3]);
    expect(await walked()).toMatchObject({ changed: false });
  });
});

describe('sync --repo with modules per architecture', () => {
  let archSource: FakeSource;
  let archImages: GeneratedImages;
  let archConfig: Config;
  beforeAll(async () => {
    const spec = fixtureSpec({
      seed: 'targeted-arch',
      repos: 2,
      tagsPerRepo: 2,
      baseBytes: 8 * KiB,
      multiPlatform: true,
    });
    // One layer both architectures' images use: one inode linked into both modules.
    spec.sharedLayers = spec.sharedLayers.map((layer) =>
      layer.name === 'tools' ? { ...layer, perPlatform: false } : layer,
    );
    ({ source: archSource, images: archImages } = await FakeSource.fromSpec(spec));
    archConfig = await fakeSourceConfig(work, 'targeted-arch', { modules: { perArchitecture: true } });
    expect((await runSync(archConfig, archSource)).result).toBe('ok');
  });

  it('keeps the index modules and every module list as a full run and a walk would', async () => {
    const latest = archImages.repositories['stable/app-1']!.tags.latest!;
    archSource.setTag('stable/app-7', 'latest', latest);
    expect((await runSync(archConfig, archSource, {}, { repositories: ['stable/app-7'] })).published).toBe(true);
    const index = await readIndex(archConfig.storage.metadata);
    const modules = index.modules as Record<string, { root: string }>;
    expect(Object.keys(modules).length).toBeGreaterThan(1);
    const lists = await Promise.all(
      Object.entries(modules).map(async ([name, { root }]) =>
        readFile(path.join(archConfig.storage.tree, root, `fullfiletimelist-${name}`), 'utf8'),
      ),
    );
    expect(lists.every((text) => text.includes('stable/app-7/_blobs/'))).toBe(true);
    const walked = await writeFileLists(archConfig.storage.tree, modules);
    expect(walked.map((w) => w.changed)).toEqual(walked.map(() => false));
    expect(index.totals).toEqual(await countedTotalsOf(archConfig));
    // The modules a full run derives from every repository file's blobs.
    const all = [...(await readCurrentGeneration(archConfig.storage.metadata))!.repositories.values()];
    const used = new Set(all.flatMap((repo) => Object.values(repo.blobs).flatMap((blob) => Object.keys(blob.modules))));
    expect(Object.keys(modules).sort()).toEqual([...used].sort());
  });

  it("refreshes another module's entries of a blob it linked: one inode, so a new ctime at every path", async () => {
    // One second on, so a link's new ctime shows in the lists' whole seconds.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    // 1.0 is an amd64 image alone: its shared layer is linked into the amd64 module only, and the
    // paths of that inode in the arm64 module (from the two-platform tags) show the new ctime.
    archSource.setTag('stable/app-8', '1.0', archImages.repositories['stable/app-1']!.tags['1.0']!);
    expect((await runSync(archConfig, archSource, {}, { repositories: ['stable/app-8'] })).published).toBe(true);
    const modules = (await readIndex(archConfig.storage.metadata)).modules as Record<string, { root: string }>;
    const arm64 = path.join(
      archConfig.storage.tree,
      modules['containers-arm64']!.root,
      'fullfiletimelist-containers-arm64',
    );
    expect(await readFile(arm64, 'utf8')).not.toContain('stable/app-8/');
    const walked = await writeFileLists(archConfig.storage.tree, modules);
    expect(walked.map((w) => [w.module, w.changed])).toEqual(walked.map((w) => [w.module, false]));
  });
});
