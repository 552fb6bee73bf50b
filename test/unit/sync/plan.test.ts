// The sync plan as a value: planned from an in-memory source (test/helpers/fake-source.ts) and
// the published generation, before anything is written.
import fc from 'fast-check';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/load.js';
import { type GeneratedImages } from '../../../src/demo/image-generator.js';
import { fixtureSpec } from '../../helpers/fixture-spec.js';
import { RegistryError } from '../../../src/errors.js';
import type { Digest } from '../../../src/oci/digest.js';
import { planBlobs, type BlobNeed, type SyncPlan } from '../../../src/sync/plan.js';
import { planRun, runSync } from '../../../src/sync/run.js';
import { fakeSourceConfig } from '../../helpers/fake-config.js';
import { FakeSource } from '../../helpers/fake-source.js';
import { rewriteAsFormat1 } from '../../helpers/published.js';

const d = (c: string) => `sha256:${c.repeat(64)}` as Digest;

describe('planBlobs', () => {
  const need = (c: string, size?: number): BlobNeed => ({ digest: d(c), size });

  it('fetches each missing blob once and reuses present ones', () => {
    const present = new Set([d('2')]);
    const plan = planBlobs([need('1', 100), need('2', 50), need('1', 100), need('3', 7), need('2', 50)], (n) =>
      present.has(n.digest),
    );
    expect(plan.fetch).toEqual([need('1', 100), need('3', 7)]);
    expect(plan.reuse).toEqual([need('2', 50)]);
    expect(plan.bytesToFetch).toBe(107);
  });

  it('counts unknown sizes (schema1) as zero bytes to fetch', () => {
    expect(planBlobs([need('1'), need('2', 5)], () => false).bytesToFetch).toBe(5);
  });

  it('asks about each distinct blob once', () => {
    const asked: Digest[] = [];
    planBlobs([need('1'), need('1'), need('2')], (n) => {
      asked.push(n.digest);
      return false;
    });
    expect(asked).toEqual([d('1'), d('2')]);
  });

  it('property: fetch and reuse partition the distinct digests', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('1', '2', '3', '4', '5'), fc.nat(1000))),
        fc.func(fc.boolean()),
        (raw, present) => {
          const needs = raw.map(([c, size]) => need(c, size));
          const plan = planBlobs(needs, present);
          const all = [...plan.fetch, ...plan.reuse].map((n) => n.digest);
          expect(new Set(all).size).toBe(all.length);
          expect(new Set(all)).toEqual(new Set(needs.map((n) => n.digest)));
          expect(plan.bytesToFetch).toBe(plan.fetch.reduce((sum, n) => sum + (n.size ?? 0), 0));
        },
      ),
    );
  });
});

const KiB = 1024;
const SPEC = fixtureSpec({
  seed: 'sync-plan',
  repos: 2,
  candidateRepos: 1,
  tagsPerRepo: 3,
  baseBytes: 16 * KiB,
  repoBytes: 4 * KiB,
  tagBytes: 1 * KiB,
});

/** tag -> [verdict, why] of one repository's plan. */
function verdicts(plan: SyncPlan, repository: string): Record<string, [string, string]> {
  const repo = plan.repositories.find((r) => r.name === repository)!;
  return Object.fromEntries(repo.tags.map((t) => [t.tag, [t.verdict, t.why]]));
}

describe('planSync from a fake source', () => {
  let work: string;
  let source: FakeSource;
  let images: GeneratedImages;
  let config: Config;
  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'blobmirror-plan-'));
    ({ source, images } = await FakeSource.fromSpec(SPEC));
    config = await fakeSourceConfig(work, 'plan', { tags: { exclude: ['^latest$'], keepNewest: 2 } });
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('a first run: selected tags are new, the others filtered by the rule that left them out', async () => {
    const { plan } = await planRun(config, source);
    expect(plan.repositories.map((r) => r.name)).toEqual(['stable/app-1', 'stable/app-2']);
    expect(verdicts(plan, 'stable/app-1')).toEqual({
      '1.0': ['filtered', 'tags.keepNewest 2 (older version)'],
      '1.1': ['new', 'not published before'],
      '1.2': ['new', 'not published before'],
      latest: ['filtered', 'tags.exclude ^latest$'],
    });
    expect(plan.generation).toMatchObject({ base: undefined, publish: true, why: 'first generation' });
    // Nothing was written: planning reads only.
    await expect(stat(path.dirname(config.storage.tree))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('plans each needed blob once, and a link for it in every repository that has it', async () => {
    const { plan } = await planRun(config, source);
    const tagged = (repo: string) => ['1.1', '1.2'].map((tag) => images.repositories[repo]!.tags[tag]!);
    expect(plan.blobs.reuse).toEqual([]);
    const fetched = new Set(plan.blobs.fetch.map((b) => b.digest));
    expect(fetched.size).toBe(plan.blobs.fetch.length);
    for (const repo of ['stable/app-1', 'stable/app-2']) {
      const links = plan.links.filter((l) => l.repository === repo);
      for (const link of links) {
        expect(link.path).toBe(`${repo}/_blobs/sha256/${link.digest.slice(7)}`);
        expect(fetched.has(link.digest)).toBe(true);
      }
      // Each blob of the repository's two selected tags, and the tags' manifests are not blobs.
      expect(links.length).toBeGreaterThan(0);
      for (const manifest of tagged(repo)) expect(links.some((l) => l.digest === manifest)).toBe(false);
    }
    // The shared base is fetched once but linked into both repositories.
    const shared = plan.links.filter((l) =>
      plan.links.some((o) => o.digest === l.digest && o.repository !== l.repository),
    );
    expect(shared.length).toBeGreaterThan(0);
  });

  it('after a sync: unchanged tags, nothing to fetch or link, no new generation', async () => {
    expect((await runSync(config, source)).result).toBe('ok');
    const { plan } = await planRun(config, source);
    expect(verdicts(plan, 'stable/app-2')['1.2']).toEqual(['unchanged', 'same digest']);
    expect(plan.blobs).toEqual({ fetch: [], reuse: [], bytesToFetch: 0 });
    expect(plan.links).toEqual([]);
    expect(plan.generation.publish).toBe(false);
    expect(plan.generation.why).toMatch(/^nothing changed since generation \d+$/);
  });

  it('says why: a moved tag, a deleted one, one no longer selected, one whose HEAD failed', async () => {
    const moved = images.repositories['stable/app-2']!.tags['1.2']!;
    source.setTag('stable/app-1', '1.2', moved);
    source.deleteTag('stable/app-1', '1.1');
    source.intercept = (call) => {
      if (call.method === 'headManifest' && call.repository === 'stable/app-2' && call.reference === '1.2')
        throw new RegistryError('HEAD answered 503', { status: 503 });
    };
    try {
      const narrower = { ...config, tags: { ...config.tags, exclude: ['^latest$', '^1\\.[01]$'] } };
      const { plan, summary } = await planRun(narrower, source);
      const before = images.repositories['stable/app-1']!.tags['1.2']!;
      expect(verdicts(plan, 'stable/app-1')).toMatchObject({
        '1.0': ['filtered', 'tags.exclude ^1\\.[01]$'],
        '1.1': ['removed', 'no longer in the source'],
        '1.2': ['changed', `moved from ${before}`],
      });
      expect(verdicts(plan, 'stable/app-2')).toMatchObject({
        '1.1': ['removed', 'no longer selected: tags.exclude ^1\\.[01]$'],
        '1.2': ['failed', 'HEAD failed: kept as published'],
      });
      // The moved tag's image is already in the store (app-2 has it): reused, linked under app-1.
      expect(plan.blobs.fetch).toEqual([]);
      expect(plan.blobs.reuse.length).toBeGreaterThan(0);
      expect(new Set(plan.links.map((l) => l.repository))).toEqual(new Set(['stable/app-1']));
      expect(plan.generation).toMatchObject({ publish: true, why: '3 tag change(s)' });
      expect(summary).toMatchObject({ dryRun: true, result: 'partial', blobs: { toFetch: 0 } });
    } finally {
      source.intercept = undefined;
    }
  });

  it('a --repo plan carries the other published repositories over', async () => {
    const { plan } = await planRun(config, source, {}, { repositories: ['stable/app-2'] });
    expect(plan.repositories.map((r) => r.name)).toEqual(['stable/app-2']);
    expect(plan.generation).toMatchObject({
      targeted: true,
      carried: [{ name: 'stable/app-1', why: 'not in --repo: kept as published' }],
      dropped: [],
    });
  });
});

describe('planSync over a tree published in metadata format 1 (the upgrade)', () => {
  let work: string;
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('plans a new generation though nothing changed, saying why; the sync after it is a no-op', async () => {
    work = await mkdtemp(path.join(tmpdir(), 'blobmirror-plan-upgrade-'));
    const { source } = await FakeSource.fromSpec(SPEC);
    const config = await fakeSourceConfig(work, 'plan');
    expect((await runSync(config, source)).result).toBe('ok');
    await rewriteAsFormat1(config.storage.metadata);

    const { plan } = await planRun(config, source);
    expect(plan.generation).toMatchObject({
      publish: true,
      why: 'generation 0000000001 is metadata format 1: written again in format 2',
    });
    expect((await runSync(config, source)).published).toBe(true);
    expect((await planRun(config, source)).plan.generation).toMatchObject({ publish: false });
  });
});
