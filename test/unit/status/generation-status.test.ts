// status takes the current generation's counts from its index's totals when it has them, and
// counts every repository file only for an index without (written before totals existed).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/load.js';
import type { GenerationIndex } from '../../../src/publish/metadata-types.js';
import { collectStatus } from '../../../src/status/collect.js';
import { runSync } from '../../../src/sync/run.js';
import { fakeSourceConfig } from '../../helpers/fake-config.js';
import { FakeSource } from '../../helpers/fake-source.js';
import { fixtureSpec } from '../../helpers/fixture-spec.js';
import { repositoryFilePath } from '../../helpers/published.js';

const KiB = 1024;

let work: string;
let config: Config;
let summary: Awaited<ReturnType<typeof runSync>>;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'blobmirror-status-generation-'));
  const { source } = await FakeSource.fromSpec(
    fixtureSpec({ seed: 'status-generation', repos: 3, tagsPerRepo: 2, baseBytes: 8 * KiB, repoBytes: 2 * KiB }),
  );
  config = await fakeSourceConfig(work, 'status');
  summary = await runSync(config, source);
  expect(summary.result).toBe('ok');
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const generationOf = async () => (await collectStatus(config)).generation;

describe('status: the current generation', () => {
  it("reads the index's totals alone: a repository file it would refuse is not read", async () => {
    const file = await repositoryFilePath(config.storage.metadata, 'stable/app-2');
    const bytes = await readFile(file);
    await writeFile(file, '{"not": "this repository"}\n');
    try {
      expect(await generationOf()).toEqual({
        id: summary.generation,
        createdAt: expect.any(String),
        modules: ['containers'],
        repositories: 3,
        tags: summary.tags.total,
        blobs: summary.blobs.referenced,
        bytes: {
          unique: summary.bytes.unique,
          referenced: summary.bytes.referenced,
          dedupeRatio: summary.bytes.dedupeRatio,
        },
      });
    } finally {
      await writeFile(file, bytes);
    }
  });

  it('counts every repository file for an index without totals, to the same figures', async () => {
    const withTotals = await generationOf();
    const current = path.join(config.storage.metadata, 'current', 'index.json');
    const index = JSON.parse(await readFile(current, 'utf8')) as GenerationIndex;
    delete index.totals;
    await writeFile(current, `${JSON.stringify(index, null, 1)}\n`);
    expect(await generationOf()).toEqual(withTotals);
    // Counted from the files: a refused one makes the generation unreadable.
    const file = await repositoryFilePath(config.storage.metadata, 'stable/app-2');
    await writeFile(file, '{"not": "this repository"}\n');
    expect(await generationOf()).toEqual({ unreadable: expect.stringContaining('does not hash to') });
  });
});
