// What the next generation holds when a listing breaks: repositories the incomplete catalog did not
// list are carried forward unchanged and gc keeps their blobs; on a complete catalog a repository
// that disappeared is dropped; a repository whose tags list fails keeps its published tags.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/load.js';
import { type GeneratedImages } from '../../../src/demo/image-generator.js';
import { fixtureSpec } from '../../helpers/fixture-spec.js';
import { ListingIncompleteError, RegistryError } from '../../../src/errors.js';
import { runGc } from '../../../src/gc/run-gc.js';
import { readCurrentGeneration } from '../../../src/publish/generations.js';
import { planRun, runSync } from '../../../src/sync/run.js';
import { fakeSourceConfig } from '../../helpers/fake-config.js';
import { FakeSource } from '../../helpers/fake-source.js';

const KiB = 1024;
const SPEC = fixtureSpec({
  seed: 'carry-forward',
  repos: 3,
  tagsPerRepo: 2,
  baseBytes: 8 * KiB,
  repoBytes: 2 * KiB,
  tagBytes: KiB,
});
const INCOMPLETE = new ListingIncompleteError(
  'catalog from registry.example incomplete after 1 page(s) (1 entries listed): REGISTRY_ERROR: registry pagination Link points to another host (https://evil.example); refusing to follow it',
  { listed: ['stable/app-1'] },
);

let work: string;
let source: FakeSource;
let images: GeneratedImages;
let config: Config;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'blobmirror-carry-'));
  ({ source, images } = await FakeSource.fromSpec(SPEC));
  // One generation kept and no grace: gc would remove at once whatever the current one does not reference.
  config = await fakeSourceConfig(work, 'carry', { retention: { graceDays: 0 }, metadata: { keepGenerations: 1 } });
  expect((await runSync(config, source)).result).toBe('ok');
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const current = async () => (await readCurrentGeneration(config.storage.metadata))!;
const failCatalog = () =>
  (source.intercept = (call) => {
    if (call.method === 'listRepositories') throw INCOMPLETE;
  });

describe('an incomplete catalog', () => {
  it('syncs what was listed, reports LISTING_INCOMPLETE, and carries the rest forward unchanged', async () => {
    const before = await current();
    // Moves the source has that an unlisted repository must not pick up.
    source.setTag('stable/app-2', '1.0', images.repositories['stable/app-3']!.tags['1.0']!);
    source.setTag('stable/app-1', '1.0', images.repositories['stable/app-3']!.tags['1.0']!);
    failCatalog();
    try {
      const summary = await runSync(config, source);
      expect(summary).toMatchObject({
        result: 'partial',
        published: true,
        repositories: { selected: 1, synced: 1, failed: 0, carried: 2 },
        carried: ['stable/app-2', 'stable/app-3'],
        failures: [{ repository: '(catalog)', code: 'LISTING_INCOMPLETE', message: INCOMPLETE.message }],
        failureCodes: { LISTING_INCOMPLETE: 1 },
      });
      const after = await current();
      expect(after.repositories.get('stable/app-1')!.tags['1.0']!.digest).toBe(
        images.repositories['stable/app-3']!.tags['1.0'],
      );
      for (const name of ['stable/app-2', 'stable/app-3'])
        expect(after.repositories.get(name), name).toEqual(before.repositories.get(name));
      // gc reads the generations: nothing of the carried repositories is unreferenced.
      const gc = await runGc(config, { dryRun: true });
      expect(gc.removed.filter((p) => /\/tree\/stable\/app-[23]\//.test(p))).toEqual([]);
    } finally {
      source.intercept = undefined;
    }
  });

  it('--dry-run shows each carried repository with why', async () => {
    failCatalog();
    try {
      const { plan } = await planRun(config, source);
      expect(plan.generation.carried).toEqual([
        { name: 'stable/app-2', why: 'not listed: the catalog is incomplete (LISTING_INCOMPLETE): kept as published' },
        { name: 'stable/app-3', why: 'not listed: the catalog is incomplete (LISTING_INCOMPLETE): kept as published' },
      ]);
      expect(plan.generation.dropped).toEqual([]);
    } finally {
      source.intercept = undefined;
    }
  });

  it('a tags list that fails keeps the repository as published, its tags planned as carried', async () => {
    const before = (await current()).repositories.get('stable/app-2');
    source.intercept = (call) => {
      if (call.method === 'listTags' && call.repository === 'stable/app-2')
        throw new RegistryError('tags of stable/app-2: HTTP 503', { status: 503 });
    };
    try {
      const { plan } = await planRun(config, source);
      const app2 = plan.repositories.find((r) => r.name === 'stable/app-2')!;
      expect(new Set(app2.tags.map((t) => `${t.verdict}: ${t.why}`))).toEqual(
        new Set(['carried: tag listing failed (REGISTRY_ERROR): kept as published']),
      );
      const summary = await runSync(config, source);
      expect(summary.failures).toEqual([
        expect.objectContaining({ repository: 'stable/app-2', code: 'REGISTRY_ERROR' }),
      ]);
      expect((await current()).repositories.get('stable/app-2')).toEqual(before);
    } finally {
      source.intercept = undefined;
    }
  });

  it('on a complete catalog a repository that disappeared is dropped, and the plan says so', async () => {
    const gone = source.tags.get('stable/app-3')!;
    source.tags.delete('stable/app-3');
    try {
      const { plan } = await planRun(config, source);
      expect(plan.generation.dropped).toEqual([{ name: 'stable/app-3', why: 'no longer in the catalog' }]);
      const summary = await runSync(config, source);
      expect(summary.repositories.carried).toBe(0);
      expect((await current()).repositories.has('stable/app-3')).toBe(false);
    } finally {
      source.tags.set('stable/app-3', gone);
    }
  });
});
